"""The frames a detector command works on: every frame of a recording, or image files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2

from arinspect.errors import ConfigError, DataFormatError
from arinspect.recording.bop import Recording
from arinspect.typed import UInt8Image


def iterate_frames(inputs: Sequence[Path]) -> Iterator[tuple[str, int | str, int, UInt8Image]]:
    """Yield ``(key, value, total, image)`` for every frame to detect in.

    `key` and `value` are ``"im_id"`` and the frame id for a recording, ``"image"`` and the
    path for image files; `total` is the number of frames.

    Raises:
        ConfigError: a recording folder given together with other inputs.
        DataFormatError: a missing or unreadable file (named, with the reason).
    """
    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        recording = Recording(inputs[0])
        ids = recording.frame_ids
        for im_id in ids:
            yield "im_id", im_id, len(ids), recording.bgr(im_id)
        return
    folders = [p for p in inputs if Path(p).is_dir()]
    if folders:
        raise ConfigError(f"give one recording folder or image files, not both: {folders[0]}")
    for path in inputs:
        if not Path(path).is_file():
            raise DataFormatError(path, "image file not found")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DataFormatError(path, "cannot be read as an image (corrupt or not an image)")
        yield "image", str(path), len(inputs), image
