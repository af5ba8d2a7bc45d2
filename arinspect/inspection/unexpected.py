"""Detections that match no expected part, grouped across frames into ``unexpected`` findings.

Each unmatched confident detection is placed in the section frame where its box centre's
ray meets the CAD (the expected view's surface point); detections of one class within
`cluster_radius_m` of each other are one object. An object is reported when it was seen
in at least `min_frames` frames: a false alarm in a frame or two is not a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from arinspect.typed import FloatArray


@dataclass
class UnexpectedObject:
    """A detected object that is not in the drawing (or too far from where it should be).

    Attributes:
        class_name: Detected class.
        position_section: (3,) mean position where it was seen, section frame, metres.
        frames: Frames it was detected in.
        best_score: Highest detection score.
        best_frame: Frame of the highest score.
        best_box_xyxy_px: Detection box in that frame.
    """

    class_name: str
    position_section: FloatArray
    frames: list[int] = field(default_factory=list)
    best_score: float = 0.0
    best_frame: int = -1
    best_box_xyxy_px: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    _points: list[FloatArray] = field(default_factory=list, repr=False)

    def add(self, im_id: int, point: FloatArray, score: float, box: tuple[float, ...]) -> None:
        """Add one sighting."""
        self._points.append(point)
        self.position_section = np.mean(self._points, axis=0)
        if im_id not in self.frames:
            self.frames.append(im_id)
        if score > self.best_score:
            self.best_score, self.best_frame = score, im_id
            self.best_box_xyxy_px = tuple(box)  # type: ignore[assignment]


class UnexpectedCollector:
    """Collects unmatched detections over a recording.

    Args:
        min_score: Detections below this score are ignored here.
        cluster_radius_m: Sightings of one class closer than this are one object.
        min_frames: Frames an object must be seen in to be reported.
    """

    def __init__(self, min_score: float = 0.6, cluster_radius_m: float = 0.3, min_frames: int = 3):
        self.min_score = min_score
        self.cluster_radius_m = cluster_radius_m
        self.min_frames = min_frames
        self.objects: list[UnexpectedObject] = []

    def add(
        self,
        im_id: int,
        class_name: str,
        score: float,
        box: tuple[float, ...],
        point_section: FloatArray | None,
    ) -> None:
        """One unmatched detection and its surface point (None: its ray hits no CAD)."""
        if score < self.min_score or point_section is None:
            return
        for obj in self.objects:
            near = np.linalg.norm(obj.position_section - point_section) <= self.cluster_radius_m
            if obj.class_name == class_name and near:
                obj.add(im_id, point_section, score, box)
                return
        obj = UnexpectedObject(class_name, np.asarray(point_section, dtype=np.float64))
        obj.add(im_id, point_section, score, box)
        self.objects.append(obj)

    def reported(self) -> list[UnexpectedObject]:
        """Objects seen in enough frames, most-seen first."""
        kept = [o for o in self.objects if len(o.frames) >= self.min_frames]
        return sorted(kept, key=lambda o: (-len(o.frames), -o.best_score))
