"""Helpers shared by the write routes."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from arinspect_server.services.context import OpResult
from arinspect_server.stream import Hub


def op_response(result: OpResult, hub: Hub) -> JSONResponse:
    """Hand the committed events to the hub and answer with the op's (stored) result."""
    hub.publish_threadsafe(result.events)
    return JSONResponse({**result.response, "replayed": result.replayed}, result.status_code)
