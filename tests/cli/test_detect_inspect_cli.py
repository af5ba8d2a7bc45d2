"""``arinspect detect``, ``inspect`` and ``detector evaluate`` with a tiny test-time model."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from arinspect.cli import main
from arinspect.resources import SAMPLE_SECTION_DIR
from tests.detect.tiny_model import build_tiny_detector

CLASSES = ["collar_plate", "pipe_clamp"]


@pytest.fixture()
def tiny_model(tmp_path):
    rows = np.array(
        [
            [80, 80, 160, 160, 0.9, 0.0],  # collar plate at (100, 100, 200, 200) in 640x480
            [300, 200, 340, 260, 0.0, 0.1],  # below the default threshold
        ]
    )
    return build_tiny_detector(tmp_path / "tiny.onnx", rows, CLASSES)


def test_detect_images_writes_boxes_in_image_pixels(tmp_path, tiny_model, capsys):
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.zeros((480, 640, 3), np.uint8))
    out = tmp_path / "detections.json"
    assert main(["detect", str(image), "--model", str(tiny_model), "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["classes"] == CLASSES
    [frame] = document["frames"]
    assert frame["image"] == str(image)
    assert frame["detections"] == [
        {"class": "collar_plate", "score": 0.9, "box_xyxy_px": [100.0, 100.0, 200.0, 200.0]}
    ]
    assert "1 detections in 1 frame(s)" in capsys.readouterr().out


def test_detect_recording_lists_every_frame(tmp_path, tiny_model, fixtures_dir):
    out = tmp_path / "detections.json"
    args = ["detect", str(fixtures_dir / "defects"), "--model", str(tiny_model)]
    assert main([*args, "--out", str(out), "--threads", "1"]) == 0
    frames = json.loads(out.read_text())["frames"]
    assert [f["im_id"] for f in frames] == [0, 1, 2, 3]


def test_detect_bad_inputs_fail_with_one_line(tmp_path, tiny_model, capsys):
    out = str(tmp_path / "d.json")
    assert (
        main(["detect", str(tmp_path / "none.png"), "--model", str(tiny_model), "--out", out]) == 1
    )
    assert "image file not found" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG broken")
    assert main(["detect", str(corrupt), "--model", str(tiny_model), "--out", out]) == 1
    assert "cannot be read as an image" in capsys.readouterr().err
    assert main(["detect", str(corrupt), "--model", str(tmp_path / "no.onnx"), "--out", out]) == 1
    assert "detector model not found" in capsys.readouterr().err


def test_inspect_writes_report_for_every_part(tmp_path, tiny_model, fixtures_dir, capsys):
    out = tmp_path / "report"
    args = ["inspect", str(fixtures_dir / "defects"), "--model", str(tiny_model)]
    assert main([*args, "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert len(report["parts"]) == 43
    assert report["frames"]["total"] == 4
    assert (out / "report.html").read_text().startswith("<!doctype html>")
    printed = capsys.readouterr().out
    assert "inspected 4 frames" in printed and str(out / "report.html") in printed


def test_inspect_fuses_several_passes_into_one_report(tmp_path, tiny_model, fixtures_dir, capsys):
    out = tmp_path / "report"
    passes = [fixtures_dir / "defects", fixtures_dir / "walk_depth"]
    assert main(["inspect", *map(str, passes), "--model", str(tiny_model), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["passes"] == [str(p.resolve()) for p in passes]
    assert report["frames"]["total"] == 4 + 5
    assert {p["best_pass"] for p in report["parts"] if p["best_frame"] is not None} <= {0, 1}
    assert "2 passes" in (out / "report.html").read_text()
    assert "inspected 9 frames of 2 passes" in capsys.readouterr().out


def test_passes_of_another_section_or_camera_are_refused(
    tmp_path, tiny_model, fixtures_dir, capsys
):
    moved = shutil.copytree(fixtures_dir / "defects", tmp_path / "elsewhere" / "defects")
    args = ["inspect", str(fixtures_dir / "defects"), str(moved), "--model", str(tiny_model)]
    assert main([*args, "--out", str(tmp_path / "r")]) == 1
    assert "passes inspected together must be of one section" in capsys.readouterr().err
    camera = moved / "camera.yaml"
    camera.write_text(camera.read_text().replace("600., 0., 319.5", "610., 0., 319.5"))
    section = ["--section", str(SAMPLE_SECTION_DIR)]
    assert main([*args, *section, "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert str(moved) in err and "must share one camera" in err
    assert not (tmp_path / "r" / "report.json").exists()


def test_inspect_without_section_fails_cleanly(tmp_path, tiny_model, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["inspect", str(empty), "--model", str(tiny_model), "--out", str(tmp_path / "r")]
    assert main(args) == 1
    assert capsys.readouterr().err.startswith("arinspect inspect: error:")


def test_detector_evaluate_prints_the_table(tmp_path, tiny_model, fixtures_dir, capsys):
    scores = tmp_path / "scores.json"
    args = ["detector", "evaluate", str(fixtures_dir / "defects"), "--model", str(tiny_model)]
    assert main([*args, "--json", str(scores)]) == 0
    printed = capsys.readouterr().out
    assert "| collar_plate |" in printed and "**all**" in printed
    assert "map50" in json.loads(scores.read_text())
