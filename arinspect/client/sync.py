"""`SyncClient`: queued writes, REST catch-up and the WebSocket stream of a section."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from arinspect.client.offline_queue import OfflineQueue, QueuedOp
from arinspect.client.replica import Replica
from arinspect.errors import ArInspectError

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 425, 429}


class SyncError(ArInspectError):
    """The server refused a direct (unqueued) request; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"server answered {status}: {detail}")


@dataclass
class FlushReport:
    """What one `SyncClient.flush` did."""

    sent: list[QueuedOp] = field(default_factory=list)
    rejected: list[QueuedOp] = field(default_factory=list)
    remaining: int = 0
    offline: bool = False


class SyncClient:
    """A headset's or desk's connection to the sync server.

    Args:
        base_url: e.g. ``http://127.0.0.1:8765``.
        token: Bearer token (``arinspect token create``).
        state_dir: Folder of the offline queue and stream positions.
        http: An ``httpx.Client``-like object to use instead of a new one (tests pass
            FastAPI's TestClient here).
        timeout_s: Request timeout, seconds.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        state_dir: str | Path,
        *,
        http: Any = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.queue = OfflineQueue(state_dir)
        self.headers = {"Authorization": f"Bearer {token}"}
        self._own_http = http is None
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self.replicas: dict[str, Replica] = {}

    def close(self) -> None:
        """Close the HTTP connection (the queue is already on disk)."""
        if self._own_http:
            self.http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- queued writes ------------------------------------------------------------------

    def create_annotation(
        self,
        section_id: str,
        *,
        part_id: str,
        kind: str,
        title: str,
        anchor: dict[str, Any],
        flush: bool = True,
        **fields: Any,
    ) -> str:
        """Queue a new annotation; returns its id (chosen here, so later ops can use it)."""
        annotation_id = str(fields.pop("id", None) or uuid.uuid4())
        body = {
            "id": annotation_id,
            "part_id": part_id,
            "kind": kind,
            "title": title,
            "anchor": anchor,
            **fields,
        }
        self.queue.add("POST", f"/api/sections/{section_id}/annotations", body)
        self._maybe_flush(flush)
        return annotation_id

    def update_annotation(
        self,
        section_id: str,
        annotation_id: str,
        *,
        base_version: int | None = None,
        flush: bool = True,
        **fields: Any,
    ) -> str:
        """Queue a change on top of ``base_version`` (default: the replica's); returns op id."""
        if base_version is None:
            known = self.replica(section_id).annotations.get(annotation_id)
            base_version = int(known["version"]) if known else 1
        body = {"base_version": base_version, **fields}
        op = self.queue.add(
            "PATCH", f"/api/sections/{section_id}/annotations/{annotation_id}", body
        )
        self._maybe_flush(flush)
        return op.op_id

    def add_comment(
        self,
        section_id: str,
        annotation_id: str,
        text: str,
        *,
        viewpoint: dict[str, Any] | None = None,
        flush: bool = True,
    ) -> str:
        """Queue a comment; returns its id."""
        comment_id = str(uuid.uuid4())
        body: dict[str, Any] = {"id": comment_id, "text": text}
        if viewpoint is not None:
            body["viewpoint"] = viewpoint
        path = f"/api/sections/{section_id}/annotations/{annotation_id}/comments"
        self.queue.add("POST", path, body)
        self._maybe_flush(flush)
        return comment_id

    def add_attachment(
        self,
        section_id: str,
        annotation_id: str,
        kind: str,
        data: bytes,
        filename: str,
        content_type: str,
        *,
        flush: bool = True,
    ) -> str:
        """Queue a snapshot or voice note (bytes kept in the queue folder); returns op id."""
        path = f"/api/sections/{section_id}/annotations/{annotation_id}/attachments"
        op = self.queue.add(
            "POST", path, {"kind": kind}, blob=data, filename=filename, content_type=content_type
        )
        self._maybe_flush(flush)
        return op.op_id

    def upload_run(
        self, section_id: str, report: bytes, filename: str = "report.json", *, flush: bool = True
    ) -> str:
        """Queue an inspection's ``report.json`` (bytes) as a run of the section; returns op id.

        The server turns every part not ``present`` into a finding of the run.
        """
        op = self.queue.add(
            "POST",
            f"/api/sections/{section_id}/runs",
            {},
            blob=report,
            filename=filename,
            content_type="application/json",
        )
        self._maybe_flush(flush)
        return op.op_id

    def _maybe_flush(self, flush: bool) -> None:
        if flush:
            self.flush()

    def flush(self) -> FlushReport:
        """Send queued operations in order until done or the server is unreachable.

        2xx: acknowledged (removed). 4xx (but 401, 408, 425, 429): rejected, kept in
        the queue's rejected list with the server's answer. 401, 5xx, timeouts and
        network errors: stop, keep the op, try again on the next flush.
        """
        report = FlushReport()
        for op in self.queue.pending():
            try:
                response = self._send(op)
            except httpx.TransportError as exc:
                log.info("offline (%s); %d ops stay queued", exc, len(self.queue.pending()))
                report.offline = True
                break
            status = response.status_code
            if 200 <= status < 300:
                op.result = response.json()
                self.queue.done(op.op_id)
                report.sent.append(op)
            elif 400 <= status < 500 and status != 401 and status not in RETRY_STATUS:
                self.queue.reject(op.op_id, {"status": status, **_json_or_text(response)})
                report.rejected.append(op)
            else:
                log.warning("server answered %d; %s stays queued", status, op.op_id)
                break
        report.remaining = len(self.queue.pending())
        return report

    def _send(self, op: QueuedOp) -> Any:
        url = self._url(op.path)
        if op.upload is None:
            return self.http.request(op.method, url, json=op.body, headers=self.headers)
        files = {"file": (op.upload["filename"], self.queue.blob(op), op.upload["content_type"])}
        data = {**op.body, "op_id": op.op_id}
        return self.http.request(op.method, url, data=data, files=files, headers=self.headers)

    def _url(self, path: str) -> str:
        return path if not self._own_http else self.base_url + path

    # --- direct requests ----------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A direct request; returns the decoded JSON answer or raises `SyncError`."""
        response = self.http.request(method, self._url(path), headers=self.headers, **kwargs)
        if response.status_code >= 400:
            raise SyncError(response.status_code, _json_or_text(response).get("detail", ""))
        return response.json()

    def create_section(self, section_id: str, name: str, description: str = "") -> dict:
        """Register a section (engineer); harmless if it exists with the same name."""
        body = {"id": section_id, "name": name, "description": description}
        return self.request("POST", "/api/sections", json=body)

    def annotations(self, section_id: str, **filters: str) -> list[dict[str, Any]]:
        """The server's annotations of a section."""
        return self.request("GET", f"/api/sections/{section_id}/annotations", params=filters)

    # --- catching up --------------------------------------------------------------------

    def replica(self, section_id: str) -> Replica:
        """This client's local copy of a section."""
        return self.replicas.setdefault(section_id, Replica(section_id))

    def pull(self, section_id: str, page: int = 1000) -> int:
        """Fetch missed events over REST into the replica; returns how many were new."""
        replica = self.replica(section_id)
        new = 0
        while True:
            answer = self.request(
                "GET",
                f"/api/sections/{section_id}/events",
                params={"since": replica.last_seq, "limit": page},
            )
            new += replica.apply_all(answer["events"])
            if len(answer["events"]) < page:
                return new

    async def stream(
        self,
        section_id: str,
        *,
        since: int | None = None,
        reconnect: bool = True,
        max_backoff_s: float = 2.0,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the section's events in order, resuming after disconnects.

        Starts after ``since`` (default: the replica's position); every event goes into
        the replica and moves the stored position. Control messages (``hello``,
        ``caught_up``) are yielded too, with their ``type``.
        """
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        replica = self.replica(section_id)
        if since is not None and since > replica.last_seq:
            replica.last_seq = since
        ws_url = self.base_url.replace("http", "ws", 1) + f"/api/sections/{section_id}/stream"
        backoff = 0.05
        while True:
            try:
                async with connect(
                    f"{ws_url}?since={replica.last_seq}",
                    additional_headers=self.headers,
                    max_size=None,
                    open_timeout=5,
                ) as websocket:
                    backoff = 0.05
                    async for raw in websocket:
                        message = json.loads(raw)
                        if message["type"] == "events":
                            for event in message["events"]:
                                if replica.apply(event):
                                    yield event
                            self.queue.set_position(section_id, replica.last_seq)
                        elif message["type"] == "error":
                            raise SyncError(int(message["code"]) - 4000, message["detail"])
                        else:
                            yield message
            except (TimeoutError, OSError, WebSocketException) as exc:
                if not reconnect:
                    raise
                log.info("stream of %s lost (%s); reconnecting", section_id, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)


def _json_or_text(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"detail": response.text}
    return data if isinstance(data, dict) else {"detail": data}
