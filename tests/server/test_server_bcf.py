"""BCF routes and the database round trip (SQLite and PostgreSQL, see conftest.py)."""

from __future__ import annotations

import io
import math
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sync_factories import PNG, annotation_body, auth, new_op, viewpoint

from arinspect.exchange.bcf import read_bcf
from arinspect_server.app import create_app
from arinspect_server.config import Settings
from arinspect_server.routes import bcf as bcf_routes
from arinspect_server.services.bcf_mapping import IFC_ALPHABET, part_ifc_guid

sys.path.insert(0, str(Path(__file__).parents[1] / "exchange"))
from bcf_helpers import assert_valid_v3, case  # noqa: E402


def bcf_app(settings: Settings):
    """The app with the BCF router (included here until app.py registers it)."""
    app = create_app(settings)
    if not any(getattr(r, "path", "") == "/api/sections/{section_id}/bcf" for r in app.routes):
        app.include_router(bcf_routes.router)
    return app


@pytest.fixture
def client(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(bcf_app(settings)) as test_client:
        yield test_client


def _upload(client, section, token, data, name="case.bcf"):
    return client.post(
        f"/api/sections/{section}/bcf",
        headers=auth(token),
        files={"file": (name, data, "application/octet-stream")},
    )


def _state(client, section, token):
    annotations = client.get(f"/api/sections/{section}/annotations", headers=auth(token)).json()
    head = client.get(f"/api/sections/{section}", headers=auth(token)).json()["head_seq"]
    return len(annotations), head


def test_part_ifc_guid_is_deterministic_and_valid():
    guid = part_ifc_guid("blk-2", "COL-F1-L2")
    assert guid == part_ifc_guid("blk-2", "COL-F1-L2") != part_ifc_guid("blk-3", "COL-F1-L2")
    assert len(guid) == 22 and set(guid) <= set(IFC_ALPHABET) and guid[0] in "0123"


def test_export_of_our_annotation(client, section, tokens):
    base = f"/api/sections/{section}/annotations"
    created = client.post(
        base,
        json=annotation_body(
            viewpoint=viewpoint(), labels=["weld"], priority="high", assignee="wim"
        ),
        headers=auth(tokens["worker"]),
    ).json()["data"]
    url = f"{base}/{created['id']}"
    snap = client.post(
        url + "/attachments",
        headers=auth(tokens["worker"]),
        data={"op_id": new_op(), "kind": "snapshot"},
        files={"file": ("snap.png", PNG, "image/png")},
    ).json()["data"]
    view = viewpoint() | {"snapshot_attachment_id": snap["id"]}
    client.patch(
        url,
        json={"op_id": new_op(), "base_version": 1, "viewpoint": view, "status": "in_progress"},
        headers=auth(tokens["worker"]),
    )
    client.post(
        url + "/comments",
        json={"op_id": new_op(), "text": "plate is on the rack"},
        headers=auth(tokens["qa"]),
    )
    answer = client.get(f"/api/sections/{section}/bcf", headers=auth(tokens["qa"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert 'filename="blk-2.bcf"' in answer.headers["content-disposition"]
    names = assert_valid_v3(answer.content)
    assert f"{created['id']}/anchor.json" in names
    topic = read_bcf(answer.content).topics[0]
    assert (topic.guid, topic.title, topic.topic_type, topic.topic_status) == (
        created["id"],
        "collar plate missing",
        "defect",
        "in_progress",
    )
    assert (topic.priority, topic.assigned_to, topic.labels) == ("high", "wim", ["weld"])
    assert [(c.author, c.text) for c in topic.comments] == [("quinn", "plate is on the rack")]
    component = topic.viewpoints[0].selection[0]
    assert component.ifc_guid == part_ifc_guid("blk-2", "COL-F1-L2")
    assert (component.originating_system, component.authoring_tool_id) == ("arinspect", "COL-F1-L2")
    camera = topic.viewpoints[0].camera
    assert camera.view_point == (2.0, 0.5, 1.5) and camera.direction == (0.0, 0.0, -1.0)
    assert camera.up_vector == (0.0, 1.0, 0.0)
    assert camera.field_of_view_deg == pytest.approx(math.degrees(2 * math.atan(240 / 600)))
    assert camera.aspect_ratio == pytest.approx(4 / 3)
    assert topic.viewpoints[0].snapshot == PNG
    assert topic.bim_snippet.snippet_type == "arinspect-anchor"


def test_round_trip_of_our_export_into_a_new_database(client, section, tokens, tmp_path):
    base = f"/api/sections/{section}/annotations"
    created = client.post(
        base, json=annotation_body(viewpoint=viewpoint()), headers=auth(tokens["worker"])
    ).json()["data"]
    exported = client.get(f"/api/sections/{section}/bcf", headers=auth(tokens["qa"])).content
    other = Settings(db_url=f"sqlite:///{tmp_path / 'other.db'}")
    from sync_factories import make_tokens

    other_tokens = make_tokens(other.db_url)
    with TestClient(bcf_app(other)) as second:
        second.post(
            "/api/sections",
            json={"id": "blk-2", "name": "Block 2"},
            headers=auth(other_tokens["engineer"]),
        )
        answer = _upload(second, "blk-2", other_tokens["qa"], exported)
        assert answer.status_code == 201, answer.text
        imported = second.get(f"{base}/{created['id']}", headers=auth(other_tokens["qa"])).json()
    assert imported["part_id"] == "COL-F1-L2"
    assert imported["anchor"] == created["anchor"]
    assert imported["kind"] == "defect" and imported["title"] == "collar plate missing"
    np.testing.assert_allclose(
        imported["viewpoint"]["T_section_cam"], viewpoint()["T_section_cam"], atol=1e-12
    )


@pytest.mark.parametrize(
    "name",
    [
        "Visualization__Component_selection",
        "Markup__Milestone",
        "Markup__Document_reference_internal",
    ],
)
def test_import_official_case_then_export(client, section, tokens, name):
    data = case(name).read_bytes()
    worker = _upload(client, section, tokens["worker"], data)
    assert worker.status_code == 403
    answer = _upload(client, section, tokens["qa"], data)
    assert answer.status_code == 201, answer.text
    result = answer.json()
    original = read_bcf(data)
    assert result["data"]["created"] == [t.guid for t in original.topics]
    events = client.get(
        f"/api/sections/{section}/events?since=0", headers=auth(tokens["qa"])
    ).json()["events"]
    assert [e["seq"] for e in events] == result["seqs"]
    assert {e["op_id"] for e in events} == {result["op_id"]}
    assert events[0]["entity"] == "annotation" and events[0]["id"] == original.topics[0].guid
    assert sum(e["entity"] == "comment" for e in events) == sum(
        len(t.comments) for t in original.topics
    )
    again = _upload(client, section, tokens["engineer"], data)
    assert again.status_code == 200 and again.json()["data"]["created"] == []
    assert again.json()["data"]["skipped"] == [t.guid for t in original.topics]
    replay = _upload(client, section, tokens["qa"], data)
    assert replay.json()["replayed"] is True and replay.json()["seqs"] == result["seqs"]
    listed = client.get(f"/api/sections/{section}/annotations", headers=auth(tokens["qa"]))
    assert listed.status_code == 200
    rows = listed.json()
    assert [r["part_id"] for r in rows] == [None] * len(original.topics)
    assert [r["anchor"] for r in rows] == [None] * len(original.topics)
    exported = client.get(f"/api/sections/{section}/bcf", headers=auth(tokens["qa"])).content
    assert_valid_v3(exported)
    back = read_bcf(exported).topics[0]
    first = original.topics[0]
    assert (back.guid, back.title, back.topic_type, back.topic_status, back.stage) == (
        first.guid,
        first.title,
        first.topic_type,
        first.topic_status,
        first.stage,
    )
    assert [(c.guid, c.author, c.text, c.date) for c in back.comments] == [
        (c.guid, c.author, c.text, c.date) for c in first.comments
    ]
    assert [[c.ifc_guid for c in v.selection + v.exceptions] for v in back.viewpoints] == [
        [c.ifc_guid for c in v.selection + v.exceptions] for v in first.viewpoints
    ]
    assert [v.snapshot for v in back.viewpoints] == [v.snapshot for v in first.viewpoints]


def test_import_keeps_original_strings_until_changed(client, section, tokens):
    data = case("Markup__Milestone").read_bytes()
    guid = _upload(client, section, tokens["qa"], data).json()["data"]["created"][0]
    stored = client.get(
        f"/api/sections/{section}/annotations/{guid}", headers=auth(tokens["qa"])
    ).json()
    assert (stored["kind"], stored["status"], stored["title"]) == ("defect", "open", "Milestone")
    patched = client.patch(
        f"/api/sections/{section}/annotations/{guid}",
        json={"op_id": new_op(), "base_version": 1, "status": "in_progress"},
        headers=auth(tokens["qa"]),
    )
    assert patched.status_code == 200, patched.text
    topic = read_bcf(
        client.get(f"/api/sections/{section}/bcf", headers=auth(tokens["qa"])).content
    ).topics[0]
    assert (topic.topic_type, topic.topic_status, topic.stage) == (
        "Error",
        "in_progress",
        "February",
    )
    assert topic.creation_author == "Architect@example.com"
    assert topic.modified_author == "quinn"


def _hostile(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if kind == "traversal":
            archive.writestr("../escape/markup.bcf", b"<Markup/>")
        elif kind == "entities":
            archive.writestr(
                "5f0e6a52-4c51-4bd3-9c1c-0b0f4d1f1e01/markup.bcf",
                b'<!DOCTYPE m [<!ENTITY a "aaaa">]><Markup>&a;</Markup>',
            )
        else:
            bomb = b"\x00" * (20 << 20)
            archive.writestr("5f0e6a52-4c51-4bd3-9c1c-0b0f4d1f1e01/markup.bcf", bomb)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("traversal", "unsafe entry name"),
        ("entities", "forbidden XML construct"),
        ("bomb", "compression ratio"),
        ("notzip", "not a zip archive"),
    ],
)
def test_hostile_archive_is_refused_and_nothing_changes(client, section, tokens, kind, message):
    _upload(client, section, tokens["qa"], case("Markup__Labels").read_bytes())
    before = _state(client, section, tokens["qa"])
    data = b"not a zip at all" if kind == "notzip" else _hostile(kind)
    answer = _upload(client, section, tokens["qa"], data, "hostile.bcf")
    assert answer.status_code == 422
    assert "hostile.bcf" in answer.json()["detail"] and message in answer.json()["detail"]
    assert _state(client, section, tokens["qa"]) == before


def test_topic_guid_of_another_section_refuses_the_import(client, section, tokens):
    data = case("Markup__Labels").read_bytes()
    assert _upload(client, section, tokens["qa"], data).status_code == 201
    client.post(
        "/api/sections", json={"id": "blk-3", "name": "Block 3"}, headers=auth(tokens["engineer"])
    )
    answer = _upload(client, "blk-3", tokens["qa"], data)
    assert answer.status_code == 409 and "stored in section 'blk-2'" in answer.json()["detail"]
    assert _state(client, "blk-3", tokens["qa"]) == (0, 0)


def test_upload_size_limit(client, section, tokens, settings):
    big = b"PK" + b"\x00" * (settings.max_upload_bytes + 10)
    assert _upload(client, section, tokens["qa"], big).status_code == 413
