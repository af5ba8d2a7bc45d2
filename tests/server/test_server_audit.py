"""The append-only audit log, and the migrations matching the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sync_factories import annotation_body, auth, new_op

from arinspect_server.db.engine import Database
from arinspect_server.db.models import Base


def test_every_change_is_audited_with_user_device_and_seq(client, section, tokens):
    created = client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(),
        headers=auth(tokens["worker"]),
    ).json()
    aid = created["data"]["id"]
    op_id = new_op()
    client.patch(
        f"/api/sections/{section}/annotations/{aid}",
        headers=auth(tokens["qa"]),
        json={"op_id": op_id, "base_version": 1, "status": "closed"},
    )
    rows = client.get(
        "/api/audit", params={"section_id": section}, headers=auth(tokens["qa"])
    ).json()
    assert [(r["action"], r["user"], r["role"], r["device"], r["seq"]) for r in rows] == [
        ("section.created", "eve", "engineer", "desk-2", None),
        ("annotation.created", "wim", "worker", "hl2-07", 1),
        ("annotation.updated", "quinn", "qa", "desk-1", 2),
    ]
    assert rows[2]["op_id"] == op_id and rows[2]["detail"]["status"] == "closed"
    everything = client.get("/api/audit", headers=auth(tokens["engineer"])).json()
    assert [r["action"] for r in everything[:2]] == ["user.created", "token.created"]
    later = client.get(
        "/api/audit",
        params={"after_id": rows[1]["id"], "section_id": section},
        headers=auth(tokens["qa"]),
    ).json()
    assert [r["seq"] for r in later] == [2]


@pytest.mark.parametrize("table", ["audit_log", "events"])
def test_append_only_tables_refuse_update_and_delete(client, section, tokens, db_url, table):
    client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(),
        headers=auth(tokens["worker"]),
    )
    db = Database(db_url)
    try:
        for statement in (f"UPDATE {table} SET op_id = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"), db.write() as session:
                session.execute(text(statement))
        with db.read() as session:
            assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar() >= 1
    finally:
        db.dispose()


def test_migrations_match_the_models(client, db_url):
    db = Database(db_url)
    try:
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
    finally:
        db.dispose()
