"""Sub-pixel marker corners from every edge of the marker's printed module grid.

A marker's pattern is a grid of n x n black and white modules (the one-module black border
included). Every boundary between two modules of different colour, and between the black
border and the white sheet around it, lies on a grid line x = k or y = k (modules from the
outer square's top-left corner), and a plane-to-image homography maps grid lines to
straight image lines. So the sub-pixel gradient peaks found across all those boundaries
pin one homography, and the corners are its image of (0, 0), (n, 0), (n, n), (0, n).
Using the code's inner edges as well as the outer square's four sides gives 2-3 times as
many edge points per marker: corner noise drops accordingly (docs/pose.md). The inner
edges also tell how much every black module has grown or shrunk (ink, overexposure, blur
through a tone curve): fitted beside the homography, that growth no longer scales the
marker (`_bleed_columns`).

Modules narrower than `MIN_INNER_MODULE_PX` in the image are too blurred for their edges to
be found apart from their neighbours'; such markers are fitted to the outer square alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from arinspect.markers import marker_image
from arinspect.typed import FloatArray, UInt8Image

MIN_INNER_MODULE_PX = 2.5
"""Smallest module side in the image (px) at which the code's inner edges are used."""

MAX_SEARCH_PX = 2.0
"""Farthest an edge is searched from its predicted place, pixels (outer edges)."""

SEARCH_STEP_PX = 0.25
"""Sampling step of the gradient profile across an edge, pixels."""

SEGMENT_SPAN = (0.2, 0.8)
"""Part of each one-module boundary segment that is sampled (its ends touch other edges)."""

MIN_EDGE_SHARE = 0.5
"""Share of the predicted edge points that must be found on the fitted grid."""

CONFIDENT_EDGE_SHARE = 0.9
"""A whole-grid fit straight from the detector's corners with this share is kept as it is;
below it, the outer square is fitted first (wider search) and the grid from there."""

ON_GRID_PX = 0.5
"""An edge point within this distance of its fitted grid line is on the grid, pixels."""

MAX_CORNER_SHIFT_PX = 3.0
"""A fit that moves a corner farther than this from the detector's is not trusted. The
detector's corner of a marker whose border is partly hidden (a pipe or flange in front)
lies on the occluder's edge, 2-3 px off; the grid fit puts it back from the visible
edges."""


@dataclass(frozen=True, eq=False)  # hashed by identity: one cached object per marker
class ModuleEdges:
    """The colour boundaries of one marker's pattern, one row per one-module segment.

    Coordinates are in modules, (0, 0) at the outer black square's top-left corner, x to
    the right and y down, as in the printed marker image; the pattern is `modules` wide.

    Attributes:
        modules: n, modules per side, black border included.
        vertical: (S,) True for a segment on a vertical line x = k, False for y = k.
        line: (S,) k, the grid line the segment lies on.
        start: (S,) the segment runs from `start` to `start + 1` along its line.
        brighter_towards_larger: (S,) +1 where the brighter module is on the side of larger
            x (vertical lines) or larger y (horizontal lines), -1 otherwise.
        outer: (S,) True for segments of the outer square (black border against the sheet).
    """

    modules: int
    vertical: np.ndarray
    line: FloatArray
    start: FloatArray
    brighter_towards_larger: FloatArray
    outer: np.ndarray


@lru_cache(maxsize=4096)
def module_edges(family: str, marker_id: int) -> ModuleEdges:
    """The colour boundaries of a marker's printed pattern (cached per marker).

    Raises:
        ConfigError: the family is unknown or the id outside it.
    """
    white = (marker_image(family, marker_id, module_px=1) > 127).astype(np.int8)
    n = white.shape[0]
    sheet = np.ones((n + 2, n + 2), np.int8)  # the white sheet around the marker
    sheet[1:-1, 1:-1] = white
    # Vertical line x = k separates columns k - 1 and k of the pattern (sheet columns k, k+1).
    left, right = sheet[1:-1, :-1], sheet[1:-1, 1:]  # (n rows j, n + 1 lines k)
    j_v, k_v = np.nonzero(left != right)
    sign_v = np.where(right[j_v, k_v] > left[j_v, k_v], 1.0, -1.0)
    above, below = sheet[:-1, 1:-1], sheet[1:, 1:-1]  # (n + 1 lines k, n columns j)
    k_h, j_h = np.nonzero(above != below)
    sign_h = np.where(below[k_h, j_h] > above[k_h, j_h], 1.0, -1.0)
    line = np.concatenate([k_v, k_h]).astype(np.float64)
    return ModuleEdges(
        modules=n,
        vertical=np.concatenate([np.ones(len(k_v), bool), np.zeros(len(k_h), bool)]),
        line=line,
        start=np.concatenate([j_v, j_h]).astype(np.float64),
        brighter_towards_larger=np.concatenate([sign_v, sign_h]),
        outer=(line == 0) | (line == n),
    )


def refine_marker_corners(grey: UInt8Image, corners: FloatArray, edges: ModuleEdges) -> FloatArray:
    """Corners of a marker from a homography fitted to all its module edges.

    A fit predicts edge segments from the corners so far, finds the sub-pixel peak of the
    gradient across them (right polarity only) at points along their middle, and fits the
    homography to those points by iteratively reweighted linear least squares
    (point-to-grid-line residuals, outliers beyond 3 robust sigma dropped). The whole
    grid is fitted first, each edge searched less than half a module either side so that
    its neighbours are not mistaken for it. When fewer than `CONFIDENT_EDGE_SHARE` of its
    points end on the fitted grid (detector corners can be 2 px off, more than half a
    module), the outer square alone is fitted, searched +-`MAX_SEARCH_PX`, and the whole
    grid again from there; of the two whole-grid fits, the one with more points on its
    grid is kept.

    Args:
        grey: (H, W) uint8 grey image, linearised (see `MarkerDetectorConfig.gamma`).
        corners: (4, 2) approximate corners in ArUco order (the printed image's top-left,
            top-right, bottom-right, bottom-left), pixels, within about 2 px (3 px where
            the border is partly hidden).
        edges: The marker's `module_edges`.

    Returns:
        (4, 2) refined corners, pixels. A fit is not used when the edges do not pin a
        homography, when fewer than `MIN_EDGE_SHARE` of its predicted edge points are
        found on the fitted grid, or when it would move a corner by more than
        `MAX_CORNER_SHIFT_PX` from the input; the input corners come back when no fit
        is used.
    """
    corners = np.asarray(corners, np.float64)
    side_px = float(np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1).min())
    module_px = side_px / edges.modules
    if module_px < 1.5:
        return corners
    crop = _GradientCrop(grey, corners, margin_px=int(np.ceil(MAX_SEARCH_PX)) + 4)
    if crop.empty:
        return corners
    grid_search_px = min(MAX_SEARCH_PX, 0.45 * module_px)
    grid_fits = []  # (share of edge points on the grid, corners) of usable whole-grid fits
    if module_px >= MIN_INNER_MODULE_PX:
        first, share = _fit_stage(crop, corners, edges, grid_search_px, module_px, outer_only=False)
        if _near(first, corners):
            if share >= CONFIDENT_EDGE_SHARE:
                return first
            grid_fits.append((share, first))
    outer, _ = _fit_stage(crop, corners, edges, MAX_SEARCH_PX, module_px, outer_only=True)
    if _near(outer, corners) and module_px >= MIN_INNER_MODULE_PX:
        second, share = _fit_stage(crop, outer, edges, grid_search_px, module_px, outer_only=False)
        if _near(second, corners):
            grid_fits.insert(0, (share, second))  # preferred on equal shares
    if grid_fits:
        return max(grid_fits, key=lambda fit: fit[0])[1]
    return outer if _near(outer, corners) else corners


def _near(fitted: FloatArray | None, corners: FloatArray) -> bool:
    """Whether a fit exists and moves no corner farther than `MAX_CORNER_SHIFT_PX`."""
    return fitted is not None and bool(np.abs(fitted - corners).max() <= MAX_CORNER_SHIFT_PX)


def _fit_stage(
    crop: _GradientCrop,
    corners: FloatArray,
    edges: ModuleEdges,
    search_px: float,
    module_px: float,
    *,
    outer_only: bool,
) -> tuple[FloatArray | None, float]:
    """Corners fitted to the outer square's edges or to the whole grid's.

    Returns:
        The corners (None if the fit fails) and the share of the predicted edge points
        found on the fitted grid.
    """
    per_segment = max(int(module_px * (SEGMENT_SPAN[1] - SEGMENT_SPAN[0])), 2)
    samples = _edge_samples(edges, outer_only, per_segment)
    offsets = np.arange(-search_px, search_px + 1e-9, SEARCH_STEP_PX)
    H = _homography(edges.modules, corners)
    found, image_pts = crop.edge_points(H, samples, offsets)
    fit = _fit_corners(
        edges.modules,
        corners,
        image_pts[found],
        samples.vertical[found],
        samples.line[found],
        samples.towards[found],
    )
    if fit is None:
        return None, 0.0
    fitted, on_grid = fit
    share = on_grid / len(samples.line)
    if share < MIN_EDGE_SHARE or not np.isfinite(fitted).all():
        return None, share
    return fitted, share


@dataclass(frozen=True)
class _EdgeSamples:
    """Points along the middle of edge segments, in module coordinates.

    Attributes:
        grid_pts: (P, 2) the points.
        vertical: (P,) on a vertical grid line.
        line: (P,) k of that line.
        across: (P, 1) +-1: the brighter side is towards larger x (vertical lines) or y,
            signed so that it multiplies the image normal (-t_y, t_x) of the line.
        towards: (P,) the segment's `ModuleEdges.brighter_towards_larger`.
        column: (P,) column of the homography along the line (1 for x = k, 0 for y = k).
    """

    grid_pts: FloatArray
    vertical: np.ndarray
    line: FloatArray
    across: FloatArray
    towards: FloatArray
    column: np.ndarray


@lru_cache(maxsize=8192)
def _edge_samples(edges: ModuleEdges, outer_only: bool, per_segment: int) -> _EdgeSamples:
    """`per_segment` points along each segment of the outer square or of the whole grid."""
    use = edges.outer if outer_only else np.ones(len(edges.line), bool)
    along = np.linspace(*SEGMENT_SPAN, per_segment)
    vertical = np.repeat(edges.vertical[use], per_segment)
    line = np.repeat(edges.line[use], per_segment)
    position = (edges.start[use][:, None] + along[None, :]).ravel()
    grid_pts = np.where(
        vertical[:, None], np.stack([line, position], 1), np.stack([position, line], 1)
    )
    towards = np.repeat(edges.brighter_towards_larger[use], per_segment)
    # (-t_y, t_x) is the image of -x across a vertical grid line and of +y across a
    # horizontal one (ArUco finds markers from their printed side only: no mirroring).
    across = np.where(vertical, -towards, towards)[:, None]
    return _EdgeSamples(grid_pts, vertical, line, across, towards, vertical.astype(np.intp))


class _GradientCrop:
    """Image gradient around one marker, sampled across predicted edges."""

    def __init__(self, grey: UInt8Image, corners: FloatArray, margin_px: int) -> None:
        h, w = grey.shape
        x0, y0 = (max(int(np.floor(v)) - margin_px, 0) for v in corners.min(axis=0))
        x1 = min(int(np.ceil(corners[:, 0].max())) + margin_px + 1, w)
        y1 = min(int(np.ceil(corners[:, 1].max())) + margin_px + 1, h)
        self.empty = x1 - x0 < 8 or y1 - y0 < 8
        self.origin = np.array([x0, y0], np.float64)
        if not self.empty:
            patch = grey[y0:y1, x0:x1].astype(np.float32)
            self.gx = cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3) / 8
            self.gy = cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3) / 8

    def edge_points(
        self, H: FloatArray, samples: _EdgeSamples, offsets: FloatArray
    ) -> tuple[np.ndarray, FloatArray]:
        """Sub-pixel edge crossings near the images of the sample points under homography H.

        Returns (P,) found flags and (P, 2) image points (pixels) on the edges.
        """
        homogeneous = samples.grid_pts @ H[:, :2].T + H[:, 2]
        predicted = homogeneous[:, :2] / homogeneous[:, 2:]
        # Along a vertical line only y varies (column 1 of H), along a horizontal one x:
        # d(p/w) is parallel to dp w - p dw.
        along = H[:, samples.column].T
        tangent = along[:, :2] * homogeneous[:, 2:] - homogeneous[:, :2] * along[:, 2:]
        normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
        normal *= samples.across / np.linalg.norm(normal, axis=1, keepdims=True)
        probe = predicted[:, None, :] + offsets[None, :, None] * normal[:, None, :] - self.origin
        map_u = probe[..., 0].astype(np.float32)
        map_v = probe[..., 1].astype(np.float32)
        gu = cv2.remap(self.gx, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        gv = cv2.remap(self.gy, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        profile = gu * normal[:, :1] + gv * normal[:, 1:]  # > 0: brighter on the bright side
        rows = np.arange(len(profile))
        best = np.argmax(profile, axis=1)
        last = len(offsets) - 1
        peak = profile[rows, best]
        offset = _peak_centroid(profile, peak, best, offsets)
        k = int(0.9 * (len(peak) - 1))
        strong = peak > 0.25 * np.partition(peak, k)[k]  # a quarter of the 90th percentile
        found = (best > 0) & (best < last) & strong
        return found, predicted + offset[:, None] * normal


def _peak_centroid(
    profile: FloatArray, peak: FloatArray, best: np.ndarray, offsets: FloatArray
) -> FloatArray:
    """(P,) where each gradient profile's peak lies: the centroid of its upper half.

    A motion-blurred edge's gradient is a plateau, not a peak: its highest sample can be
    anywhere on it, up to half the blur off the edge, and a parabola through three samples
    of a plateau says nothing. The centroid of the run of samples above half the peak
    that holds the highest one is the edge for any symmetric blur (on the pose
    benchmark's views: median corner error 0.12 -> 0.08 px, with the growth of black
    modules fitted, see `_bleed_columns`).
    """
    half = 0.5 * peak[:, None]
    above = profile > half
    index = np.arange(profile.shape[1])[None, :]
    below_left = np.where(~above & (index < best[:, None]), index, -1).max(axis=1)
    below_right = np.where(~above & (index > best[:, None]), index, profile.shape[1]).min(axis=1)
    run = (index > below_left[:, None]) & (index < below_right[:, None])
    weight = np.where(run, profile - half, 0.0)
    return (weight @ offsets) / np.maximum(weight.sum(axis=1), 1e-12)


def _square(modules: int) -> FloatArray:
    """(4, 2) corners of the outer square in module coordinates, ArUco order."""
    return np.array([[0, 0], [modules, 0], [modules, modules], [0, modules]], np.float64)


def _homography(modules: int, corners: FloatArray) -> FloatArray:
    """3x3 homography from module coordinates to pixels through the four corners."""
    square = _square(modules).astype(np.float32)
    return cv2.getPerspectiveTransform(square, corners.astype(np.float32)).astype(np.float64)


def _apply(H: FloatArray, pts: FloatArray) -> FloatArray:
    p = pts @ H[:, :2].T + H[:, 2]
    return p[:, :2] / p[:, 2:3]


def _bleed_columns(
    vertical: np.ndarray, line: FloatArray, brighter_towards_larger: FloatArray
) -> FloatArray:
    """(P, 0-2) design columns of how much every black module grows, per line direction.

    Ink spreading on paper, a white sheet clipped by overexposure under motion blur, a
    blur applied to tone-mapped values, or a tone curve other than the one linearised:
    each grows (or shrinks) every black module of a marker alike, which moves each edge
    towards its brighter side, so that on one grid line the edges of opposite polarity
    part by twice the growth. Unfitted, the growth scales the marker, and through the
    apparent sizes of far markers biases the pose (on the pose benchmark's views corners
    sat 0.06 px outside the true ones on average, up to 0.2 px in blurred frames). One column
    per direction of grid line (the growth depends on the blur's direction) where some
    line has edges of both polarities; the outer square alone cannot tell growth from
    scale. The row of a point is divided by g3.p like the rest of the fit.
    """
    columns = []
    for direction in (vertical, ~vertical):
        lines = line[direction]
        signs = brighter_towards_larger[direction]
        if np.intersect1d(lines[signs > 0], lines[signs < 0]).size:
            columns.append(np.where(direction, brighter_towards_larger, 0.0))
    return np.stack(columns, axis=1) if columns else np.zeros((len(line), 0))


def _fit_corners(
    modules: int,
    corners: FloatArray,
    pts: FloatArray,
    vertical: np.ndarray,
    line: FloatArray,
    brighter_towards_larger: FloatArray,
) -> tuple[FloatArray, int] | None:
    """Corners of the homography whose grid lines pass closest to the edge points.

    The inverse homography G (pixels to modules, G[2, 2] = 1 in coordinates centred on
    the marker) makes "point p lies on line x = k" linear in G: g1.p - k g3.p = 0.
    Dividing each row by g3.p of the previous estimate turns it into a distance in
    modules; rows off by more than 3 robust sigma are dropped. Up to two more unknowns,
    the growth of black modules across vertical and horizontal lines (`_bleed_columns`),
    are fitted with G and set aside.

    Args:
        modules: n, modules per side.
        corners: (4, 2) corners so far, pixels (they fix the coordinates' centre, scale
            and the first estimate of g3).
        pts: (P, 2) edge points found, pixels.
        vertical: (P,) whether each point's grid line is x = k (else y = k).
        line: (P,) k of each point's grid line.
        brighter_towards_larger: (P,) +-1, the polarity of each point's edge.

    Returns:
        (4, 2) corners, pixels, and how many points lie on the fitted grid (within
        `ON_GRID_PX`); None when the points do not pin a homography (fewer than two
        distinct lines of either direction with three points each).
    """
    for direction in (vertical, ~vertical):
        if (np.bincount(line[direction].astype(np.int64)) >= 3).sum() < 2:
            return None
    centre = corners.mean(axis=0)
    scale = float(np.linalg.norm(corners[2] - corners[0]))
    u, v = ((pts - centre) / scale).T
    uv1 = np.stack([u, v, np.ones_like(u)], axis=1)
    on_vertical = vertical[:, None]
    A_grid = np.concatenate(
        [uv1 * on_vertical, uv1 * ~on_vertical, -line[:, None] * uv1[:, :2]], axis=1
    )
    bleed = _bleed_columns(vertical, line, brighter_towards_larger)
    try:
        G = np.linalg.inv(_homography(modules, (corners - centre) / scale))
    except np.linalg.LinAlgError:
        return None  # a degenerate quadrilateral
    G /= G[2, 2]
    keep = np.ones(len(u), bool)
    px_per_module = scale / (modules * np.sqrt(2.0))
    for _ in range(3):
        w = G[2, 0] * u + G[2, 1] * v + 1.0
        A = np.concatenate([A_grid, bleed * w[:, None]], axis=1)
        weighted = A.T * (keep / w**2)
        try:
            params = np.linalg.solve(weighted @ A, weighted @ line)
        except np.linalg.LinAlgError:
            return None
        G = np.append(params[:8], 1.0).reshape(3, 3)
        residual_px = (A @ params - line) / (G[2, 0] * u + G[2, 1] * v + 1.0) * px_per_module
        kept = np.abs(residual_px[keep])
        sigma = 1.4826 * float(np.partition(kept, len(kept) // 2)[len(kept) // 2]) + 1e-3
        keep = np.abs(residual_px) < 3 * sigma + 0.1
    try:
        H = np.linalg.inv(G)
    except np.linalg.LinAlgError:
        return None
    return _apply(H, _square(modules)) * scale + centre, int(
        np.count_nonzero(np.abs(residual_px) < ON_GRID_PX)
    )
