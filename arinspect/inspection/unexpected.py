"""Detections that match no expected part, grouped across frames into ``unexpected`` findings.

Each unmatched confident detection is placed in the section frame where its box centre's
ray meets the CAD (the expected view's surface point); detections of one class within
`cluster_radius_m` of each other are one object. An object is reported when it was seen
in at least `min_frames` frames: a false alarm in a frame or two is not a finding. An
object within `known_margin_m` of the drawn place of a part of its class is that part,
seen in frames where matching failed (its surface point lies on the steel behind it), not
an extra one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from arinspect.inspection.evidence import FrameKey
from arinspect.typed import FloatArray


@dataclass
class UnexpectedObject:
    """A detected object that is not in the drawing (or too far from where it should be).

    Attributes:
        class_name: Detected class.
        position_section: (3,) mean position where it was seen, section frame, metres.
        frames: Frames it was detected in, as (pass index, frame id).
        best_score: Highest detection score.
        best_frame: Frame of the highest score.
        best_box_xyxy_px: Detection box in that frame.
        best_pass: The pass (recording) of `best_frame`.
    """

    class_name: str
    position_section: FloatArray
    frames: list[FrameKey] = field(default_factory=list)
    best_score: float = 0.0
    best_frame: int = -1
    best_box_xyxy_px: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    best_pass: int = 0
    _points: list[FloatArray] = field(default_factory=list, repr=False)

    def add(self, frame: FrameKey, point: FloatArray, score: float, box: tuple[float, ...]) -> None:
        """Add one sighting in `frame` (pass index, frame id)."""
        self._points.append(point)
        self.position_section = np.mean(self._points, axis=0)
        if frame not in self.frames:
            self.frames.append(frame)
        if score > self.best_score:
            self.best_score, (self.best_pass, self.best_frame) = score, frame
            self.best_box_xyxy_px = tuple(box)  # type: ignore[assignment]


class UnexpectedCollector:
    """Collects unmatched detections over a recording.

    Args:
        min_score: Detections below this score are ignored here.
        cluster_radius_m: Sightings of one class closer than this are one object.
        min_frames: Frames an object must be seen in to be reported.
        known_margin_m: Objects this close to the box of a drawn part of their class are
            that part, metres.
    """

    def __init__(
        self,
        min_score: float = 0.6,
        cluster_radius_m: float = 0.3,
        min_frames: int = 3,
        known_margin_m: float = 0.15,
    ):
        self.min_score = min_score
        self.cluster_radius_m = cluster_radius_m
        self.min_frames = min_frames
        self.known_margin_m = known_margin_m
        self.objects: list[UnexpectedObject] = []

    def add(
        self,
        im_id: int,
        class_name: str,
        score: float,
        box: tuple[float, ...],
        point_section: FloatArray | None,
        pass_index: int = 0,
    ) -> None:
        """One unmatched detection and its surface point (None: its ray hits no CAD).

        Sightings of several passes over the section gather into the same objects.
        """
        if score < self.min_score or point_section is None:
            return
        for obj in self.objects:
            near = np.linalg.norm(obj.position_section - point_section) <= self.cluster_radius_m
            if obj.class_name == class_name and near:
                obj.add((pass_index, im_id), point_section, score, box)
                return
        obj = UnexpectedObject(class_name, np.asarray(point_section, dtype=np.float64))
        obj.add((pass_index, im_id), point_section, score, box)
        self.objects.append(obj)

    def reported(
        self, drawn: Sequence[tuple[str, FloatArray, FloatArray]] = ()
    ) -> list[UnexpectedObject]:
        """Objects seen in enough frames and not at a drawn part of their class, most-seen first.

        Args:
            drawn: (class, lower corner, upper corner) of each part's axis-aligned box at its
                drawn place, section frame, metres.
        """
        kept = [
            o
            for o in self.objects
            if len(o.frames) >= self.min_frames and not self._at_drawn_part(o, drawn)
        ]
        return sorted(kept, key=lambda o: (-len(o.frames), -o.best_score))

    def _at_drawn_part(
        self, obj: UnexpectedObject, drawn: Sequence[tuple[str, FloatArray, FloatArray]]
    ) -> bool:
        for class_name, lower, upper in drawn:
            if class_name != obj.class_name:
                continue
            outside = obj.position_section - np.clip(obj.position_section, lower, upper)
            if np.linalg.norm(outside) <= self.known_margin_m:
                return True
        return False
