"""``arinspect calibrate``: camera, section and board, as a user runs them."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.calibration.boards import BoardSpec
from arinspect.calibration.synthetic import (
    BoardRenderer,
    board_view_poses,
    displace_markers,
    plate_section,
    survey_view_poses,
)
from arinspect.camera import CameraModel, default_camera, load_camera, save_camera
from arinspect.cli import main
from arinspect.geometry import pose_error
from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene

LENS = CameraModel(
    np.array([[600.0, 0, 318.0], [0, 600.0, 242.0], [0, 0, 1]]), [-0.2, 0.05, 0, 0, 0], (640, 480)
)
CHARUCO_ARGS = ["--board", "charuco", "--cols", "9", "--rows", "6", "--square-mm", "40"]
CHARUCO_ARGS += ["--marker-mm", "30"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Ten rendered photos of a 9x6 ChArUco board (40 mm squares) taken with LENS."""
    folder = tmp_path_factory.mktemp("photos")
    spec = BoardSpec("charuco", 9, 6, 0.04, 0.03)
    rng = np.random.default_rng(5)
    renderer = BoardRenderer(spec, LENS, subsamples=2)
    for i, T_cam_board in enumerate(board_view_poses(spec, LENS, 10, rng)):
        cv2.imwrite(str(folder / f"view{i:02d}.png"), renderer.render(T_cam_board, 1.0, rng))
    return folder


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    """A nominal plate section, its truth with displaced markers, photos of the truth."""
    root = tmp_path_factory.mktemp("survey")
    nominal = plate_section(root / "nominal")
    rng = np.random.default_rng(8)
    truth = displace_markers(nominal, rng)
    camera = default_camera()
    scene = SectionScene(truth)
    (root / "photos").mkdir()
    options = RenderOptions(supersample=2, noise_sigma=1.0)
    for i, T in enumerate(survey_view_poses(truth, camera, 12, (1.0, 3.0), rng)):
        image = render(scene, camera, T, options, rng).bgr
        cv2.imwrite(str(root / "photos" / f"{i:02d}.png"), image)
    save_camera(camera, root / "camera.yaml")
    return root, nominal, truth


def one_line_error(capsys, code: int, message: str) -> None:
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("arinspect calibrate: error: ") and "\n" not in err, err
    assert message in err, err
    assert "Traceback" not in err


def test_calibrate_camera_writes_opencv_yaml_with_quality(photos, tmp_path, capsys):
    out = tmp_path / "calibration" / "headset.yaml"
    code = main(
        ["calibrate", "camera", "--images", str(photos / "*.png"), *CHARUCO_ARGS, "--out", str(out)]
    )
    assert code == 0
    camera = load_camera(out)
    assert camera.K[0, 0] == pytest.approx(600.0, rel=0.005)
    assert abs(camera.K[0, 2] - 318.0) < 1.5 and abs(camera.K[1, 2] - 242.0) < 1.5
    fs = cv2.FileStorage(str(out), cv2.FILE_STORAGE_READ)
    assert fs.getNode("avg_reprojection_error").real() < 0.3
    assert fs.getNode("per_view_reprojection_errors").mat().shape == (10, 1)
    assert fs.getNode("std_dev_intrinsics").mat().shape == (9, 1)
    assert fs.getNode("std_dev_intrinsics_names").string() == "fx fy cx cy k1 k2 p1 p2 k3"
    assert json.loads(fs.getNode("view_files").string())[0] == "view00.png"
    assert "arinspect calibrate camera --images" in fs.getNode("provenance").string()
    fs.release()
    out_text = capsys.readouterr().out
    assert "from 10 view(s) of a charuco 9x6" in out_text and "coverage" in out_text
    assert f"written to {out}" in out_text


def test_calibrate_camera_bad_input(photos, tmp_path, capsys):
    def calibrate(pattern: str, *extra: str) -> int:
        return main(
            [
                "calibrate",
                "camera",
                "--images",
                pattern,
                *CHARUCO_ARGS,
                *extra,
                "--out",
                str(tmp_path / "c.yaml"),
            ]
        )

    one_line_error(capsys, calibrate(str(tmp_path / "*.jpg")), "no image file matches")
    two = str(photos / "view0[01].png")
    one_line_error(capsys, calibrate(two), "only 2 good view(s) of the board, at least 5")
    grey = tmp_path / "grey"
    grey.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(grey / name), np.full((480, 640), 128, np.uint8))
    one_line_error(capsys, calibrate(str(grey / "*.png")), "was not found in any of the 2 images")
    cv2.imwrite(str(grey / "c.png"), np.full((240, 320), 128, np.uint8))
    one_line_error(capsys, calibrate(str(grey / "*.png")), "c.png: image is 320x240 px but a.png")
    (grey / "c.png").write_bytes(b"\x89PNG but not really")
    one_line_error(capsys, calibrate(str(grey / "*.png")), "c.png: cannot be decoded as an image")
    code = main(
        [
            "calibrate",
            "camera",
            "--images",
            two,
            "--board",
            "charuco",
            "--cols",
            "9",
            "--rows",
            "6",
            "--square-mm",
            "40",
            "--out",
            "x.yaml",
        ]
    )
    one_line_error(capsys, code, "needs --marker-mm")


def test_calibrate_section_registers_the_displaced_markers(survey, capsys):
    root, nominal, truth = survey
    out = root / "registered"
    args = ["calibrate", "section", str(nominal.folder), "--images", str(root / "photos" / "*.png")]
    assert main([*args, "--camera", str(root / "camera.yaml"), "--out", str(out)]) == 0
    registered = load_section(out)  # validates, meshes included
    true_poses = {m.key: m.T_section_marker for m in truth.markers}
    for marker in registered.markers:
        dt, dr = pose_error(marker.T_section_marker, true_poses[marker.key])
        assert dt < 0.002 and np.degrees(dr) < 0.5, (marker.key, dt, np.degrees(dr))
    report = json.loads((out / "registration_report.json").read_text())
    statuses = [m["status"] for m in report["markers"]]
    assert statuses.count("control") == 4 and statuses.count("registered") == 5
    moved = next(m for m in report["markers"] if m["status"] == "registered")
    assert 10.0 < moved["correction_norm_mm"] < 51.0 and moved["position_sigma_mm"][0] < 2.0
    assert "arinspect calibrate section" in report["provenance"]["command"]
    assert "registration" in json.loads((out / "section.json").read_text())["provenance"]
    stdout = capsys.readouterr().out
    assert "DICT_5X5_250/4" in stdout and f"registered section written to {out}" in stdout
    assert (out / "registration_report.txt").read_text().startswith("section plate:")


def test_calibrate_section_from_a_recording(tmp_path, capsys):
    section = plate_section(tmp_path / "plate")
    rec = tmp_path / "rec"
    spec = RecordingSpec(frames=5, seed=1, trajectory="orbit", options=RenderOptions(supersample=2))
    render_recording(section.folder, rec, spec)
    out = tmp_path / "registered"
    assert (
        main(
            [
                "calibrate",
                "section",
                str(section.folder),
                "--recording",
                str(rec),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    for before, after in zip(section.markers, load_section(out).markers, strict=True):
        dt, _ = pose_error(after.T_section_marker, before.T_section_marker)
        assert dt < 0.002  # the recording shows the nominal section: nothing moved
    assert "frame 0" in json.loads((out / "registration_report.json").read_text())["views_used"]


def test_calibrate_section_bad_input(survey, tmp_path, capsys):
    root, nominal, _ = survey
    photos = str(root / "photos" / "*.png")
    camera = str(root / "camera.yaml")

    def register(*args: str) -> int:
        return main(["calibrate", "section", str(nominal.folder), *args])

    one_line_error(
        capsys, register("--images", photos, "--out", str(tmp_path / "o")), "--camera is needed"
    )
    one_line_error(
        capsys,
        register("--images", photos, "--camera", camera, "--out", str(nominal.folder)),
        "is the input section",
    )
    small = tmp_path / "small.yaml"
    save_camera(default_camera().scaled(0.5), small)
    one_line_error(
        capsys,
        register("--images", photos, "--camera", str(small), "--out", str(tmp_path / "o")),
        "image is 640x480 px, the camera is 320x240 px",
    )
    one_photo = str(root / "photos" / "00.png")
    one_line_error(
        capsys,
        register("--images", one_photo, "--camera", camera, "--out", str(tmp_path / "o")),
        "control markers were seen",
    )
    one_line_error(
        capsys,
        main(
            [
                "calibrate",
                "section",
                str(tmp_path / "none"),
                "--images",
                photos,
                "--camera",
                camera,
                "--out",
                str(tmp_path / "o"),
            ]
        ),
        "section folder not found",
    )


def test_calibrate_board_writes_a_printable_image(tmp_path, capsys):
    out = tmp_path / "board.png"
    assert (
        main(
            [
                "calibrate",
                "board",
                "--board",
                "chessboard",
                "--cols",
                "9",
                "--rows",
                "6",
                "--square-mm",
                "25",
                "--dpi",
                "200",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    image = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    square_px = round(25 / 25.4 * 200)
    assert image.shape == (square_px * 9, square_px * 12)  # 7x10 squares and a 1-square margin
    assert "squares 25.02 mm" in capsys.readouterr().out  # 197 px at 200 dpi
