import cv2
import numpy as np
import pytest

from arinspect.markers import marker_bits, marker_image
from arinspect.pose.marker_corners import ModuleEdges, module_edges, refine_marker_corners

FAMILY = "apriltag_36h11"


def _sheet_view(
    true_corners: np.ndarray,
    rng,
    contrast: float = 180.0,
    blur_px: float = 0.0,
    tone_power: float = 1.0,
) -> np.ndarray:
    """A 320x240 linear grey view of marker 7 on its white sheet, with the given corners.

    Rendered 8x larger through the exact homography and averaged down (anti-aliased
    edges), optionally blurred (Gaussian sigma, px) and raised to `tone_power` (a tone
    curve the detector does not undo: > 1 grows the black modules), then grey-level noise
    of sigma 2.
    """
    over = 8
    code = marker_image(FAMILY, 7, module_px=16).astype(np.float64) / 255.0
    side = code.shape[0]
    sheet = np.ones((2 * side, 2 * side))
    sheet[side // 2 : side // 2 + side, side // 2 : side // 2 + side] = code
    src = np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32) + side // 2 - 0.5
    dst = ((true_corners + 0.5) * over - 0.5).astype(np.float32)
    H = cv2.getPerspectiveTransform(src, dst)
    big = cv2.warpPerspective(sheet, H, (320 * over, 240 * over), flags=cv2.INTER_LINEAR)
    small = cv2.resize(big, (320, 240), interpolation=cv2.INTER_AREA)
    if blur_px:
        small = cv2.GaussianBlur(small, (0, 0), blur_px)
    small = small**tone_power
    grey = 20 + contrast * small + rng.normal(0, 2.0, small.shape)
    return np.clip(np.round(grey), 0, 255).astype(np.uint8)


MODULES_10PX = np.array([[100.3, 60.7], [181.9, 70.2], [176.4, 150.8], [95.1, 141.6]])
MODULES_4PX = np.array([[140.2, 100.6], [170.9, 104.1], [168.3, 131.7], [138.8, 128.2]])
MODULES_2PX = np.array([[150.4, 110.2], [166.7, 112.9], [165.1, 127.3], [149.6, 125.8]])


def test_module_edges_separate_modules_of_different_colour():
    """Every segment separates two modules (or border and sheet) of different colour."""
    edges = module_edges(FAMILY, 7)
    n = marker_bits(FAMILY) + 2
    assert edges.modules == n
    assert edges.outer.sum() == 4 * n  # the black border against the white sheet, all round
    white = marker_image(FAMILY, 7, module_px=1) > 127
    sheet = np.ones((n + 2, n + 2), bool)
    sheet[1:-1, 1:-1] = white
    for vertical, k, j, sign in zip(
        edges.vertical,
        edges.line.astype(int),
        edges.start.astype(int),
        edges.brighter_towards_larger,
        strict=True,
    ):
        before, after = (
            (sheet[j + 1, k], sheet[j + 1, k + 1])
            if vertical
            else (sheet[k, j + 1], sheet[k + 1, j + 1])
        )
        assert before != after
        assert sign == (1 if after else -1)
    inner_boundaries = np.count_nonzero(white[:, 1:] != white[:, :-1]) + np.count_nonzero(
        white[1:, :] != white[:-1, :]
    )
    assert len(edges.line) == 4 * n + inner_boundaries


@pytest.mark.parametrize(
    ("true_corners", "tolerance_px"),
    [(MODULES_10PX, 0.15), (MODULES_4PX, 0.15), (MODULES_2PX, 0.4)],  # 2 px: outer square only
)
def test_corners_are_recovered_to_a_small_fraction_of_a_pixel(true_corners, tolerance_px):
    rng = np.random.default_rng(4)
    grey = _sheet_view(true_corners, rng)
    start = true_corners + rng.uniform(-0.7, 0.7, true_corners.shape)
    refined = refine_marker_corners(grey, start, module_edges(FAMILY, 7))
    error = np.linalg.norm(refined - true_corners, axis=1)
    assert error.max() < tolerance_px, error
    assert error.mean() < 0.5 * np.linalg.norm(start - true_corners, axis=1).mean()


def test_inner_edges_beat_the_outer_square_alone():
    """Over blurred low-contrast views, the whole grid gives smaller corner errors."""
    edges = module_edges(FAMILY, 7)
    outer = edges.outer
    outer_only = ModuleEdges(
        modules=edges.modules,
        vertical=edges.vertical[outer],
        line=edges.line[outer],
        start=edges.start[outer],
        brighter_towards_larger=edges.brighter_towards_larger[outer],
        outer=outer[outer],
    )
    rng = np.random.default_rng(0)
    errors = {"grid": [], "outer": []}
    for _ in range(12):
        grey = _sheet_view(MODULES_4PX, rng, contrast=30.0, blur_px=1.0)
        start = MODULES_4PX + rng.uniform(-0.5, 0.5, MODULES_4PX.shape)
        for name, e in (("grid", edges), ("outer", outer_only)):
            refined = refine_marker_corners(grey, start, e)
            errors[name].extend(np.linalg.norm(refined - MODULES_4PX, axis=1))
    assert np.mean(errors["grid"]) < 0.9 * np.mean(errors["outer"]), errors


@pytest.mark.parametrize("shift_px", [(6.0, -5.0), (3.0, 0.0)])
def test_corners_off_the_marker_are_returned_unchanged(shift_px):
    grey = _sheet_view(MODULES_10PX, np.random.default_rng(5))
    wrong = MODULES_10PX + np.array(shift_px)
    np.testing.assert_array_equal(
        refine_marker_corners(grey, wrong, module_edges(FAMILY, 7)), wrong
    )


def test_a_blank_image_leaves_the_corners_unchanged():
    blank = np.full((240, 320), 200, np.uint8)
    refined = refine_marker_corners(blank, MODULES_10PX, module_edges(FAMILY, 7))
    np.testing.assert_array_equal(refined, MODULES_10PX)


def test_corners_two_pixels_off_are_found_through_the_outer_square():
    """Half a module of search is too little here: the outer square's wide search leads."""
    rng = np.random.default_rng(6)
    grey = _sheet_view(MODULES_4PX, rng)
    start = MODULES_4PX + np.array([1.9, -1.6])
    refined = refine_marker_corners(grey, start, module_edges(FAMILY, 7))
    assert np.linalg.norm(refined - MODULES_4PX, axis=1).max() < 0.15


def test_a_partly_hidden_border_is_extrapolated_from_the_rest_of_the_grid():
    """Something bright in front hides the lower border; the detector took its edge for it."""
    rng = np.random.default_rng(8)
    grey = _sheet_view(MODULES_10PX, rng)
    bottom = MODULES_10PX[2:, 1].min()
    grey[int(bottom) - 5 :, 60:200] = 235  # hides the lower half of the bottom border
    start = MODULES_10PX + rng.uniform(-0.3, 0.3, MODULES_10PX.shape)
    start[2:, 1] -= 2.5  # the detector's bottom corners on the occluder's edge
    refined = refine_marker_corners(grey, start, module_edges(FAMILY, 7))
    assert np.linalg.norm(refined - MODULES_10PX, axis=1).max() < 0.3


@pytest.mark.parametrize("tone_power", [0.5, 2.5])
def test_black_modules_grown_or_shrunk_alike_do_not_move_the_corners(tone_power):
    """A blurred marker through a tone curve the detector does not undo: every black module
    grows (power > 1) or shrinks (< 1) by ~0.25 px; the corners stay where they are."""
    rng = np.random.default_rng(9)
    grey = _sheet_view(MODULES_10PX, rng, blur_px=1.2, tone_power=tone_power)
    start = MODULES_10PX + rng.uniform(-0.5, 0.5, MODULES_10PX.shape)
    refined = refine_marker_corners(grey, start, module_edges(FAMILY, 7))
    error = refined - MODULES_10PX
    centre = MODULES_10PX.mean(axis=0)
    outward = (MODULES_10PX - centre) / np.linalg.norm(MODULES_10PX - centre, axis=1)[:, None]
    assert abs(np.mean(np.sum(error * outward, axis=1))) < 0.05
    assert np.linalg.norm(error, axis=1).max() < 0.2, error
