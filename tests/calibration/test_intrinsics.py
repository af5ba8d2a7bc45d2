"""Intrinsics on rendered board views with known K and distortion."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from arinspect.calibration.boards import BoardSpec
from arinspect.calibration.images import image_paths, read_images
from arinspect.calibration.intrinsics import (
    BoardDetector,
    BoardView,
    DroppedView,
    IntrinsicsConfig,
    calibrate_intrinsics,
    coverage,
    detect_views,
)
from arinspect.calibration.synthetic import BoardRenderer, board_view_poses
from arinspect.camera import CameraModel
from arinspect.errors import ConfigError, DataFormatError

TRUE_K = np.array([[610.0, 0.0, 322.0], [0.0, 608.0, 236.0], [0.0, 0.0, 1.0]])
TRUE_DIST = np.array([-0.22, 0.06, 0.0008, -0.0005, 0.0])
CAMERA = CameraModel(TRUE_K, TRUE_DIST, (640, 480))
CHARUCO = BoardSpec("charuco", 9, 6, 0.04, 0.03, "DICT_5X5_100")


def mapping_error_px(camera):
    """Largest distance (px) between where `camera` and the true one image a ray (inner 90 %)."""
    u, v = np.meshgrid(np.linspace(32, 607, 17), np.linspace(24, 455, 13))
    uv = np.column_stack([u.ravel(), v.ravel()])
    xy = CAMERA.normalized_from_pixels(uv)
    rays = np.column_stack([xy, np.ones(len(xy))])
    projected, _ = camera.project(np.eye(4), rays)
    return np.linalg.norm(projected - uv, axis=1).max()


def render_views(spec, count, seed):
    rng = np.random.default_rng(seed)
    renderer = BoardRenderer(spec, CAMERA, subsamples=2)
    poses = board_view_poses(spec, CAMERA, count, rng)
    images = [(f"view{i:02d}", renderer.render(T, 1.0, rng)) for i, T in enumerate(poses)]
    return poses, images


@pytest.fixture(scope="module")
def charuco_views():
    poses, images = render_views(CHARUCO, 12, seed=1)
    views, dropped = detect_views(CHARUCO, images)
    return poses, views, dropped


def test_charuco_corners_are_found_to_a_fraction_of_a_pixel(charuco_views):
    poses, views, dropped = charuco_views
    assert not dropped
    errors = []
    for T_cam_board, view in zip(poses, views, strict=True):
        expected, _ = CAMERA.project(T_cam_board, view.points_board)
        errors.extend(np.linalg.norm(view.points_px - expected, axis=1))
    assert np.median(errors) < 0.15 and np.max(errors) < 1.0


def test_charuco_calibration_recovers_the_rendering_camera(charuco_views):
    poses, views, _ = charuco_views
    result = calibrate_intrinsics(CHARUCO, views, (640, 480))
    K = result.camera.K
    assert K[0, 0] == pytest.approx(610.0, rel=0.005)
    assert K[1, 1] == pytest.approx(608.0, rel=0.005)
    assert abs(K[0, 2] - 322.0) < 1.5 and abs(K[1, 2] - 236.0) < 1.5
    assert result.camera.dist[0] == pytest.approx(TRUE_DIST[0], abs=0.02)
    # k2, k3 trade off against each other: check the whole lens model over the image.
    assert mapping_error_px(result.camera) < 2.0
    assert result.rms_px < 0.3 and len(result.views) == 12 and not result.dropped
    assert result.view_rms_px.shape == (12,)
    # The standard deviations are small and consistent with the actual errors.
    assert result.parameter_names[:4] == ("fx", "fy", "cx", "cy")
    assert np.all(result.std_dev[:4] < 2.0)
    assert abs(K[0, 0] - 610.0) < 4 * result.std_dev[0] + 0.5
    # Board poses come back with the views.
    dt = np.linalg.norm(result.T_cam_board[0][:3, 3] - poses[0][:3, 3])
    assert dt < 0.005


def test_an_outlier_view_is_dropped_with_its_reason(charuco_views):
    _, views, _ = charuco_views
    bad = views[3]
    shifted = bad.points_px.copy()
    shifted[::2] += 4.0  # every other corner 4 px off: a smeared, misdetected view
    corrupted = [*views[:3], replace(bad, name="smeared", points_px=shifted), *views[4:]]
    result = calibrate_intrinsics(CHARUCO, corrupted, (640, 480))
    assert [d.name for d in result.dropped] == ["smeared"]
    assert result.dropped[0].reason.startswith("outlier: RMS")
    assert "smeared" not in result.views
    assert result.camera.K[0, 0] == pytest.approx(610.0, rel=0.005)


def test_chessboard_and_circle_grid_calibrate_too():
    for spec in (BoardSpec("chessboard", 8, 5, 0.035), BoardSpec("circles", 7, 5, 0.04)):
        _, images = render_views(spec, 10, seed=2)
        views, dropped = detect_views(spec, images)
        config = IntrinsicsConfig(min_views=5)
        result = calibrate_intrinsics(spec, views, (640, 480), config, dropped)
        assert result.camera.K[0, 0] == pytest.approx(610.0, rel=0.01), spec.kind
        assert abs(result.camera.K[0, 2] - 322.0) < 3.0, spec.kind
        assert len(result.views) + len(result.dropped) == 10


def test_a_frame_without_the_board_is_dropped_not_fatal():
    detector = BoardDetector(CHARUCO)
    dropped = detector.detect(np.full((480, 640), 128, np.uint8), "grey.png")
    assert dropped == DroppedView("grey.png", "board not found (0 of its markers seen)")
    chess = BoardDetector(BoardSpec("chessboard", 8, 5, 0.035))
    assert chess.detect(np.full((480, 640), 128, np.uint8), "x").reason == "board not found"


def test_coverage_warns_about_empty_image_regions():
    centre_only = BoardView(
        "v", np.zeros((4, 3)), np.array([[300.0, 200], [340, 200], [300, 280], [340, 280]])
    )
    report = coverage([centre_only], (640, 480), (4, 3))
    assert report.counts.tolist() == [[0, 0, 0, 0], [0, 2, 2, 0], [0, 0, 0, 0]]
    assert len(report.empty_cells) == 10
    assert report.warnings()[0].startswith("no board point in the image region x 0-160 px, y 0-160")


def test_never_found_and_too_few_views_are_clear_errors(charuco_views):
    _, views, _ = charuco_views
    with pytest.raises(ConfigError, match="was not found in any of the 3 images"):
        calibrate_intrinsics(CHARUCO, [], (640, 480), dropped=[DroppedView("a", "x")] * 3)
    with pytest.raises(ConfigError, match=r"only 2 good view\(s\).*at least 5.*b.png: board not"):
        calibrate_intrinsics(
            CHARUCO, views[:2], (640, 480), dropped=[DroppedView("b.png", "board not found")]
        )
    with pytest.raises(ConfigError, match="distortion terms"):
        IntrinsicsConfig(distortion_terms=6)


def test_image_files_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="no image file matches"):
        image_paths(str(tmp_path / "*.png"))
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((48, 64), np.uint8))
    cv2.imwrite(str(tmp_path / "b.png"), np.zeros((40, 64), np.uint8))
    (tmp_path / "c.png").write_bytes(b"not a png")
    paths = image_paths(str(tmp_path / "*.png"))
    assert [p.name for p in paths] == ["a.png", "b.png", "c.png"]
    with pytest.raises(DataFormatError, match="b.png: image is 64x40 px but a.png is 64x48 px"):
        list(read_images(paths))
    with pytest.raises(DataFormatError, match="c.png: cannot be decoded as an image"):
        list(read_images([paths[0], paths[2]]))
