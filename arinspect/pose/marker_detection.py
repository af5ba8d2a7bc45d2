"""Detect the printed fiducials of a section in an image (OpenCV 5 ArucoDetector).

One detector per marker family; AprilTag 36h11 goes through OpenCV's AprilTag
dictionaries. Corners are returned in the distorted image, OpenCV ArUco order
(top-left, top-right, bottom-right, bottom-left), refined to sub-pixel accuracy on the
linearised image.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from arinspect.errors import ShapeError
from arinspect.markers import dictionary
from arinspect.typed import FloatArray, UInt8Image

CORNER_REFINEMENT = {
    "none": cv2.aruco.CORNER_REFINE_NONE,
    "subpix": cv2.aruco.CORNER_REFINE_SUBPIX,
    "contour": cv2.aruco.CORNER_REFINE_CONTOUR,
    "apriltag": cv2.aruco.CORNER_REFINE_APRILTAG,
}


@dataclass(frozen=True)
class MarkerDetection:
    """One marker seen in an image.

    Attributes:
        family: Marker family name as in the section file.
        id: Marker id within the family.
        corners_px: (4, 2) corner pixels in the distorted image, ArUco order.
    """

    family: str
    id: int
    corners_px: FloatArray

    @property
    def key(self) -> tuple[str, int]:
        """(family, id), as `Marker.key`."""
        return (self.family, self.id)


@dataclass(frozen=True)
class MarkerDetectorConfig:
    """ArUco detection settings.

    Attributes:
        corner_refinement: OpenCV's refinement before the edge fit: ``subpix`` (default),
            ``contour``, ``apriltag`` or ``none``.
        edge_fit: Refine each corner as the intersection of lines fitted to the sub-pixel
            gradient peaks along the marker's outer edges (unbiased; OpenCV's ``apriltag``
            refinement is shifted by about +0.45 px in x and y, ``subpix`` twists corners
            by about 0.3 px).
        min_marker_perimeter_rate: Smallest marker perimeter as a fraction of the image's
            larger side (OpenCV's default is 0.03; smaller finds far markers).
        adaptive_thresh_win_size_max: Largest adaptive-threshold window, pixels.
        gamma: Display gamma of the images; they are linearised before detection, because
            a gamma-encoded anti-aliased edge of a black square sits ~0.5 px inside the
            true edge (measured on renders: -0.5 px bias, -0.04 px after linearising).
            None leaves the image as it is.
    """

    corner_refinement: str = "subpix"
    edge_fit: bool = True
    min_marker_perimeter_rate: float = 0.02
    adaptive_thresh_win_size_max: int = 23
    gamma: float | None = 2.2


class MarkerDetector:
    """Finds markers of the given families; build once, call `detect` per frame."""

    def __init__(
        self, families: Iterable[str], config: MarkerDetectorConfig = MarkerDetectorConfig()
    ) -> None:
        """Prepare one OpenCV detector per family.

        Raises:
            ConfigError: a family is unknown.
        """
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = CORNER_REFINEMENT[config.corner_refinement]
        params.minMarkerPerimeterRate = config.min_marker_perimeter_rate
        params.adaptiveThreshWinSizeMax = config.adaptive_thresh_win_size_max
        self._lut = None
        if config.gamma is not None:
            levels = np.power(np.arange(256) / 255.0, config.gamma) * 255.0
            self._lut = np.round(levels).astype(np.uint8)
        self._edge_fit = config.edge_fit
        self._detectors = {
            family: cv2.aruco.ArucoDetector(dictionary(family), params)
            for family in sorted(set(families))
        }

    def detect(self, image: UInt8Image) -> list[MarkerDetection]:
        """Every marker of the families in a BGR (H, W, 3) or grey (H, W) uint8 image."""
        if image.ndim == 3:
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        elif image.ndim == 2:
            grey = image
        else:
            raise ShapeError("image", tuple(image.shape), "(H, W, 3) or (H, W)")
        if self._lut is not None:
            grey = self._lut[grey]
        found = []
        for family, detector in self._detectors.items():
            corners, ids, _ = detector.detectMarkers(grey)
            if ids is None:
                continue
            for marker_corners, marker_id in zip(corners, ids.ravel(), strict=True):
                if self._edge_fit:
                    marker_corners = refine_corners_by_edges(
                        grey, np.asarray(marker_corners, np.float64).reshape(4, 2)
                    )
                found.append(
                    MarkerDetection(
                        family, int(marker_id), np.asarray(marker_corners, np.float64).reshape(4, 2)
                    )
                )
        return found


def _gradient(grey: UInt8Image) -> tuple[np.ndarray, np.ndarray]:
    """Image gradient (d/du, d/dv), float32, grey levels per pixel."""
    image = grey.astype(np.float32)
    return cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3) / 8, cv2.Sobel(
        image, cv2.CV_32F, 0, 1, ksize=3
    ) / 8


EDGE_SEARCH_PX = 2.0
EDGE_STEP_PX = 0.25


def refine_corners_by_edges(grey: UInt8Image, corners: FloatArray) -> FloatArray:
    """Corners as intersections of lines fitted to the four outer edges of a marker.

    Along each edge (its middle 70 %), the gradient across the edge is sampled every pixel
    over +-2 px; its peak (sub-pixel, parabola) is an edge point, and a line is fitted
    through them by total least squares, twice, dropping points off by more than 0.5 px.
    Only dark-inside, bright-outside transitions count, so the code's inner edges are
    ignored. A corner that would move by more than 2 px keeps its input position.

    Args:
        grey: (H, W) uint8 (linearised) grey image.
        corners: (4, 2) corners in ArUco order (clockwise in the image), pixels.

    Returns:
        (4, 2) refined corners, pixels.
    """
    h, w = grey.shape
    margin = int(EDGE_SEARCH_PX) + 4
    x0, y0 = (max(int(np.floor(v)) - margin, 0) for v in corners.min(axis=0))
    x1 = min(int(np.ceil(corners[:, 0].max())) + margin + 1, w)
    y1 = min(int(np.ceil(corners[:, 1].max())) + margin + 1, h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return corners
    gx, gy = _gradient(grey[y0:y1, x0:x1])
    origin = np.array([x0, y0], dtype=np.float64)
    a, b = corners, np.roll(corners, -1, axis=0)  # edge k runs from corner k to corner k+1
    length = np.linalg.norm(b - a, axis=1)
    if length.min() < 6:
        return corners
    t = (b - a) / length[:, None]
    outward = np.stack([t[:, 1], -t[:, 0]], axis=1)  # clockwise corners: outward is on the left
    along = np.linspace(0.15, 0.85, max(int(length.min() * 0.7), 4))
    offsets = np.arange(-EDGE_SEARCH_PX, EDGE_SEARCH_PX + 1e-9, EDGE_STEP_PX)
    base = a[:, None, :] + along[None, :, None] * (b - a)[:, None, :]  # (4, S, 2)
    pts = base[:, :, None, :] + offsets[None, None, :, None] * outward[:, None, None, :] - origin
    map_u = pts[..., 0].reshape(-1, len(offsets)).astype(np.float32)
    map_v = pts[..., 1].reshape(-1, len(offsets)).astype(np.float32)
    su = cv2.remap(gx, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sv = cv2.remap(gy, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    n_out = np.repeat(outward, len(along), axis=0)  # (4 S, 2)
    profile = su * n_out[:, :1] + sv * n_out[:, 1:]  # > 0: brighter outside
    rows = np.arange(len(profile))
    best = np.argmax(profile, axis=1)
    peak = profile[rows, best]
    left = profile[rows, np.clip(best - 1, 0, len(offsets) - 1)]
    right = profile[rows, np.clip(best + 1, 0, len(offsets) - 1)]
    denom = left - 2 * peak + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / denom, 0.0)
    step = offsets[best] + np.clip(shift, -0.5, 0.5) * EDGE_STEP_PX
    edge_pts = base.reshape(-1, 2) + step[:, None] * n_out
    peak = peak.reshape(4, -1)
    usable = (best.reshape(4, -1) > 0) & (best.reshape(4, -1) < len(offsets) - 1)
    usable &= peak > 0.25 * peak.max(axis=1, keepdims=True)
    centre, direction = _fit_lines(edge_pts.reshape(4, -1, 2), usable)
    if centre is None:
        return corners
    refined = np.array(
        [_intersect((centre[k - 1], direction[k - 1]), (centre[k], direction[k])) for k in range(4)]
    )
    if not np.isfinite(refined).all() or np.abs(refined - corners).max() > 2.0:
        return corners
    return refined


def _fit_lines(
    points: FloatArray, usable: np.ndarray
) -> tuple[FloatArray | None, FloatArray | None]:
    """Total-least-squares lines through (L, S, 2) points, refitted without > 0.5 px outliers.

    Returns (L, 2) centres and (L, 2) unit directions, or (None, None) if a line has fewer
    than 3 usable points.
    """
    weight = usable.astype(np.float64)
    for _ in range(2):
        total = weight.sum(axis=1)
        if total.min() < 3:
            return None, None
        centre = (weight[..., None] * points).sum(axis=1) / total[:, None]
        d = points - centre[:, None, :]
        scatter = np.einsum("ls,lsi,lsj->lij", weight, d, d)
        _, vectors = np.linalg.eigh(scatter)
        direction, normal = vectors[..., 1], vectors[..., 0]
        distance = np.abs(np.einsum("lsi,li->ls", d, normal))
        weight = weight * (distance < 0.5)
    return centre, direction


def _intersect(
    line_a: tuple[FloatArray, FloatArray], line_b: tuple[FloatArray, FloatArray]
) -> FloatArray:
    (pa, da), (pb, db) = line_a, line_b
    matrix = np.column_stack([da, -db])
    if abs(np.linalg.det(matrix)) < 1e-9:
        return np.full(2, np.nan)
    ta, _ = np.linalg.solve(matrix, pb - pa)
    return pa + ta * da
