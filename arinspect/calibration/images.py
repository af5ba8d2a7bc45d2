"""Photo sets for calibration: expand a glob, read each file, insist on one image size."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

import cv2

from arinspect.errors import ConfigError, DataFormatError
from arinspect.typed import UInt8Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
"""File name endings taken as images when a glob also matches other files."""


def image_paths(pattern: str) -> list[Path]:
    """The image files matching a glob (``**`` recurses), sorted by path.

    Raises:
        ConfigError: no image file matches.
    """
    paths = sorted(
        Path(p)
        for p in glob.glob(pattern, recursive=True)
        if Path(p).is_file() and Path(p).suffix.lower() in IMAGE_SUFFIXES
    )
    if not paths:
        raise ConfigError(f"no image file matches {pattern!r}")
    return paths


def read_image(path: Path, grey: bool = False) -> UInt8Image:
    """Read one photo as (H, W, 3) BGR, or (H, W) grey, uint8.

    Raises:
        DataFormatError: the file cannot be decoded as an image.
    """
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if image is None:
        raise DataFormatError(path, "cannot be decoded as an image (corrupt or not an image)")
    return image


def read_images(paths: list[Path], grey: bool = False) -> Iterator[tuple[Path, UInt8Image]]:
    """Yield (path, image) for every file, checking that all have the first one's size.

    Raises:
        DataFormatError: a file cannot be decoded, or its size differs from the first's.
    """
    size_wh: tuple[int, int] | None = None
    for path in paths:
        image = read_image(path, grey)
        this_wh = (image.shape[1], image.shape[0])
        if size_wh is None:
            size_wh = this_wh
        elif this_wh != size_wh:
            raise DataFormatError(
                path,
                f"image is {this_wh[0]}x{this_wh[1]} px but {paths[0].name} is"
                f" {size_wh[0]}x{size_wh[1]} px: all photos must come from one camera"
                " at one resolution",
            )
        yield path, image
