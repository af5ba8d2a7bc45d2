"""Fixtures of the sync-server tests: every API test runs on SQLite and on PostgreSQL.

PostgreSQL comes from a throw-away server (``initdb --auth=trust`` on a free loopback
port) started once per session. Without its binaries the PostgreSQL variants fail when
``CI`` is set and are skipped otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sync_factories import auth, make_tokens

from arinspect_server.app import create_app
from arinspect_server.config import Settings, sqlite_url
from arinspect_server.pgtemp import TempPostgres, find_bindir


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    if find_bindir() is None:
        message = "PostgreSQL binaries not found (install the Debian package postgresql)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    server = TempPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "sync.db")
        return
    server: TempPostgres = request.getfixturevalue("pg_server")
    url = server.create_schema()  # one schema per test: much faster than a database
    try:
        yield url
    finally:
        server.drop_schema(url)


@pytest.fixture
def tokens(db_url: str) -> dict[str, str]:
    return make_tokens(db_url)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        db_url=db_url, max_body_bytes=64 * 1024, max_upload_bytes=256 * 1024, poll_interval_s=0.2
    )


@pytest.fixture
def client(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def section(client: TestClient, tokens: dict[str, str]) -> str:
    answer = client.post(
        "/api/sections", json={"id": "blk-2", "name": "Block 2"}, headers=auth(tokens["engineer"])
    )
    assert answer.status_code == 201, answer.text
    return "blk-2"
