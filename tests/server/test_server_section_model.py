"""The section model (GLB) the QA viewer renders, the workflow description, the viewer page."""

from __future__ import annotations

import struct

import pytest
import trimesh
from sync_factories import auth, new_op

from arinspect_server.routes.viewer import THREE_DIR


def box_glb() -> bytes:
    return trimesh.Scene(trimesh.creation.box(extents=(1, 2, 3))).export(file_type="glb")


def upload(client, section, token, data, name="section.glb", op_id=None):
    return client.post(
        f"/api/sections/{section}/model",
        data={"op_id": op_id or new_op()},
        files={"file": (name, data, "model/gltf-binary")},
        headers=auth(token),
    )


def test_engineer_uploads_a_model_and_anyone_reads_it_back(client, tokens, section) -> None:
    glb = box_glb()
    op_id = new_op()
    answer = upload(client, section, tokens["engineer"], glb, op_id=op_id)
    assert answer.status_code == 201, answer.text
    record = answer.json()["data"]
    assert record["size_bytes"] == len(glb) and record["uploaded_by"] == "eve"
    assert record["nodes"] == 1
    again = upload(client, section, tokens["engineer"], glb, op_id=op_id)
    assert again.json()["replayed"] is True and again.json()["seqs"] == answer.json()["seqs"]

    got = client.get(f"/api/sections/{section}/model", headers=auth(tokens["worker"]))
    assert got.status_code == 200
    assert got.content == glb
    assert got.headers["content-type"] == "model/gltf-binary"
    assert got.headers["etag"] == f'"{record["sha256"]}"'
    events = client.get(f"/api/sections/{section}/events", headers=auth(tokens["qa"])).json()
    assert [(e["entity"], e["action"]) for e in events["events"]] == [("model", "uploaded")]


def test_a_new_upload_replaces_the_model(client, tokens, section) -> None:
    upload(client, section, tokens["engineer"], box_glb())
    second = trimesh.Scene([trimesh.creation.box(), trimesh.creation.icosphere()])
    glb = second.export(file_type="glb")
    assert upload(client, section, tokens["engineer"], glb).status_code == 201
    got = client.get(f"/api/sections/{section}/model", headers=auth(tokens["qa"]))
    assert got.content == glb


def test_only_engineers_upload_and_missing_models_are_404(client, tokens, section) -> None:
    answer = upload(client, section, tokens["worker"], box_glb())
    assert answer.status_code == 403
    missing = client.get(f"/api/sections/{section}/model", headers=auth(tokens["qa"]))
    assert missing.status_code == 404
    assert "no model yet" in missing.json()["detail"]
    unknown = upload(client, "no-such-section", tokens["engineer"], box_glb())
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda glb: b"PK\x03\x04" + glb[4:], "not a binary glTF"),
        (lambda glb: glb[:4] + struct.pack("<I", 1) + glb[8:], "GLB version 1"),
        (lambda glb: glb[:-8], "header says"),
        (lambda glb: glb[:20] + b"{not json" + glb[29:], "not valid JSON"),
    ],
)
def test_broken_glb_is_refused_and_the_stored_model_kept(
    client, tokens, section, mutate, message
) -> None:
    good = box_glb()
    upload(client, section, tokens["engineer"], good)
    answer = upload(client, section, tokens["engineer"], mutate(good))
    assert answer.status_code == 422
    assert message in answer.json()["detail"]
    assert client.get(f"/api/sections/{section}/model", headers=auth(tokens["qa"])).content == good


def test_bad_file_names_are_refused(client, tokens, section) -> None:
    answer = upload(client, section, tokens["engineer"], box_glb(), name="../x.glb")
    assert answer.status_code == 422


def test_workflow_lists_the_steps_each_role_may_take(client, tokens) -> None:
    workflow = client.get("/api/workflow", headers=auth(tokens["worker"])).json()
    assert workflow["transitions"]["resolved"] == {
        "in_progress": ["engineer", "qa", "worker"], "verified": ["qa"], "rejected": ["qa"],
    }  # fmt: skip
    assert workflow["rank"]["qa"] > workflow["rank"]["worker"]


def test_viewer_page_and_three_are_served(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<script type="module" src="/viewer/js/main.js">' in page.text
    assert client.get("/viewer/js/scene.js").status_code == 200
    if (THREE_DIR / "build" / "three.module.js").is_file():
        three = client.get("/vendor/three/build/three.module.js")
        assert (
            three.status_code == 200
            and "REVISION" in client.get("/vendor/three/build/three.core.js").text
        )
        assert client.get("/vendor/three/examples/jsm/loaders/GLTFLoader.js").status_code == 200
    assert client.get("/vendor/three/package.json").status_code == 404


def test_history_holds_the_events_of_one_annotation_and_its_comments(client, tokens, section):
    from sync_factories import PNG, annotation_body

    base = f"/api/sections/{section}/annotations"
    worker = auth(tokens["worker"])
    first = client.post(base, json=annotation_body(), headers=worker).json()["data"]
    other = client.post(base, json=annotation_body(), headers=worker).json()["data"]
    url = f"{base}/{first['id']}"
    client.patch(url, json={"op_id": new_op(), "base_version": 1, "status": "in_progress"},
                 headers=worker)  # fmt: skip
    client.post(f"{url}/comments", json={"op_id": new_op(), "text": "seen"}, headers=worker)
    client.post(f"{url}/attachments", data={"op_id": new_op(), "kind": "snapshot"},
                files={"file": ("s.png", PNG, "image/png")}, headers=worker)  # fmt: skip
    client.post(f"{base}/{other['id']}/comments", json={"op_id": new_op(), "text": "x"},
                headers=worker)  # fmt: skip
    history = client.get(f"{url}/history", headers=auth(tokens["qa"])).json()
    assert [(e["entity"], e["action"]) for e in history] == [
        ("annotation", "created"), ("annotation", "updated"), ("comment", "created"),
        ("attachment", "created"),
    ]  # fmt: skip
    assert [e["seq"] for e in history] == sorted(e["seq"] for e in history)
    assert history[1]["data"]["status"] == "in_progress" and history[1]["user"] == "wim"
    missing = client.get(f"{base}/00000000-0000-0000-0000-000000000000/history",
                         headers=auth(tokens["qa"]))  # fmt: skip
    assert missing.status_code == 404
