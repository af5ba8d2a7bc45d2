"""Attachments (snapshots, voice notes) and inspection runs: checks before storing."""

from __future__ import annotations

import json

import pytest
from sync_factories import PNG, WAV, annotation_body, auth, new_op


@pytest.fixture
def annotation_url(client, section, tokens):
    answer = client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(kind="voice"),
        headers=auth(tokens["worker"]),
    )
    return f"/api/sections/{section}/annotations/{answer.json()['data']['id']}"


def upload(client, url, token, name, data, content_type, kind="snapshot", op_id=None):
    return client.post(
        url,
        data={"op_id": op_id or new_op(), "kind": kind},
        files={"file": (name, data, content_type)},
        headers=auth(token),
    )


def test_snapshot_and_voice_round_trip(client, tokens, annotation_url):
    token = tokens["worker"]
    snap = upload(client, annotation_url + "/attachments", token, "snap.png", PNG, "image/png")
    assert snap.status_code == 201, snap.text
    voice = upload(
        client,
        annotation_url + "/attachments",
        token,
        "note 1.wav",
        WAV,
        "audio/x-wav",
        kind="voice",
    )
    assert voice.status_code == 201, voice.text
    assert voice.json()["data"]["content_type"] == "audio/wav"
    listed = client.get(annotation_url + "/attachments", headers=auth(tokens["qa"])).json()
    assert [a["kind"] for a in listed] == ["snapshot", "voice"]
    fetched = client.get(f"/api/attachments/{snap.json()['data']['id']}", headers=auth(token))
    assert fetched.content == PNG and fetched.headers["content-type"] == "image/png"
    assert client.get("/api/attachments/nope", headers=auth(token)).status_code == 404


def test_upload_retry_is_idempotent(client, tokens, annotation_url):
    op_id = new_op()
    first = upload(
        client,
        annotation_url + "/attachments",
        tokens["worker"],
        "a.png",
        PNG,
        "image/png",
        op_id=op_id,
    )
    again = upload(
        client,
        annotation_url + "/attachments",
        tokens["worker"],
        "a.png",
        PNG,
        "image/png",
        op_id=op_id,
    )
    assert again.json()["replayed"] is True
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert len(client.get(annotation_url + "/attachments", headers=auth(tokens["qa"])).json()) == 1


@pytest.mark.parametrize(
    ("name", "data", "content_type", "kind", "status", "message"),
    [
        ("../../etc/passwd", PNG, "image/png", "snapshot", 422, "must be a plain name"),
        ("..\\boot.ini", PNG, "image/png", "snapshot", 422, "must be a plain name"),
        ("/abs.png", PNG, "image/png", "snapshot", 422, "must be a plain name"),
        ("a.png", PNG, "text/html", "snapshot", 415, "a snapshot must be image/png or image/jpeg"),
        ("a.png", b"<svg/>", "image/png", "snapshot", 415, "the file's bytes are not image/png"),
        ("a.wav", PNG, "audio/wav", "voice", 415, "the file's bytes are not audio/wav"),
        ("a.png", b"", "image/png", "snapshot", 422, "the uploaded file is empty"),
        ("a.png", PNG, "image/png", "movie", 422, "body.kind"),
        ("big.png", PNG + b"\0" * 300_000, "image/png", "snapshot", 413, "exceeds the limit"),
    ],
)
def test_hostile_uploads_are_refused(
    client, tokens, annotation_url, name, data, content_type, kind, status, message
):
    answer = upload(
        client,
        annotation_url + "/attachments",
        tokens["worker"],
        name,
        data,
        content_type,
        kind=kind,
    )
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert client.get(annotation_url + "/attachments", headers=auth(tokens["qa"])).json() == []


def test_upload_must_be_multipart(client, tokens, annotation_url):
    answer = client.post(
        annotation_url + "/attachments", json={"op_id": new_op()}, headers=auth(tokens["worker"])
    )
    assert answer.status_code == 415
    assert "multipart/form-data" in answer.json()["detail"]


REPORT = {
    "schema_version": 1,
    "section": "blk-2",
    "parts": [
        {"id": "COL-F1-L2", "status": "missing"},
        {"id": "BKT-F1-B2A", "status": "misplaced", "offset_mm": 31.5},
        {"id": "CLP-P2-3", "status": "present"},
        {"id": "VLV-1", "status": "not_verified"},
    ],
}


def test_report_upload_makes_a_run_with_findings(client, section, tokens):
    answer = client.post(
        f"/api/sections/{section}/runs",
        data={"op_id": new_op()},
        files={"file": ("report.json", json.dumps(REPORT), "application/json")},
        headers=auth(tokens["engineer"]),
    )
    assert answer.status_code == 201, answer.text
    run = answer.json()["data"]
    assert run["summary"] == {
        "parts": 4,
        "findings": 3,
        "by_status": {"missing": 1, "misplaced": 1, "present": 1, "not_verified": 1},
    }
    findings = client.get(f"/api/sections/{section}/findings", headers=auth(tokens["qa"])).json()
    assert sorted(f["part_id"] for f in findings) == ["BKT-F1-B2A", "COL-F1-L2", "VLV-1"]
    moved = next(f for f in findings if f["status"] == "misplaced")
    assert moved["offset_mm"] == 31.5
    full = client.get(f"/api/runs/{run['id']}", headers=auth(tokens["qa"])).json()
    assert full["report"] == REPORT
    linked = client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(finding_id=moved["id"]),
        headers=auth(tokens["worker"]),
    )
    assert linked.status_code == 201 and linked.json()["data"]["finding_id"] == moved["id"]
    unknown = client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(finding_id="nope"),
        headers=auth(tokens["worker"]),
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("payload", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 422, "report.json: not valid JSON"),
        (b"[1, 2]", "application/json", 422, "must be a JSON object"),
        (b'{"parts": [{"id": 3}]}', "application/json", 422, "parts[0] needs string id and status"),
        (b"{}", "text/plain", 415, "a report must be application/json"),
    ],
)
def test_bad_reports_are_refused(client, section, tokens, payload, content_type, status, message):
    answer = client.post(
        f"/api/sections/{section}/runs",
        data={"op_id": new_op()},
        files={"file": ("report.json", payload, content_type)},
        headers=auth(tokens["worker"]),
    )
    assert answer.status_code == status
    assert message in answer.json()["detail"]
    assert client.get(f"/api/sections/{section}/runs", headers=auth(tokens["qa"])).json() == []


def test_viewpoint_snapshot_must_be_a_snapshot_of_the_section(
    client, section, tokens, annotation_url
):
    from sync_factories import viewpoint

    snap = upload(
        client, annotation_url + "/attachments", tokens["worker"], "s.png", PNG, "image/png"
    ).json()["data"]
    voice = upload(
        client,
        annotation_url + "/attachments",
        tokens["worker"],
        "v.wav",
        WAV,
        "audio/wav",
        kind="voice",
    ).json()["data"]
    for snapshot_id, status in [(snap["id"], 200), (voice["id"], 404), ("nope", 404)]:
        answer = client.patch(
            annotation_url,
            headers=auth(tokens["worker"]),
            json={
                "op_id": new_op(),
                "base_version": 1,
                "viewpoint": {**viewpoint(), "snapshot_attachment_id": snapshot_id},
            },
        )
        assert answer.status_code == status, answer.text
    stored = client.get(annotation_url, headers=auth(tokens["qa"])).json()
    assert stored["viewpoint"]["snapshot_attachment_id"] == snap["id"]
