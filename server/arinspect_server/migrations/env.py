"""Alembic environment: runs on the connection that `db.engine.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from arinspect_server.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through arinspect_server.db.engine.upgrade()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
