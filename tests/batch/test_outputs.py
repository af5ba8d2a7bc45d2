"""Fingerprints and atomic, resumable unit outputs."""

from __future__ import annotations

import json

from arinspect.batch.outputs import (
    MARKER,
    PARTIAL,
    completed,
    fingerprint,
    partial_dir,
    publish,
    remove_leftovers,
)


def make_inputs(tmp_path):
    recording = tmp_path / "rec"
    (recording / "rgb").mkdir(parents=True)
    (recording / "rgb" / "000000.png").write_bytes(b"frame-0")
    (recording / "scene_camera.json").write_text("{}")
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights")
    return recording, model


def test_fingerprint_follows_every_input_byte(tmp_path) -> None:
    recording, model = make_inputs(tmp_path)
    inputs = {"recording": recording, "model": model, "camera": None}
    first = fingerprint(inputs)
    assert fingerprint(inputs) == first
    (recording / "rgb" / "000000.png").write_bytes(b"frame-X")
    assert fingerprint(inputs) != first
    (recording / "rgb" / "000000.png").write_bytes(b"frame-0")
    assert fingerprint(inputs) == first
    (recording / "rgb" / "000001.png").write_bytes(b"")
    assert fingerprint(inputs) != first
    (recording / "rgb" / "000001.png").unlink()
    model.write_bytes(b"weights-2")
    assert fingerprint(inputs) != first


def test_fingerprint_separates_file_names_from_contents(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_bytes(b"12")
    (b / "x1").write_bytes(b"2")
    assert fingerprint({"recording": a}) != fingerprint({"recording": b})


def test_publish_is_one_rename_and_replaces_stale_outputs(tmp_path) -> None:
    out = tmp_path / "out"
    folder = partial_dir(out, "u1")
    (folder / "report.json").write_text('{"v": 1}')
    publish(out, "u1", folder, {"unit_id": "u1", "fingerprint": "f1", "status": "done"})
    assert not folder.exists()
    assert json.loads((out / "u1" / MARKER).read_text())["fingerprint"] == "f1"
    assert completed(out, "u1", "f1")["status"] == "done"
    assert completed(out, "u1", "other") is None
    assert completed(out, "u2", "f1") is None

    newer = partial_dir(out, "u1")
    (newer / "report.json").write_text('{"v": 2}')
    publish(out, "u1", newer, {"unit_id": "u1", "fingerprint": "f2", "status": "done"})
    assert (out / "u1" / "report.json").read_text() == '{"v": 2}'
    assert completed(out, "u1", "f2") is not None
    assert list((out / PARTIAL).iterdir()) == []


def test_a_second_publish_of_the_same_inputs_is_dropped(tmp_path) -> None:
    out = tmp_path / "out"
    outcome = {"unit_id": "u1", "fingerprint": "f1", "status": "done", "pid": 1}
    first = partial_dir(out, "u1")
    publish(out, "u1", first, outcome)
    late = partial_dir(out, "u1")
    publish(out, "u1", late, outcome | {"pid": 2})
    assert completed(out, "u1", "f1")["pid"] == 1
    assert not late.exists()


def test_leftovers_of_killed_runs_are_removed(tmp_path) -> None:
    out = tmp_path / "out"
    partial_dir(out, "u1")
    partial_dir(out, "u2")
    assert remove_leftovers(out) == 2
    assert list((out / PARTIAL).iterdir()) == []
    assert remove_leftovers(tmp_path / "never-made") == 0


def test_a_corrupt_marker_counts_as_incomplete(tmp_path) -> None:
    (tmp_path / "u1").mkdir()
    (tmp_path / "u1" / MARKER).write_text("{truncated")
    assert completed(tmp_path, "u1", "f1") is None
