"""Engine set-up for SQLite (WAL, ``BEGIN IMMEDIATE`` for writes) and PostgreSQL.

Write transactions take the section's counter row first: on PostgreSQL with
``SELECT ... FOR UPDATE``, on SQLite by starting with ``BEGIN IMMEDIATE`` (one writer
at a time, readers go on in WAL mode). Both give commit order = sequence order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 727_0001  # pg_advisory_xact_lock key: one migrating process at a time
_IMMEDIATE = "arinspect_immediate"


def make_engine(url: str) -> Engine:
    """Create the engine of ``url`` with the per-backend settings.

    Args:
        url: ``sqlite:///FILE`` or ``postgresql+psycopg://...``.

    Returns:
        The engine; SQLite files get WAL mode, ``synchronous=FULL`` (an acknowledged
        change survives a crash), foreign keys and a 30 s busy timeout.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30.0}, pool_size=8
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:  # noqa: ANN001
    immediate = conn.get_execution_options().get(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_postgres(engine: Engine) -> bool:
    """Whether the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


class Database:
    """The engine plus session factories for reads and for writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.instance_id = uuid.uuid4().hex[:12]  # names this process's NOTIFYs
        self.engine = make_engine(url)
        self.postgres = is_postgres(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self._write = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (rolled back at the end)."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self._write() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe with parallel starts)."""
        upgrade(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        if is_postgres(engine):
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    log.info("database schema at %s (%s)", revision, engine.url.render_as_string())
