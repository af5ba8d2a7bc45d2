"""Fiducial marker families: names, dictionaries, marker images and corner geometry.

A family is an OpenCV ArUco dictionary name (``DICT_5X5_250``, ``DICT_APRILTAG_36h11`` ...)
or the alias ``apriltag_36h11``. Marker frame (DESIGN.md): origin at the marker centre,
the marker in its own x-y plane, z out of the printed face; ``size_m`` is the side of the
outer black square. Corners are in OpenCV ArUco order: top-left, top-right, bottom-right,
bottom-left, i.e. (-s/2, s/2), (s/2, s/2), (s/2, -s/2), (-s/2, -s/2).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from arinspect.errors import ConfigError
from arinspect.typed import FloatArray, UInt8Image

if TYPE_CHECKING:
    import cv2

FAMILY_ALIASES = {"apriltag_36h11": "DICT_APRILTAG_36h11"}
"""Family names accepted besides OpenCV's own dictionary names."""


def known_families() -> list[str]:
    """Every family name accepted in a section file."""
    import cv2

    names = [name for name in dir(cv2.aruco) if name.startswith("DICT_")]
    return sorted(names) + sorted(FAMILY_ALIASES)


def opencv_dictionary_name(family: str) -> str:
    """OpenCV's dictionary name for a family (resolves aliases)."""
    return FAMILY_ALIASES.get(family, family)


@cache
def dictionary(family: str) -> cv2.aruco.Dictionary:
    """The cv2.aruco.Dictionary of a family.

    Raises:
        ConfigError: the family is unknown.
    """
    import cv2

    name = opencv_dictionary_name(family)
    if not name.startswith("DICT_") or not hasattr(cv2.aruco, name):
        raise ConfigError(f"unknown marker family {family!r}")
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def dictionary_size(family: str) -> int:
    """How many marker ids the family has (valid ids are 0 .. size - 1)."""
    return int(dictionary(family).bytesList.shape[0])


def marker_bits(family: str) -> int:
    """Inner grid size of the family's markers in bits (e.g. 5 for DICT_5X5_250)."""
    return int(dictionary(family).markerSize)


@cache
def marker_image(family: str, marker_id: int, module_px: int = 16) -> UInt8Image:
    """Black-and-white image of one marker, outer black square only (no white margin).

    Args:
        family: Marker family name.
        marker_id: Id within the family.
        module_px: Pixels per bit module.

    Returns:
        (S, S) uint8 image, S = (bits + 2) * module_px; read-only, shared between calls.
    """
    import cv2

    if not 0 <= marker_id < dictionary_size(family):
        raise ConfigError(
            f"marker id {marker_id} is outside {family} (0..{dictionary_size(family) - 1})"
        )
    side_px = (marker_bits(family) + 2) * module_px
    image = cv2.aruco.generateImageMarker(dictionary(family), int(marker_id), side_px, borderBits=1)
    image.flags.writeable = False
    return image


def marker_corners_marker(size_m: float) -> FloatArray:
    """(4, 3) corners of a marker of side `size_m` in its own frame, OpenCV ArUco order."""
    h = size_m / 2.0
    return np.array([[-h, h, 0.0], [h, h, 0.0], [h, -h, 0.0], [-h, -h, 0.0]])
