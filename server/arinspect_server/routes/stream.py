"""The WebSocket stream of a section: ``/api/sections/{section_id}/stream?since=SEQ``.

Messages are described in ``docs/sync-protocol.md``. The token comes in the
``Authorization: Bearer`` header or, for browsers, the ``token`` query parameter.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from arinspect_server import __version__
from arinspect_server.deps import HubDep, Reviewer, bearer_token
from arinspect_server.errors import NotAuthenticatedError, NotFoundError
from arinspect_server.services.auth import authenticate
from arinspect_server.services.sections import get_section
from arinspect_server.stream import OVERFLOW_CLOSE_CODE, Hub, Subscriber, run_sender

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["stream"])


@router.get("/stream/stats")
def stream_stats(_: Reviewer, hub: HubDep) -> dict[str, Any]:
    """This process's stream clients per section and stalled clients dropped (QA, engineer)."""
    return hub.stats()


@router.websocket("/sections/{section_id}/stream")
async def section_stream(websocket: WebSocket, section_id: str) -> None:
    """Everything after ``since`` in order, then live events (see docs/sync-protocol.md)."""
    db = websocket.app.state.db
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    token = bearer_token(websocket.headers.get("authorization"))
    token = token or websocket.query_params.get("token")
    try:
        since = int(websocket.query_params.get("since", "0"))
        if since < 0:
            raise ValueError
    except ValueError:
        await _refuse(websocket, 4400, "since must be a sequence number >= 0")
        return
    try:
        actor = await anyio.to_thread.run_sync(authenticate, db, token)
        section = await anyio.to_thread.run_sync(get_section, db, section_id)
    except NotAuthenticatedError as exc:
        await _refuse(websocket, 4401, str(exc))
        return
    except NotFoundError as exc:
        await _refuse(websocket, 4404, str(exc))
        return
    if since > section["head_seq"]:
        detail = (
            f"since={since} is ahead of the section's newest sequence number {section['head_seq']}"
        )
        await _refuse(websocket, 4400, detail)
        return
    subscriber = await hub.subscribe(section_id, since)
    try:
        await websocket.send_text(json.dumps({
            "type": "hello", "section_id": section_id, "since": since,
            "head_seq": section["head_seq"], "user": actor.user, "server": __version__,
        }))  # fmt: skip
        await _pump(websocket, hub, subscriber)
    finally:
        hub.unsubscribe(subscriber)


async def _pump(websocket: WebSocket, hub: Hub, subscriber: Subscriber) -> None:
    """Run the sender and the receiver until the client goes or stalls (anyio tasks)."""
    async with anyio.create_task_group() as group:

        async def send_all() -> None:
            try:
                await run_sender(websocket.send_text, hub, subscriber)
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                log.debug("stream client of %s gone (%r)", subscriber.section_id, exc)
            group.cancel_scope.cancel()

        async def receive_all() -> None:
            await _drain_incoming(websocket)
            group.cancel_scope.cancel()

        subscriber.on_overflow.append(group.cancel_scope.cancel)
        group.start_soon(send_all)
        group.start_soon(receive_all)
    if subscriber.overflowed:
        hub.unsubscribe(subscriber)  # at once: it gets nothing more (unsubscribe is idempotent)
        hub.stalled_disconnects += 1
        log.info("stream client of %s stalled; disconnecting", subscriber.section_id)
        reason = f"send buffer overflow; reconnect with since={subscriber.next_seq - 1}"
        with anyio.move_on_after(0.5):
            try:
                await websocket.close(OVERFLOW_CLOSE_CODE, reason)
            except (RuntimeError, WebSocketDisconnect):
                pass


async def _drain_incoming(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it disconnects."""
    while True:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return


async def _refuse(websocket: WebSocket, code: int, detail: str) -> None:
    await websocket.send_text(json.dumps({"type": "error", "code": code, "detail": detail}))
    await websocket.close(code, detail[:120])
