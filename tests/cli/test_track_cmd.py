import json
import shutil
import subprocess
import sys

import numpy as np

from arinspect.cli import main
from arinspect.resources import SAMPLE_SECTION_DIR


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arinspect", *args], capture_output=True, text=True, timeout=300
    )


def test_track_writes_poses_and_reports_errors_against_truth(tmp_path, fixtures_dir, capsys):
    out = tmp_path / "poses.json"
    assert main(["track", str(fixtures_dir / "walk_depth"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5 frames: 4 tracked, 1 reinitialised, 0 lost" in printed
    assert "translation mm: mean" in printed and "rotation deg:" in printed
    doc = json.loads(out.read_text())
    assert [f["im_id"] for f in doc["frames"]] == [0, 1, 2, 3, 4]
    frame = doc["frames"][2]
    assert frame["status"] == "tracked"
    assert np.asarray(frame["T_cam_section"]).shape == (4, 4)
    assert np.asarray(frame["covariance"]).shape == (6, 6)
    assert frame["rms_px"] < 1.0


def test_init_pose_file_and_bad_inputs(tmp_path, fixtures_dir):
    init = tmp_path / "init.json"
    init.write_text(json.dumps({"T_cam_section": [[1, 0, 0], [0, 1, 0]]}))
    result = run(
        "track",
        str(fixtures_dir / "defects"),
        "--out",
        str(tmp_path / "p.json"),
        "--init-pose",
        str(init),
    )
    assert (
        result.returncode == 1
        and "init.json: T_cam_section: must be a 4x4 rigid transform" in result.stderr
    )

    rec = tmp_path / "rec"
    shutil.copytree(fixtures_dir / "defects", rec)
    section = ["--section", str(SAMPLE_SECTION_DIR)]
    camera = tmp_path / "cam.yaml"
    camera.write_text(
        "%YAML:1.0\nimage_width: 320\nimage_height: 240\ncamera_matrix: !!opencv-matrix\n"
        "   rows: 3\n   cols: 3\n   dt: d\n"
        "   data: [ 300., 0., 159.5, 0., 300., 119.5, 0., 0., 1. ]\n"
    )
    result = run(
        "track", str(rec), *section, "--out", str(tmp_path / "p.json"), "--camera", str(camera)
    )
    assert result.returncode == 1
    assert "000000.png: frame is 640x480 px, the camera file says 320x240" in result.stderr

    (rec / "rgb" / "000002.png").write_bytes(b"not a png")
    result = run("track", str(rec), *section, "--out", str(tmp_path / "p.json"))
    assert result.returncode == 1 and "000002.png: cannot be decoded" in result.stderr

    (rec / "scene_camera.json").unlink()
    result = run("track", str(rec), "--out", str(tmp_path / "p.json"))
    assert result.returncode == 1 and "scene_camera.json: file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_colour_frames_are_refined_by_the_cad_edges_unless_told_not_to(tmp_path, fixtures_dir):
    with_edges, without = tmp_path / "edges.json", tmp_path / "plain.json"
    assert main(["track", str(fixtures_dir / "defects"), "--out", str(with_edges)]) == 0
    assert main(["track", str(fixtures_dir / "defects"), "--out", str(without), "--no-edges"]) == 0
    sources = [f["source"] for f in json.loads(with_edges.read_text())["frames"]]
    plain = [f["source"] for f in json.loads(without.read_text())["frames"]]
    assert any(source.endswith("+edges") for source in sources)
    assert not any("edges" in source for source in plain)


def test_frames_lost_before_the_first_marker_are_tracked_backwards_unless_forward_only(
    tmp_path, markers_hidden, capsys
):
    recording = markers_hidden(frames=2)
    out = tmp_path / "poses.json"
    assert main(["track", str(recording), "--out", str(out)]) == 0
    assert "5 frames: 4 tracked, 1 reinitialised, 0 lost" in capsys.readouterr().out
    assert main(["track", str(recording), "--out", str(out), "--forward-only"]) == 0
    assert "5 frames: 2 tracked, 1 reinitialised, 2 lost" in capsys.readouterr().out
    assert [f["status"] for f in json.loads(out.read_text())["frames"]][:2] == ["lost", "lost"]
