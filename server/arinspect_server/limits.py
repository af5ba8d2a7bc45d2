"""ASGI middleware that enforces body size limits and content types before routes run.

JSON routes take ``application/json`` bodies up to ``max_body_bytes``; upload routes
(``.../attachments``, ``.../runs``, ``.../model``, ``.../bcf``) take ``multipart/form-data`` up to
``max_upload_bytes``. A declared ``Content-Length`` over the limit is refused at once;
a chunked body is read up to the limit and refused beyond it.
"""

from __future__ import annotations

import json
from typing import Any

UPLOAD_SUFFIXES = ("/attachments", "/runs", "/model", "/bcf")
WRITE_METHODS = {"POST", "PUT", "PATCH"}


class LimitsMiddleware:
    """Size and content-type checks in front of the app."""

    def __init__(self, app: Any, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Check the request, then pass it on with a counting ``receive``."""
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        upload = scope["path"].rstrip("/").endswith(UPLOAD_SUFFIXES)
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        wanted = "multipart/form-data" if upload else "application/json"
        if content_type != wanted:
            await _answer(send, 415, f"this route takes {wanted}, got {content_type or 'none'}")
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _answer(send, 413, f"body of {length} bytes exceeds the limit of {limit} bytes")
            return
        chunks: list[bytes] = []
        received = 0
        while True:  # read the whole body first (bounded), so nothing half-parsed runs
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _answer(send, 413, f"body exceeds the limit of {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _answer(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],  # fmt: skip
        }
    )
    await send({"type": "http.response.body", "body": body})
