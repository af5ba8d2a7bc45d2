"""Surface colours (albedo) of steel, parts and printed markers.

Colours are linear-light reflectances, stored as BGR (OpenCV order) floats in [0, 1].
Hull steel is in red-oxide shop primer; parts in the finishes yards actually see
(bare blasted steel, galvanising, pipe paint). A small procedural mottle, fixed to the
surface, keeps large plates from rendering as flat colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from arinspect.typed import FloatArray

PRIMER_RED_OXIDE = (0.07, 0.10, 0.30)
BLASTED_STEEL = (0.26, 0.26, 0.25)
GALVANISED = (0.42, 0.42, 0.40)
PIPE_PAINT_GREEN = (0.18, 0.30, 0.16)
CAST_GREY = (0.12, 0.12, 0.13)

DEFAULT_STRUCTURE_BGR: dict[str, tuple[float, float, float]] = {
    "shell_plate": PRIMER_RED_OXIDE,
    "longitudinal": PRIMER_RED_OXIDE,
    "web_frame": PRIMER_RED_OXIDE,
    "pipe": PIPE_PAINT_GREEN,
}
DEFAULT_PART_BGR: dict[str, tuple[float, float, float]] = {
    "tripping_bracket": BLASTED_STEEL,
    "collar_plate": BLASTED_STEEL,
    "lifting_lug": (0.10, 0.55, 0.70),  # lugs are painted yellow-orange for safety
    "handhole_frame": BLASTED_STEEL,
    "pipe_clamp": GALVANISED,
    "flanged_valve": CAST_GREY,
    "flange_pair": (0.30, 0.42, 0.28),
    "pipe_penetration_sleeve": (0.24, 0.30, 0.45),
    "cable_tray_hanger": GALVANISED,
}
FALLBACK_BGR = (0.4, 0.4, 0.4)
MARKER_WHITE = 0.85
MARKER_BLACK = 0.05


@dataclass(frozen=True)
class Palette:
    """Albedo by structure kind and by part class (BGR floats in [0, 1]).

    Attributes:
        structure: Colour by structure kind.
        parts: Colour by part class.
        mottle: Relative amplitude of the procedural surface mottle (0 disables it).
    """

    structure: Mapping[str, tuple[float, float, float]] = field(
        default_factory=lambda: dict(DEFAULT_STRUCTURE_BGR)
    )
    parts: Mapping[str, tuple[float, float, float]] = field(
        default_factory=lambda: dict(DEFAULT_PART_BGR)
    )
    mottle: float = 0.08

    def albedo(self, kind: str, class_name: str) -> tuple[float, float, float]:
        """Colour of an element of `kind` (``structure``/``part``) and class or structure kind."""
        table = self.parts if kind == "part" else self.structure
        return table.get(class_name, FALLBACK_BGR)


def mottle_factor(points_section: FloatArray, amplitude: float) -> FloatArray:
    """(N,) multiplicative variation of albedo at surface points (section frame, metres).

    A sum of a few fixed sinusoids of 0.1 - 1 m wavelength: stable under camera motion.
    """
    if amplitude == 0.0:
        return np.ones(len(points_section))
    p = points_section
    wave = np.sin(6.1 * p[:, 0] + 2.3 * p[:, 1] + 1.7 * p[:, 2]) * np.sin(
        3.7 * p[:, 1] - 5.3 * p[:, 2] + 0.9 * p[:, 0]
    ) + 0.5 * np.sin(23.0 * p[:, 0] - 17.0 * p[:, 1] + 29.0 * p[:, 2])
    return 1.0 + amplitude * wave / 1.5
