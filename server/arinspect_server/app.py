"""The FastAPI application: `create_app(settings)` with a lifespan that opens storage.

The lifespan opens the database and runs the Alembic migrations, starts the stream hub
and, on PostgreSQL, the LISTEN thread that wakes the hub for changes written by other
processes. Exception handlers map the store's errors to HTTP answers with a clear
``detail`` message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url

from arinspect_server import __version__
from arinspect_server.config import Settings, get_settings
from arinspect_server.db.engine import Database
from arinspect_server.errors import (
    DuplicateError,
    ForbiddenError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    PayloadTooLargeError,
    StoreError,
    UnsupportedMediaTypeError,
)
from arinspect_server.limits import LimitsMiddleware
from arinspect_server.listener import PgListener
from arinspect_server.routes import annotations, bcf, runs, section_model, sections, stream
from arinspect_server.routes.viewer import mount_viewer
from arinspect_server.stream import Hub

log = logging.getLogger(__name__)

STATUS = {
    NotAuthenticatedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    DuplicateError: 409,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    InvalidInputError: 422,
}
DESCRIPTION = """Sync server of arinspect: sections, inspection runs, findings, annotations
(BCF 3.0 topics with comments and viewpoints), attachments, and one WebSocket stream per
section at `/api/sections/{section_id}/stream?since=SEQ` (messages: docs/sync-protocol.md).
Every route needs `Authorization: Bearer TOKEN` (from `arinspect token create`) except
`/api/health`. Every write carries a client-generated `op_id`; a retry is idempotent."""


class RedactTokens(logging.Filter):
    """Hide ``token=...`` query parameters (browser stream clients) in server log lines."""

    PATTERN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drops a record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


REDACT = RedactTokens()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing is opened until the lifespan starts.

    Args:
        settings: Configuration; default: from ``ARINSPECT_*`` environment variables.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name in ("uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).addFilter(REDACT)
        db = Database(settings.db_url)
        await anyio.to_thread.run_sync(db.migrate)
        hub = Hub(db, settings.stream_buffer_events, settings.catchup_page_events,
                  settings.poll_interval_s)  # fmt: skip
        await hub.start()
        listener = None
        if db.postgres:
            dsn = make_url(settings.db_url).set(drivername="postgresql")
            listener = PgListener(dsn.render_as_string(hide_password=False), hub, db.instance_id)
            listener.start()
        app.state.db, app.state.hub, app.state.listener = db, hub, listener
        try:
            yield
        finally:
            if listener is not None:
                await anyio.to_thread.run_sync(listener.stop)
            await hub.stop()
            db.dispose()

    app = FastAPI(title="arinspect sync server", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)  # fmt: skip
    app.dependency_overrides[get_settings] = lambda: settings
    app.add_middleware(LimitsMiddleware, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)  # fmt: skip
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for module in (sections, annotations, runs, section_model, bcf, stream):
        app.include_router(module.router)
    mount_viewer(app)
    return app


async def _store_error(_: Request, exc: Exception) -> JSONResponse:
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": str(exc)}, status, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    detail = "invalid request: " + "; ".join(parts) if parts else "invalid request"
    clean = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
             for e in errors]  # fmt: skip
    return JSONResponse({"detail": detail, "errors": clean}, 422)
