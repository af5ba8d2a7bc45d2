"""Detect the printed fiducials of a section in an image (OpenCV 5 ArucoDetector).

One detector per marker family; AprilTag 36h11 goes through OpenCV's AprilTag
dictionaries. Corners are returned in the distorted image, OpenCV ArUco order
(top-left, top-right, bottom-right, bottom-left), refined to sub-pixel accuracy on the
linearised image (`arinspect.pose.marker_corners`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from arinspect.errors import ShapeError
from arinspect.markers import dictionary
from arinspect.pose.marker_corners import module_edges, refine_marker_corners
from arinspect.typed import FloatArray, UInt8Image

CORNER_REFINEMENT = {
    "none": cv2.aruco.CORNER_REFINE_NONE,
    "subpix": cv2.aruco.CORNER_REFINE_SUBPIX,
    "contour": cv2.aruco.CORNER_REFINE_CONTOUR,
    "apriltag": cv2.aruco.CORNER_REFINE_APRILTAG,
}

FAR_MARKER_PARAMETERS = {
    "perspectiveRemovePixelPerCell": 8,
    "perspectiveRemoveIgnoredMarginPerCell": 0.25,
    "minCornerDistanceRate": 0.01,
    "minDistanceToBorder": 1,
    "adaptiveThreshWinSizeMin": 8,
    "adaptiveThreshWinSizeStep": 15,
}
"""OpenCV `DetectorParameters` that read small, far markers (set on top of the defaults).

A worker walking past a block sees most markers 15-30 px wide. Reading each module's bit
from 8x8 samples (default 4x4) over its central half (default: all but 13 % margins), with
candidates allowed near each other and the image border, and thresholding with 8 and 23 px
windows (default 3, 13 and 23): on the six inspection-benchmark recordings
(`out/bench_inspection`), markers fully in view 14-18 px wide are read in 62 % of frames
(49 % with the defaults), 18-24 px in 89 % (76 %), all sizes 81 % (73 %), with no more
misread ids (one in 180 frames); on the pose benchmark's views detection takes 1.7 ms less
per 640x480 frame and finds as many markers. A lower adaptive-threshold constant (3,
default 7) read 2 % more but cost 3 ms per frame on the pose benchmark's views (more
candidate quads in textured steel)."""


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
        grid_fit: Refine the corners by fitting the marker's homography to the sub-pixel
            gradient peaks along every edge of its printed module grid, the code's inner
            edges included, with the growth of its black modules (`refine_marker_corners`;
            median corner error 0.08 px on the pose benchmark's renders, 0.27 px from the
            outer square's four edges alone; OpenCV's ``apriltag`` refinement is shifted
            by about +0.45 px in x and y, ``subpix`` twists corners by about 0.3 px).
        min_marker_perimeter_rate: Smallest marker perimeter as a fraction of the image's
            larger side (OpenCV's default is 0.03; smaller finds far markers).
        adaptive_thresh_win_size_max: Largest adaptive-threshold window, pixels.
        gamma: Display gamma of the images; they are linearised before detection, because
            a gamma-encoded anti-aliased edge of a black square sits ~0.5 px inside the
            true edge (measured on renders: -0.5 px bias, -0.04 px after linearising).
            None leaves the image as it is.
    """

    corner_refinement: str = "subpix"
    grid_fit: bool = True
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
        for name, value in FAR_MARKER_PARAMETERS.items():
            setattr(params, name, value)
        self._lut = None
        if config.gamma is not None:
            levels = np.power(np.arange(256) / 255.0, config.gamma) * 255.0
            self._lut = np.round(levels).astype(np.uint8)
        self._grid_fit = config.grid_fit
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
                marker_corners = np.asarray(marker_corners, np.float64).reshape(4, 2)
                if self._grid_fit:
                    edges = module_edges(family, int(marker_id))
                    marker_corners = refine_marker_corners(grey, marker_corners, edges)
                found.append(MarkerDetection(family, int(marker_id), marker_corners))
        return found
