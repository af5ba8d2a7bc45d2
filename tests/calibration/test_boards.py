import cv2
import numpy as np
import pytest

from arinspect.calibration.boards import BoardSpec, board_image
from arinspect.errors import ConfigError


def test_chessboard_points_and_image_agree():
    spec = BoardSpec("chessboard", 4, 3, 0.05)
    points = spec.points_board()
    assert points.shape == (12, 3)
    np.testing.assert_allclose(points[0], [0.05, 0.05, 0.0])
    np.testing.assert_allclose(points[5], [0.10, 0.10, 0.0])  # row 1, column 1
    assert spec.pattern_size_m == pytest.approx((0.25, 0.20))
    drawn = board_image(spec, square_px=20)
    assert drawn.image.shape == (20 * 4 + 40, 20 * 5 + 40)
    u, v = drawn.pixels_from_board(points[:1, :2])[0] + 0.5  # a pixel edge
    assert (u, v) == pytest.approx((40.0, 40.0))
    # Top-left square black, its right and lower neighbours white; the margin is white.
    assert drawn.image[25, 25] == 0 and drawn.image[25, 45] == 255 and drawn.image[45, 25] == 255
    assert drawn.image[5, 5] == 255


def test_charuco_points_are_opencv_corners_and_its_image_is_detected():
    spec = BoardSpec("charuco", 5, 4, 0.04, 0.03, "DICT_5X5_100")
    board = spec.charuco_board()
    np.testing.assert_allclose(spec.points_board(), board.getChessboardCorners())
    assert spec.grid_size == (4, 3) and spec.point_count == 12
    drawn = board_image(spec, square_px=56)
    corners, ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(drawn.image)
    assert len(ids) == 12
    expected = drawn.pixels_from_board(spec.points_board()[ids.ravel(), :2])
    np.testing.assert_allclose(corners.reshape(-1, 2), expected, atol=0.1)


def test_circle_grid_image_is_found_in_order():
    spec = BoardSpec("circles", 5, 4, 0.03)
    drawn = board_image(spec, square_px=40)
    found, centres = cv2.findCirclesGrid(drawn.image, (5, 4), flags=cv2.CALIB_CB_SYMMETRIC_GRID)
    assert found
    expected = drawn.pixels_from_board(spec.points_board()[:, :2])
    errors = np.linalg.norm(centres.reshape(-1, 2) - expected, axis=1)
    errors_reversed = np.linalg.norm(centres.reshape(-1, 2) - expected[::-1], axis=1)
    assert min(errors.max(), errors_reversed.max()) < 0.05


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("hexagons", 5, 4, 0.03), "unknown board"),
        (("chessboard", 1, 4, 0.03), "at least 2x2"),
        (("chessboard", 5, 4, 0.0), "must be positive"),
        (("charuco", 5, 4, 0.04, 0.05), "marker side"),
        (("charuco", 30, 30, 0.04, 0.03, "DICT_4X4_50"), "needs 450 markers"),
    ],
)
def test_bad_board_specs_are_refused(args, message):
    with pytest.raises(ConfigError, match=message):
        BoardSpec(*args)


def test_a_chessboard_is_not_a_charuco_board():
    with pytest.raises(ConfigError, match="not a ChArUco"):
        BoardSpec("chessboard", 5, 4, 0.03).charuco_board()
