"""REST API: auth and roles, sections, annotations, idempotent ops, sequence numbers."""

from __future__ import annotations

import pytest
from sync_factories import ADMIN, anchor, annotation_body, auth, new_op, viewpoint

from arinspect_server.db.engine import Database
from arinspect_server.services.auth import revoke_tokens


def events(client, section, token, since=0):
    answer = client.get(
        f"/api/sections/{section}/events", params={"since": since}, headers=auth(token)
    )
    assert answer.status_code == 200
    return answer.json()["events"]


def test_health_needs_no_token_and_names_the_backend(client, db_url):
    answer = client.get("/api/health")
    assert answer.status_code == 200
    assert answer.json()["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_no_anonymous_access(client, section, header):
    headers = {"Authorization": header} if header else {}
    for method, path in [
        ("GET", f"/api/sections/{section}/annotations"),
        ("POST", f"/api/sections/{section}/annotations"),
        ("GET", "/api/me"),
    ]:
        answer = client.request(method, path, json=annotation_body(), headers=headers)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "token" in answer.json()["detail"]


def test_revoked_token_is_refused(client, db_url, tokens):
    assert client.get("/api/me", headers=auth(tokens["worker"])).json() == {
        "user": "wim",
        "role": "worker",
        "device": "hl2-07",
    }
    db = Database(db_url)
    assert revoke_tokens(db, ADMIN, user="wim", device="hl2-07") == 1
    db.dispose()
    answer = client.get("/api/me", headers=auth(tokens["worker"]))
    assert answer.status_code == 401
    assert answer.json()["detail"] == "token revoked"


def test_roles_are_checked(client, section, tokens):
    answer = client.post(
        "/api/sections", json={"id": "blk-3", "name": "B3"}, headers=auth(tokens["worker"])
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == "role worker may not do this; needs engineer"
    assert client.get("/api/audit", headers=auth(tokens["worker"])).status_code == 403
    assert client.get("/api/audit", headers=auth(tokens["qa"])).status_code == 200
    assert client.get("/api/stream/stats", headers=auth(tokens["worker"])).status_code == 403
    stats = client.get("/api/stream/stats", headers=auth(tokens["qa"])).json()
    assert stats == {"sections": {}, "stalled_disconnects": 0}


def test_section_create_is_idempotent_and_conflicting_names_are_refused(client, section, tokens):
    headers = auth(tokens["engineer"])
    again = client.post("/api/sections", json={"id": section, "name": "Block 2"}, headers=headers)
    assert again.status_code == 200
    other = client.post("/api/sections", json={"id": section, "name": "Other"}, headers=headers)
    assert other.status_code == 409
    listed = client.get("/api/sections", headers=auth(tokens["worker"])).json()
    assert [s["id"] for s in listed] == [section]


def test_create_annotation_stores_both_frames_and_bcf_fields(client, section, tokens):
    body = annotation_body(
        labels=["weld", "frame-1"], assignee="wim", priority="high", viewpoint=viewpoint()
    )
    answer = client.post(
        f"/api/sections/{section}/annotations", json=body, headers=auth(tokens["worker"])
    )
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["seqs"] == [1] and result["replayed"] is False
    data = result["data"]
    assert data["status"] == "open" and data["version"] == 1 and data["seq"] == 1
    assert data["anchor"]["point_part"] == pytest.approx([1.0, 0.5, 0.1])
    assert data["anchor"]["normal_part"] == pytest.approx([0.0, 0.0, 1.0])
    assert data["labels"] == ["weld", "frame-1"] and data["priority"] == "high"
    assert data["viewpoint"]["intrinsics"]["image_size_wh"] == [640, 480]
    assert len(data["viewpoint"]["guid"]) == 36
    fetched = client.get(
        f"/api/sections/{section}/annotations/{data['id']}", headers=auth(tokens["qa"])
    ).json()
    assert fetched["title"] == body["title"] and fetched["comments"] == []


def test_client_chosen_id_and_explicit_part_frame(client, section, tokens):
    chosen = "0b3c8f5e-8e0b-4a36-9b8e-1f0c7c1d2e3f"
    body = annotation_body(
        id=chosen,
        anchor={
            "point_section": [1, 1, 1],
            "normal_section": [0, 3, 0],
            "point_part": [0, 0, 0],
            "normal_part": [0, 0, 1],
        },
    )
    answer = client.post(
        f"/api/sections/{section}/annotations", json=body, headers=auth(tokens["worker"])
    )
    assert answer.status_code == 201
    assert answer.json()["data"]["id"] == chosen
    assert answer.json()["data"]["anchor"]["normal_section"] == [0.0, 1.0, 0.0]
    again = client.post(
        f"/api/sections/{section}/annotations",
        json={**body, "op_id": new_op()},
        headers=auth(tokens["worker"]),
    )
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


def test_retry_with_same_op_id_is_idempotent(client, section, tokens):
    body = annotation_body()
    first = client.post(
        f"/api/sections/{section}/annotations", json=body, headers=auth(tokens["worker"])
    )
    second = client.post(
        f"/api/sections/{section}/annotations", json=body, headers=auth(tokens["worker"])
    )
    assert first.status_code == second.status_code == 201
    assert second.json()["replayed"] is True
    assert second.json()["seqs"] == first.json()["seqs"] == [1]
    assert second.json()["data"]["id"] == first.json()["data"]["id"]
    assert len(events(client, section, tokens["qa"])) == 1
    assert (
        len(client.get(f"/api/sections/{section}/annotations", headers=auth(tokens["qa"])).json())
        == 1
    )
    stolen = client.post(
        f"/api/sections/{section}/annotations", json=body, headers=auth(tokens["worker2"])
    )
    assert stolen.status_code == 409
    assert "op_id" in stolen.json()["detail"]


def test_sequence_numbers_are_gap_free_across_kinds_of_change(client, section, tokens):
    headers = auth(tokens["worker"])
    created = client.post(
        f"/api/sections/{section}/annotations", json=annotation_body(), headers=headers
    ).json()["data"]
    base = f"/api/sections/{section}/annotations/{created['id']}"
    client.post(
        base + "/comments", json={"op_id": new_op(), "text": "seen at frame 2"}, headers=headers
    )
    client.patch(
        base, json={"op_id": new_op(), "base_version": 1, "status": "in_progress"}, headers=headers
    )
    # refused requests take no number
    client.patch(
        base, json={"op_id": new_op(), "base_version": 2, "status": "verified"}, headers=headers
    )
    client.post(f"/api/sections/{section}/annotations", json={"op_id": new_op()}, headers=headers)
    client.post(f"/api/sections/{section}/annotations", json=annotation_body(), headers=headers)
    seqs = [e["seq"] for e in events(client, section, tokens["qa"])]
    assert seqs == [1, 2, 3, 4]
    assert [e["entity"] for e in events(client, section, tokens["qa"])] == [
        "annotation",
        "comment",
        "annotation",
        "annotation",
    ]
    assert [e["seq"] for e in events(client, section, tokens["qa"], since=2)] == [3, 4]
    head = client.get(f"/api/sections/{section}", headers=headers).json()["head_seq"]
    assert head == 4


def test_list_filters(client, section, tokens):
    headers = auth(tokens["worker"])
    for kind, part in [("defect", "A"), ("note", "A"), ("note", "B")]:
        client.post(
            f"/api/sections/{section}/annotations",
            json=annotation_body(kind=kind, part_id=part),
            headers=headers,
        )
    url = f"/api/sections/{section}/annotations"
    assert len(client.get(url, params={"kind": "note"}, headers=headers).json()) == 2
    assert len(client.get(url, params={"part_id": "A"}, headers=headers).json()) == 2
    assert len(client.get(url, params={"status": "closed"}, headers=headers).json()) == 0
    assert client.get(url, params={"status": "bogus"}, headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "scribble"}, "body.kind"),
        (
            {"anchor": anchor(normal_section=[0, 0, 0])},
            "normal_section must not be the zero vector",
        ),
        (
            {
                "anchor": anchor(
                    T_section_part=[[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
                )
            },
            "T_section_part is not a rigid transform",
        ),
        (
            {"anchor": {"point_section": [0, 0, 0], "normal_section": [0, 0, 1]}},
            "give point_part and normal_part, or T_section_part",
        ),
        ({"title": ""}, "body.title"),
        ({"colour": "red"}, "body.colour: Extra inputs are not permitted"),
        ({"op_id": "x"}, "body.op_id"),
        (
            {
                "viewpoint": {
                    **viewpoint(),
                    "intrinsics": {
                        "K": [[0, 0, 0], [0, 1, 0], [0, 0, 1]],
                        "image_size_wh": [640, 480],
                    },
                }
            },
            "focal lengths",
        ),
    ],
)
def test_invalid_annotations_get_422_with_the_field(client, section, tokens, change, message):
    answer = client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(**change),
        headers=auth(tokens["worker"]),
    )
    assert answer.status_code == 422
    assert message in answer.json()["detail"]


def test_hostile_requests_get_clear_4xx_and_lose_nothing(client, section, tokens):
    headers = auth(tokens["worker"])
    url = f"/api/sections/{section}/annotations"
    kept = client.post(url, json=annotation_body(), headers=headers).json()["data"]
    bad_json = client.post(
        url,
        content=b'{"op_id": "12345678",',
        headers={**headers, "content-type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert "JSON" in bad_json.json()["detail"]
    too_big = client.post(
        url, content=b" " * (65 * 1024), headers={**headers, "content-type": "application/json"}
    )
    assert too_big.status_code == 413
    assert "exceeds the limit of 65536 bytes" in too_big.json()["detail"]
    wrong_type = client.post(
        url, content=b"<xml/>", headers={**headers, "content-type": "application/xml"}
    )
    assert wrong_type.status_code == 415
    assert wrong_type.json()["detail"] == "this route takes application/json, got application/xml"
    not_a_list = client.post(
        url, content=b"[1, 2]", headers={**headers, "content-type": "application/json"}
    )
    assert not_a_list.status_code == 422
    unknown = client.post("/api/sections/nope/annotations", json=annotation_body(), headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "section 'nope' not found"
    missing = client.patch(
        f"{url}/0b3c8f5e-0000-4a36-9b8e-1f0c7c1d2e3f",
        headers=headers,
        json={"op_id": new_op(), "base_version": 1, "title": "x"},
    )
    assert missing.status_code == 404
    assert "annotation '0b3c8f5e-0000-4a36-9b8e-1f0c7c1d2e3f' not found" in missing.json()["detail"]
    traversal = client.get(
        f"/api/sections/{section}/annotations/..%2F..%2Fetc%2Fpasswd", headers=headers
    )
    assert traversal.status_code == 404
    listed = client.get(url, headers=headers).json()
    assert [a["id"] for a in listed] == [kept["id"]]
    assert [e["seq"] for e in events(client, section, tokens["qa"])] == [1]


def test_annotations_match_the_published_json_schema(client, section, tokens):
    import json
    from pathlib import Path

    import jsonschema

    schema_path = Path(__file__).parents[2] / "annotations" / "annotation.schema.json"
    schema = json.loads(schema_path.read_text())
    body = annotation_body(viewpoint=viewpoint(), labels=["weld"])
    created = client.post(
        f"/api/sections/{section}/annotations", json=body, headers=auth(tokens["worker"])
    ).json()["data"]
    client.post(
        f"/api/sections/{section}/annotations/{created['id']}/comments",
        json={"op_id": new_op(), "text": "ok", "viewpoint": viewpoint()},
        headers=auth(tokens["qa"]),
    )
    fetched = client.get(
        f"/api/sections/{section}/annotations/{created['id']}", headers=auth(tokens["qa"])
    ).json()
    jsonschema.validate(fetched, schema)
    jsonschema.validate(created, schema)
