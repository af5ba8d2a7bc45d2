"""Camera intrinsics from photos of a calibration board.

Per photo the board's points are found with sub-pixel accuracy (chessboard:
``findChessboardCorners`` + ``cornerSubPix``; ChArUco: OpenCV 5's ``CharucoDetector``,
which refines its corners itself; circles: ``findCirclesGrid``). Views where the board
is not found, or too little of it, are dropped with the reason. The camera is solved
with ``cv2.calibrateCameraExtended``, which also gives each view's RMS reprojection error
and the standard deviation of every intrinsic parameter; the worst view is dropped and
the camera solved again while it is an outlier (RMS far above the median). A coverage
grid tells where in the image corners were seen.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from arinspect.calibration.boards import BoardSpec
from arinspect.calibration.images import read_images
from arinspect.camera import CameraModel
from arinspect.errors import ConfigError
from arinspect.geometry import make_T, rotation_from_rotvec
from arinspect.typed import FloatArray, UInt8Image

log = logging.getLogger(__name__)

DISTORTION_MODELS = {4: cv2.CALIB_FIX_K3, 5: 0, 8: cv2.CALIB_RATIONAL_MODEL}
"""Calibration flags per number of distortion coefficients (k1 k2 p1 p2 [k3 [k4 k5 k6]])."""

PARAMETER_NAMES = ("fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6")
"""Order of the intrinsic parameters in OpenCV's standard deviations."""


@dataclass(frozen=True)
class IntrinsicsConfig:
    """How to calibrate.

    Attributes:
        distortion_terms: 4 (k1 k2 p1 p2), 5 (+ k3, OpenCV's default) or 8 (rational).
        min_views: Fewest good views to accept a calibration.
        min_points: Fewest board points in a view (ChArUco views may be partial).
        outlier_factor: A view is an outlier when its RMS exceeds this many times the
            median view RMS ...
        outlier_floor_px: ... and also this many pixels.
        coverage_grid_wh: Cells (columns, rows) of the coverage report.
    """

    distortion_terms: int = 5
    min_views: int = 5
    min_points: int = 8
    outlier_factor: float = 3.0
    outlier_floor_px: float = 0.5
    coverage_grid_wh: tuple[int, int] = (6, 4)

    def __post_init__(self) -> None:
        if self.distortion_terms not in DISTORTION_MODELS:
            raise ConfigError(
                f"distortion terms must be one of 4, 5, 8, got {self.distortion_terms}"
            )
        if self.min_views < 3:
            raise ConfigError(f"min_views must be at least 3, got {self.min_views}")


@dataclass(frozen=True)
class BoardView:
    """The board's points found in one photo.

    Attributes:
        name: File name (or another label) of the photo.
        points_board: (N, 3) the found points in the board frame, metres.
        points_px: (N, 2) where they are in the image, pixels.
    """

    name: str
    points_board: FloatArray
    points_px: FloatArray


@dataclass(frozen=True)
class DroppedView:
    """A photo that does not take part in the calibration, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Coverage:
    """Where in the image board points were seen.

    Attributes:
        image_size_wh: (width, height) of the images, pixels.
        counts: (rows, cols) number of points per grid cell.
    """

    image_size_wh: tuple[int, int]
    counts: np.ndarray

    @property
    def empty_cells(self) -> list[tuple[int, int]]:
        """(col, row) of every cell without any point."""
        rows, cols = np.nonzero(self.counts == 0)
        return [(int(c), int(r)) for r, c in zip(rows, cols, strict=True)]

    def cell_bounds_px(self, col: int, row: int) -> tuple[int, int, int, int]:
        """(x0, x1, y0, y1) pixel range of a cell."""
        rows, cols = self.counts.shape
        w, h = self.image_size_wh
        return (col * w // cols, (col + 1) * w // cols, row * h // rows, (row + 1) * h // rows)

    def warnings(self) -> list[str]:
        """One line per empty cell."""
        lines = []
        for col, row in self.empty_cells:
            x0, x1, y0, y1 = self.cell_bounds_px(col, row)
            lines.append(
                f"no board point in the image region x {x0}-{x1} px, y {y0}-{y1} px:"
                " add views with the board there (distortion is weakest constrained there)"
            )
        return lines


@dataclass(frozen=True)
class IntrinsicsResult:
    """A calibrated camera and how far to trust it.

    Attributes:
        camera: Intrinsics with distortion.
        board: The board used.
        rms_px: RMS reprojection error over all points of the used views, pixels.
        views: Names of the used views.
        view_rms_px: (V,) RMS reprojection error of each used view, pixels.
        T_cam_board: (V, 4, 4) board pose in each used view, metres.
        std_dev: (4 + D,) standard deviation of fx, fy, cx, cy (pixels) and of the D
            distortion coefficients (unitless), in `PARAMETER_NAMES` order.
        dropped: Views that were not used, with the reason.
        coverage: Where in the image the used views' points lie.
    """

    camera: CameraModel
    board: BoardSpec
    rms_px: float
    views: tuple[str, ...]
    view_rms_px: FloatArray
    T_cam_board: FloatArray
    std_dev: FloatArray
    dropped: tuple[DroppedView, ...]
    coverage: Coverage

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the entries of `std_dev`."""
        return PARAMETER_NAMES[: len(self.std_dev)]


class BoardDetector:
    """Finds one board's points in photos; build once, call `detect` per photo."""

    def __init__(self, spec: BoardSpec, min_points: int = 8) -> None:
        """Prepare the OpenCV detector of the board.

        Args:
            spec: The board.
            min_points: Fewest points for a partial (ChArUco) view to count.
        """
        self.spec = spec
        self.min_points = min(min_points, spec.point_count)
        self._points_board = spec.points_board()
        if spec.kind == "charuco":
            self._board = spec.charuco_board()
            self._charuco = cv2.aruco.CharucoDetector(self._board)
        elif spec.kind == "circles":
            params = cv2.SimpleBlobDetector_Params()
            params.minArea = 12.0
            params.maxArea = 1e6
            self._blobs = cv2.SimpleBlobDetector_create(params)

    def detect(self, grey: UInt8Image, name: str) -> BoardView | DroppedView:
        """The board's points in an (H, W) uint8 image, or why there are none."""
        if self.spec.kind == "charuco":
            return self._detect_charuco(grey, name)
        if self.spec.kind == "chessboard":
            return self._detect_chessboard(grey, name)
        return self._detect_circles(grey, name)

    def _detect_chessboard(self, grey: UInt8Image, name: str) -> BoardView | DroppedView:
        flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
        found, corners = cv2.findChessboardCorners(grey, self.spec.grid_size, flags=flags)
        if not found:
            return DroppedView(name, "board not found")
        corners = corners.reshape(-1, 2)
        per_row = self.spec.grid_size[0]
        grid = corners.reshape(-1, per_row, 2)
        spacing = min(
            np.linalg.norm(np.diff(grid, axis=1), axis=2).min(),
            np.linalg.norm(np.diff(grid, axis=0), axis=2).min(),
        )
        half_window = int(np.clip(0.4 * spacing, 2, 11))
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-3)
        refined = cv2.cornerSubPix(
            grey, corners.reshape(-1, 1, 2), (half_window, half_window), (-1, -1), criteria
        )
        return BoardView(name, self._points_board, self._upright(refined))

    def _detect_circles(self, grey: UInt8Image, name: str) -> BoardView | DroppedView:
        found, centres = cv2.findCirclesGrid(
            grey, self.spec.grid_size, flags=cv2.CALIB_CB_SYMMETRIC_GRID, blobDetector=self._blobs
        )
        if not found:
            return DroppedView(name, "board not found")
        return BoardView(name, self._points_board, self._upright(centres))

    def _upright(self, points_px: np.ndarray) -> FloatArray:
        """(N, 2) grid points numbered as seen from the board's printed side.

        A camera sees the printed face, so board x (along a row) turned towards board y
        (down a column) turns clockwise in the image too. Symmetric grids may come back
        numbered mirror-wise; their rows are then reversed.
        """
        grid = points_px.reshape(-1, self.spec.grid_size[0], 2).astype(np.float64)
        along_row = grid[0, -1] - grid[0, 0]
        down_column = grid[-1, 0] - grid[0, 0]
        if along_row[0] * down_column[1] - along_row[1] * down_column[0] < 0:
            grid = grid[:, ::-1]
        return grid.reshape(-1, 2)

    def _detect_charuco(self, grey: UInt8Image, name: str) -> BoardView | DroppedView:
        corners, ids, _, marker_ids = self._charuco.detectBoard(grey)
        if ids is None or len(ids) == 0:
            markers = 0 if marker_ids is None else len(marker_ids)
            return DroppedView(name, f"board not found ({markers} of its markers seen)")
        ids = ids.reshape(-1)
        if len(ids) < self.min_points:
            return DroppedView(
                name, f"only {len(ids)} board corners seen (at least {self.min_points} needed)"
            )
        if self._board.checkCharucoCornersCollinear(ids):
            return DroppedView(name, "the board corners seen lie on one line")
        return BoardView(name, self._points_board[ids], corners.reshape(-1, 2).astype(np.float64))


def detect_views(
    spec: BoardSpec, images: Iterable[tuple[str, UInt8Image]], min_points: int = 8
) -> tuple[list[BoardView], list[DroppedView]]:
    """Find the board in every (name, grey image); returns the views found and those not."""
    detector = BoardDetector(spec, min_points)
    found: list[BoardView] = []
    dropped: list[DroppedView] = []
    for name, grey in images:
        view = detector.detect(grey, name)
        if isinstance(view, BoardView):
            found.append(view)
            log.debug("%s: %d board points", name, len(view.points_px))
        else:
            dropped.append(view)
            log.debug("%s: %s", name, view.reason)
    return found, dropped


def calibrate_intrinsics(
    spec: BoardSpec,
    views: Sequence[BoardView],
    image_size_wh: tuple[int, int],
    config: IntrinsicsConfig = IntrinsicsConfig(),
    dropped: Sequence[DroppedView] = (),
) -> IntrinsicsResult:
    """Solve the camera from board views, dropping outlier views one at a time.

    After each solution the view with the largest RMS is dropped if it exceeds
    ``max(outlier_floor_px, outlier_factor x median view RMS)``, and the camera is
    solved again; outliers never count as good views.

    Args:
        spec: The board the views show.
        views: The board's points found per view.
        image_size_wh: (width, height) of the images, pixels.
        config: Distortion model, outlier rule, minimum views.
        dropped: Views already dropped at detection, carried into the result.

    Raises:
        ConfigError: the board was never found, or fewer than `config.min_views` good
            views remain; the message lists the dropped views and why.
    """
    dropped = list(dropped)
    if not views:
        raise ConfigError(
            f"the board ({spec.describe()}) was not found in any of the {len(dropped)} images;"
            " check the board kind, its columns and rows (inner corners for a chessboard,"
            " squares for ChArUco, dots for circles) and the dictionary"
        )
    views = list(views)
    while True:
        _check_enough(views, dropped, config.min_views)
        solution = _solve(views, image_size_wh, config.distortion_terms)
        view_rms = solution.view_rms_px
        median = float(np.median(view_rms))
        limit = max(config.outlier_floor_px, config.outlier_factor * median)
        worst = int(np.argmax(view_rms))
        if view_rms[worst] <= limit:
            break
        dropped.append(
            DroppedView(
                views[worst].name,
                f"outlier: RMS {view_rms[worst]:.2f} px > {limit:.2f} px"
                f" ({config.outlier_factor:g} x the median {median:.2f} px)",
            )
        )
        log.info("dropping %s", dropped[-1])
        del views[worst]
    dist = solution.dist.reshape(-1)[: config.distortion_terms]
    return IntrinsicsResult(
        camera=CameraModel(solution.K, dist, image_size_wh),
        board=spec,
        rms_px=solution.rms_px,
        views=tuple(v.name for v in views),
        view_rms_px=view_rms,
        T_cam_board=solution.T_cam_board,
        std_dev=solution.std_intrinsics[: 4 + config.distortion_terms],
        dropped=tuple(dropped),
        coverage=coverage(views, image_size_wh, config.coverage_grid_wh),
    )


def _check_enough(views: list[BoardView], dropped: list[DroppedView], min_views: int) -> None:
    if len(views) >= min_views:
        return
    listed = "; ".join(f"{d.name}: {d.reason}" for d in dropped[:8])
    more = f"; and {len(dropped) - 8} more" if len(dropped) > 8 else ""
    raise ConfigError(
        f"only {len(views)} good view(s) of the board, at least {min_views} are needed"
        + (f" (dropped: {listed}{more})" if dropped else "")
    )


class _Solution(NamedTuple):
    rms_px: float
    K: FloatArray
    dist: FloatArray
    T_cam_board: FloatArray
    std_intrinsics: FloatArray
    view_rms_px: FloatArray


def _solve(
    views: Sequence[BoardView], image_size_wh: tuple[int, int], distortion_terms: int
) -> _Solution:
    """cv2.calibrateCameraExtended on the views."""
    object_points = [v.points_board.astype(np.float32) for v in views]
    image_points = [v.points_px.astype(np.float32).reshape(-1, 1, 2) for v in views]
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
    rms, K, dist, rvecs, tvecs, std_intrinsics, _, view_rms = cv2.calibrateCameraExtended(
        object_points,
        image_points,
        image_size_wh,
        None,
        None,
        flags=DISTORTION_MODELS[distortion_terms],
        criteria=criteria,
    )
    T_cam_board = np.stack(
        [make_T(rotation_from_rotvec(r.reshape(3)), t) for r, t in zip(rvecs, tvecs, strict=True)]
    )
    return _Solution(
        float(rms), K, dist, T_cam_board, std_intrinsics.reshape(-1), view_rms.reshape(-1)
    )


def coverage(
    views: Sequence[BoardView], image_size_wh: tuple[int, int], grid_wh: tuple[int, int]
) -> Coverage:
    """Count the views' points in a (cols x rows) grid over the image."""
    points = np.concatenate([v.points_px for v in views]) if views else np.zeros((0, 2))
    w, h = image_size_wh
    cols, rows = grid_wh
    col = np.clip(((points[:, 0] + 0.5) * cols // w).astype(int), 0, cols - 1)
    row = np.clip(((points[:, 1] + 0.5) * rows // h).astype(int), 0, rows - 1)
    counts = np.zeros((rows, cols), np.int64)
    np.add.at(counts, (row, col), 1)
    return Coverage((w, h), counts)


def calibrate_from_files(
    paths: Sequence[Path], spec: BoardSpec, config: IntrinsicsConfig = IntrinsicsConfig()
) -> IntrinsicsResult:
    """Read the photos, find the board in each, and calibrate (what the CLI runs).

    Raises:
        DataFormatError: a file is unreadable, or its size differs from the first's.
        ConfigError: the board is never found, or too few good views remain.
    """
    sizes: list[tuple[int, int]] = []

    def named_images() -> Iterator[tuple[str, UInt8Image]]:
        for path, grey in read_images(list(paths), grey=True):
            sizes.append((grey.shape[1], grey.shape[0]))
            yield path.name, grey

    views, dropped = detect_views(spec, named_images(), config.min_points)
    return calibrate_intrinsics(spec, views, sizes[0], config, dropped)
