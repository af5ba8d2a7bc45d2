"""What each frame of a rendered recording shows, read from its label maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arinspect.recording.bop import Recording

MIN_VISIBLE_PX = 50
"""Pixels of an element that count as 'seen' in a frame."""


@dataclass(frozen=True)
class FrameVisibility:
    """Elements seen in one frame, with their pixel counts.

    Attributes:
        im_id: Image id.
        parts: Pixel count per visible part id.
        markers: Pixel count per visible marker (``FAMILY/ID``), sheet included.
    """

    im_id: int
    parts: dict[str, int]
    markers: dict[str, int]


def frame_visibility(recording: Recording, min_px: int = MIN_VISIBLE_PX) -> list[FrameVisibility]:
    """Visible parts and markers of every frame of a rendered recording (needs label maps)."""
    labels = recording.meta.get("labels", [])
    kind = {entry["index"]: entry["kind"] for entry in labels}
    name = {entry["index"]: entry["id"] for entry in labels}
    result = []
    for im_id in recording.frame_ids:
        label_map = recording.label_map(im_id)
        if label_map is None:
            continue
        counts = np.bincount(label_map.reshape(-1))
        seen = [(int(i), int(c)) for i, c in enumerate(counts) if c >= min_px and i in kind]
        result.append(
            FrameVisibility(
                im_id,
                {name[i]: c for i, c in seen if kind[i] == "part"},
                {name[i]: c for i, c in seen if kind[i] == "marker"},
            )
        )
    return result
