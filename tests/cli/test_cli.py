"""The command line as a user runs it: exit codes, outputs, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arinspect.cli import main
from arinspect.recording.bop import Recording


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arinspect", *args], capture_output=True, text=True, timeout=300
    )


def test_generate_validate_render_end_to_end(tmp_path):
    section = tmp_path / "sec"
    assert main(["section", "generate", "--seed", "3", "--out", str(section)]) == 0
    assert main(["section", "validate", str(section)]) == 0
    part_ids = [p["id"] for p in json.loads((section / "section.json").read_text())["parts"]]
    cam = tmp_path / "cam.yaml"
    cam.write_text(
        "%YAML:1.0\nimage_width: 320\nimage_height: 240\ncamera_matrix: !!opencv-matrix\n"
        "   rows: 3\n   cols: 3\n   dt: d\n"
        "   data: [ 300., 0., 159.5, 0., 300., 119.5, 0., 0., 1. ]\n"
    )
    rec = tmp_path / "rec"
    code = main(
        [
            "render",
            str(section),
            "--out",
            str(rec),
            "--frames",
            "2",
            "--seed",
            "4",
            "--camera",
            str(cam),
            "--trajectory",
            "orbit",
            "--depth",
            "--remove",
            part_ids[0],
            part_ids[1],
            "--move",
            f"{part_ids[2]}=0.05,0,0",
            f"{part_ids[3]}=0,0.03,-0.01",
            "--distortion=-0.1,0.02,0,0,0",
        ]
    )
    assert code == 0
    recording = Recording(rec)
    assert recording.frame_ids == [0, 1]
    assert recording.camera.image_size_wh == (320, 240)
    assert recording.camera.dist[0] == pytest.approx(-0.1)
    assert recording.depth_m(1).shape == (240, 320)
    status = {p["id"]: p["status"] for p in recording.meta["parts"]}
    assert [status[i] for i in part_ids[:4]] == ["removed", "removed", "moved", "moved"]
    assert recording.meta["frames"][1]["timestamp_s"] == pytest.approx(0.2)
    assert len(recording.meta["frames"][0]["T_world_cam"]) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["section", "validate", "{missing}"], "section folder not found"),
        (
            ["render", "{sample}", "--out", "{tmp}/r", "--remove", "NOT-A-PART"],
            "has no part(s) NOT-A-PART",
        ),
        (
            ["render", "{sample}", "--out", "{tmp}/r", "--camera", "{tmp}/none.yaml"],
            "camera file not found",
        ),
        (
            [
                "section",
                "generate",
                "--seed",
                "1",
                "--out",
                "{tmp}/s",
                "--marker-family",
                "DICT_9X9_1",
            ],
            "unknown marker family",
        ),
    ],
)
def test_bad_input_gives_one_line_error_and_exit_1(tmp_path, args, message):
    from arinspect.resources import SAMPLE_SECTION_DIR

    filled = [
        a.format(missing=tmp_path / "nope", sample=SAMPLE_SECTION_DIR, tmp=tmp_path) for a in args
    ]
    result = run(*filled)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_render_refuses_a_broken_section_in_one_line(tmp_path):
    import shutil

    from arinspect.resources import SAMPLE_SECTION_DIR

    shutil.copytree(SAMPLE_SECTION_DIR, tmp_path / "s")
    (tmp_path / "s" / "meshes" / "structure" / "pipe.ply").unlink()
    result = run("render", str(tmp_path / "s"), "--out", str(tmp_path / "r"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "section.json: 2 problem(s): structure[8].mesh: meshes/structure/pipe.ply" in (
        result.stderr
    )
    assert not (tmp_path / "r").exists()


def test_usage_errors_exit_2_with_the_expected_form(tmp_path):
    result = run("render", "x", "--out", str(tmp_path), "--move", "PART=1,2")
    assert result.returncode == 2
    assert "expected PART_ID=dx,dy,dz in metres" in result.stderr


def test_validate_reports_every_problem(tmp_path):
    import shutil

    from arinspect.resources import SAMPLE_SECTION_DIR

    shutil.copytree(SAMPLE_SECTION_DIR, tmp_path / "s")
    doc = json.loads((tmp_path / "s" / "section.json").read_text())
    doc["parts"][0]["class"] = "teapot"
    doc["markers"][0]["id"] = 9999
    (tmp_path / "s" / "section.json").write_text(json.dumps(doc))
    result = run("section", "validate", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "parts[0].class: unknown class 'teapot'" in result.stderr
    assert "markers[0].id: id 9999 is outside DICT_5X5_250" in result.stderr
    assert "invalid (2 error(s)" in result.stdout


def test_help_names_units():
    result = run("render", "--help")
    assert result.returncode == 0
    for unit in ("metres", "px", "grey levels", "stops"):
        assert unit in result.stdout


def test_demo_renders_inspects_and_reports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--frames", "4"]) == 0
    printed = capsys.readouterr().out
    assert "seeded defects: removed" in printed
    assert "inspected 4 frames" in printed and "totals: present" in printed
    report = json.loads((out / "report" / "report.json").read_text())
    assert len(report["parts"]) == 43  # every part of the sample section has a status
    assert {p["status"] for p in report["parts"]} <= {
        "present",
        "missing",
        "misplaced",
        "not_verified",
    }
    assert (out / "report" / "report.html").is_file()
    assert Recording(out / "recording").frame_ids == [0, 1, 2, 3]
