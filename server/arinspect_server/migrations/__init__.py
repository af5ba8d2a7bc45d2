"""Alembic migrations of the sync server (run at start-up by `db.engine.upgrade`)."""
