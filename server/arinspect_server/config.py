"""Settings of the sync server, read from ``ARINSPECT_*`` environment variables.

There is no module-level settings object: `create_app` takes a `Settings`, and routes
reach it through the `get_settings` dependency (overridden by `create_app`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one server process.

    Attributes:
        db_url: SQLAlchemy URL; ``sqlite:///path.db`` (default, WAL mode) or
            ``postgresql+psycopg://user@host:port/db``.
        max_body_bytes: Largest JSON request body accepted, bytes.
        max_upload_bytes: Largest upload (snapshot, voice note, report.json), bytes.
        stream_buffer_events: Events queued for one stream client before it is
            disconnected as stalled (it may reconnect with ``since``).
        catchup_page_events: Events per database page and per message during catch-up.
        poll_interval_s: Period of the safety poll of section heads (catches changes
            whose wake-up was missed, and checks the LISTEN connection), seconds.
    """

    model_config = SettingsConfigDict(env_prefix="ARINSPECT_", extra="ignore")

    db_url: str = "sqlite:///arinspect.db"
    max_body_bytes: int = Field(default=1 << 20, gt=0)
    max_upload_bytes: int = Field(default=20 << 20, gt=0)
    stream_buffer_events: int = Field(default=2000, gt=0)
    catchup_page_events: int = Field(default=1000, gt=0, le=10000)
    poll_interval_s: float = Field(default=1.0, gt=0)

    @field_validator("db_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                f"db_url must be sqlite:///FILE or postgresql+psycopg://..., got {value!r}"
            )
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.db_url.startswith("sqlite")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment (cached; `create_app` overrides this dependency)."""
    return Settings()
