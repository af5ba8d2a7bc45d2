"""Ground-truth part boxes from a rendered label map.

A part's box is the bounding box of its *visible* pixels (what a detector can see), in
pixel coordinates ``[x0, y0, x1, y1]`` with x1/y1 exclusive (pixel edges, not centres).
Boxes of parts that are mostly hidden or tiny are kept but flagged, so that training and
evaluation can treat them as "don't care" instead of as misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from arinspect.render.scene import Label

MIN_EVAL_HEIGHT_PX = 20.0
"""Parts shorter than this (640x480 frame) are not scored: the targets count parts >= 20 px."""


@dataclass(frozen=True)
class PartBox:
    """One part's visible extent in one frame.

    Attributes:
        part_id: Element id in the section.
        class_name: Catalog class.
        box_xyxy_px: (4,) box of the visible pixels, pixel edges (x1, y1 exclusive).
        visible_px: Number of visible pixels of the part.
    """

    part_id: str
    class_name: str
    box_xyxy_px: tuple[float, float, float, float]
    visible_px: int

    @property
    def height_px(self) -> float:
        """Box height in pixels."""
        return self.box_xyxy_px[3] - self.box_xyxy_px[1]

    @property
    def fill_ratio(self) -> float:
        """Visible pixels over box area: low for a part seen in scattered fragments."""
        x0, y0, x1, y1 = self.box_xyxy_px
        return self.visible_px / max((x1 - x0) * (y1 - y0), 1.0)


def part_boxes(
    label_map: np.ndarray, labels: Sequence[Label], min_pixels: int = 12
) -> list[PartBox]:
    """Boxes of every part with at least `min_pixels` visible pixels in `label_map`.

    Args:
        label_map: (H, W) integer label per pixel (see `SectionScene.labels`).
        labels: The scene's label table.
        min_pixels: Parts with fewer visible pixels get no box.
    """
    is_part = np.array([lab.kind == "part" for lab in labels], bool)
    counts = np.bincount(label_map.ravel(), minlength=len(labels))
    slices = ndimage.find_objects(label_map.astype(np.int32), max_label=len(labels) - 1)
    boxes = []
    for index in np.flatnonzero(is_part[: len(counts)] & (counts >= min_pixels)):
        rows, cols = slices[index - 1]
        lab = labels[index]
        box = (float(cols.start), float(rows.start), float(cols.stop), float(rows.stop))
        boxes.append(PartBox(lab.id, lab.class_name, box, int(counts[index])))
    return boxes
