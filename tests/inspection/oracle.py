"""A stand-in detector for inspection tests: the rendered truth's visible boxes, in order.

It returns, for each frame of a rendered recording (taken in frame order, as the inspector
reads them; several passes one after the other), one detection per part with enough
visible pixels, at the part's actual (possibly moved) place, so that inspection logic is
tested apart from detector errors.
"""

from __future__ import annotations

from collections.abc import Mapping

from arinspect.detect.boxes import PartBox, part_boxes
from arinspect.detect.recipe import recording_labels
from arinspect.detect.runtime import Detection
from arinspect.recording.bop import Recording


class OracleDetector:
    """Perfect detections from the label maps of a recording, or of several passes in turn."""

    def __init__(
        self,
        *recordings: Recording,
        min_pixels: int = 30,
        shift_px: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        """`shift_px`: boxes of these parts moved by (dx, dy) pixels (boxed beside themselves)."""
        self.frames = []
        for recording in recordings:
            labels = recording_labels(recording)
            self.frames += [(recording, im_id, labels) for im_id in recording.frame_ids]
        self.min_pixels = min_pixels
        self._next = 0
        self.classes = sorted(
            {lab.class_name for _, _, labels in self.frames for lab in labels if lab.kind == "part"}
        )
        self.model_path = "oracle"
        self.shift_px = dict(shift_px or {})

    def detect(self, image, stage_times_s=None) -> list[Detection]:
        recording, im_id, labels = self.frames[self._next]
        self._next += 1
        boxes = part_boxes(recording.label_map(im_id), labels, self.min_pixels)
        return [Detection(b.class_name, 0.9, self._shifted(b)) for b in boxes]

    def _shifted(self, box: PartBox) -> tuple[float, float, float, float]:
        dx, dy = self.shift_px.get(box.part_id, (0.0, 0.0))
        x0, y0, x1, y1 = box.box_xyxy_px
        return (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
