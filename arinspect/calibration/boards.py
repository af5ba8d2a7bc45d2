"""Planar calibration boards: geometry in metres, OpenCV objects and printable images.

Board frame ``board`` (OpenCV's calibration-pattern convention, unlike the marker frame):
origin at the top-left corner of the printed pattern, x to the right along a row, y down
the columns, z = x cross y into the board, away from a viewer who reads it upright. A
camera facing the board squarely, upright, has ``T_cam_board`` with an identity rotation.

Kinds, with what ``cols`` x ``rows`` counts:

- ``chessboard``: inner corners; the pattern has (cols + 1) x (rows + 1) squares, the
  top-left one black. Corner (c, r) is at ((c + 1) s, (r + 1) s).
- ``charuco``: squares, as OpenCV's ``CharucoBoard((cols, rows), square, marker, dict)``;
  its (cols - 1) x (rows - 1) inner corners are the calibration points.
- ``circles``: symmetric grid of black dots, ``square_m`` apart; the pattern is
  (cols + 1) x (rows + 1) spacings, dot (c, r) at ((c + 1) s, (r + 1) s), diameter s / 2.

Points are numbered row by row, the order in which OpenCV's detectors return them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from arinspect.errors import ConfigError
from arinspect.markers import dictionary
from arinspect.typed import FloatArray, UInt8Image

BOARD_KINDS = ("chessboard", "charuco", "circles")
"""Supported board kinds."""

DOT_DIAMETER_PER_SPACING = 0.5
"""Diameter of a circle-grid dot as a fraction of the centre spacing."""


@dataclass(frozen=True)
class BoardSpec:
    """A planar calibration target.

    Attributes:
        kind: ``chessboard``, ``charuco`` or ``circles``.
        cols: Inner corners per row (chessboard), squares per row (charuco), or dots per
            row (circles).
        rows: The same, per column.
        square_m: Side of a square (chessboard, charuco) or dot spacing (circles), metres.
        marker_m: Side of a ChArUco marker's black square, metres (charuco only).
        family: ArUco dictionary of the ChArUco markers (charuco only).
    """

    kind: str
    cols: int
    rows: int
    square_m: float
    marker_m: float = 0.0
    family: str = "DICT_5X5_100"

    def __post_init__(self) -> None:
        if self.kind not in BOARD_KINDS:
            raise ConfigError(f"unknown board {self.kind!r}; known: {', '.join(BOARD_KINDS)}")
        least = 3 if self.kind == "charuco" else 2
        if self.cols < least or self.rows < least:
            raise ConfigError(
                f"a {self.kind} board needs at least {least}x{least} (--cols, --rows),"
                f" got {self.cols}x{self.rows}"
            )
        if not self.square_m > 0.0:
            raise ConfigError(f"square size must be positive, got {self.square_m} m")
        if self.kind == "charuco":
            if not 0.0 < self.marker_m < self.square_m:
                raise ConfigError(
                    f"ChArUco marker side must be between 0 and the square side"
                    f" ({self.square_m * 1000:g} mm), got {self.marker_m * 1000:g} mm"
                )
            needed = (self.cols * self.rows) // 2
            available = int(dictionary(self.family).bytesList.shape[0])
            if needed > available:
                raise ConfigError(
                    f"a {self.cols}x{self.rows} ChArUco board needs {needed} markers,"
                    f" {self.family} has {available}"
                )

    @property
    def pattern_size_m(self) -> tuple[float, float]:
        """(width, height) of the printed pattern without its white margin, metres."""
        if self.kind == "charuco":
            return self.cols * self.square_m, self.rows * self.square_m
        return (self.cols + 1) * self.square_m, (self.rows + 1) * self.square_m

    @property
    def grid_size(self) -> tuple[int, int]:
        """(points per row, points per column) of the calibration points."""
        if self.kind == "charuco":
            return self.cols - 1, self.rows - 1
        return self.cols, self.rows

    @property
    def point_count(self) -> int:
        """Number of calibration points on the board."""
        per_row, per_col = self.grid_size
        return per_row * per_col

    def points_board(self) -> FloatArray:
        """(N, 3) every calibration point in the board frame, metres, row by row (z = 0)."""
        per_row, per_col = self.grid_size
        c, r = np.meshgrid(np.arange(per_row), np.arange(per_col))
        xy = np.column_stack([c.ravel() + 1, r.ravel() + 1]) * self.square_m
        return np.column_stack([xy, np.zeros(len(xy))])

    def charuco_board(self) -> cv2.aruco.CharucoBoard:
        """The OpenCV ChArUco board of a ``charuco`` spec (same frame, same point ids).

        Raises:
            ConfigError: the spec is not a ChArUco board.
        """
        if self.kind != "charuco":
            raise ConfigError(f"a {self.kind} board is not a ChArUco board")
        return cv2.aruco.CharucoBoard(
            (self.cols, self.rows), self.square_m, self.marker_m, dictionary(self.family)
        )

    def describe(self) -> str:
        """One line for reports, in millimetres."""
        text = f"{self.kind} {self.cols}x{self.rows}, square {self.square_m * 1000:g} mm"
        if self.kind == "circles":
            text = f"{self.kind} {self.cols}x{self.rows}, spacing {self.square_m * 1000:g} mm"
        if self.kind == "charuco":
            text += f", marker {self.marker_m * 1000:g} mm, {self.family}"
        return text


@dataclass(frozen=True)
class BoardImage:
    """A drawn board: black pattern on white with a white margin.

    Attributes:
        image: (H, W) uint8 grey image, 0 black, 255 white.
        px_per_m: Image pixels per metre of board.
        margin_px: Width of the white margin around the pattern, pixels.
    """

    image: UInt8Image
    px_per_m: float
    margin_px: int

    def pixels_from_board(self, xy_board: FloatArray) -> FloatArray:
        """(N, 2) image pixels (OpenCV pixel-centre convention) of (N, 2) board points (m)."""
        return np.asarray(xy_board, dtype=np.float64) * self.px_per_m + self.margin_px - 0.5


def board_image(spec: BoardSpec, square_px: int, margin_squares: float = 1.0) -> BoardImage:
    """Draw the board for printing or rendering.

    Args:
        spec: The board.
        square_px: Pixels per square side (chessboard, charuco) or dot spacing (circles).
        margin_squares: White margin around the pattern, in squares (at least 1 is
            recommended for detection).

    Returns:
        The image and its scale; the pattern's top-left corner is at pixel edge
        (margin_px, margin_px).
    """
    if square_px < 8:
        raise ConfigError(f"square_px must be at least 8, got {square_px}")
    margin_px = round(margin_squares * square_px)
    px_per_m = square_px / spec.square_m
    width_px, height_px = (round(v * px_per_m) for v in spec.pattern_size_m)
    if spec.kind == "charuco":
        image = spec.charuco_board().generateImage(
            (width_px + 2 * margin_px, height_px + 2 * margin_px), marginSize=margin_px
        )
        return BoardImage(image, px_per_m, margin_px)
    image = np.full((height_px + 2 * margin_px, width_px + 2 * margin_px), 255, np.uint8)
    pattern = image[margin_px : margin_px + height_px, margin_px : margin_px + width_px]
    if spec.kind == "chessboard":
        r, c = np.mgrid[0:height_px, 0:width_px] // square_px
        pattern[(r + c) % 2 == 0] = 0
    else:
        _draw_dots(pattern, spec, square_px)
    return BoardImage(image, px_per_m, margin_px)


def _draw_dots(pattern: UInt8Image, spec: BoardSpec, square_px: int) -> None:
    """Draw the circle grid's black dots, anti-aliased, centres exact to 1/256 px."""
    shift = 8
    radius = round(DOT_DIAMETER_PER_SPACING * square_px / 2 * (1 << shift))
    for x, y, _ in spec.points_board():
        centre = tuple(round((v / spec.square_m * square_px - 0.5) * (1 << shift)) for v in (x, y))
        cv2.circle(pattern, centre, radius, 0, -1, cv2.LINE_AA, shift)
