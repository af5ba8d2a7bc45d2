"""``arinspect serve``: run the annotation sync server (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import os

DEFAULT_DB = "sqlite:///arinspect.db"


def db_url(value: str | None) -> str:
    """A database URL from ``--db`` (a URL, or a path meaning a SQLite file) or the env."""
    value = value or os.environ.get("ARINSPECT_DB_URL") or DEFAULT_DB
    if "://" not in value:
        from pathlib import Path

        value = f"sqlite:///{Path(value).resolve()}"
    return value


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """The ``--db`` option shared by ``serve`` and ``token``."""
    parser.add_argument(
        "--db",
        default=None,
        help="database: sqlite:///FILE (or just FILE) or postgresql+psycopg://USER@HOST:PORT/DB "
        f"(default $ARINSPECT_DB_URL or {DEFAULT_DB})",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` verb."""
    parser = subparsers.add_parser(
        "serve",
        help="run the annotation sync server (REST + WebSocket)",
        description="Run the sync server: REST under /api, one WebSocket stream per section "
        "at /api/sections/ID/stream?since=SEQ, OpenAPI at /docs. Migrates the database "
        "first. Other settings come from ARINSPECT_* environment variables.",
    )
    add_db_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error"),
        help="uvicorn log level (default info)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the server and block until it stops."""
    import uvicorn
    from pydantic import ValidationError

    from arinspect.errors import ConfigError
    from arinspect_server.app import create_app
    from arinspect_server.config import Settings

    try:
        settings = Settings(db_url=db_url(args.db))
    except ValidationError as exc:
        raise ConfigError(str(exc.errors()[0]["msg"])) from exc
    app = create_app(settings)
    # No per-message deflate: compressing every event once per client costs more CPU than
    # the loopback/Wi-Fi bytes it saves at these message sizes (measured: bench_sync.py).
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                ws_per_message_deflate=False, timeout_graceful_shutdown=5)  # fmt: skip
    return 0
