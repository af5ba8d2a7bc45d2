"""Assigning one frame's detections to the parts expected in it.

Class-aware: a detection can only be assigned to a part of its class. Within a class the
assignment is optimal (Hungarian, `scipy.optimize.linear_sum_assignment`) on a cost of
box overlap and centre distance, against the box of what is visible of each part (the
detector boxes what it sees: a clamp half hidden by its pipe has its box centre off the
clamp's centre, and that shift is not a misplacement); a pair is admissible only when the
detection's centre lies within the gate: how far a part can plausibly have moved
(`max_move_m`, projected at the part's depth) plus half the part's box. Identical parts
repeated along a stiffener are told apart by the pose, never by appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from arinspect.detect.runtime import Detection, box_iou
from arinspect.inspection.expected import ExpectedPart

GATE_COST = 1e6


@dataclass(frozen=True)
class Match:
    """A detection assigned to an expected part.

    Attributes:
        part_id: The part.
        detection: Index into the frame's detections.
        shift_px: (2,) detection box centre minus projected box centre, pixels.
        area_ratio: Area of the detection box over that of the part's expected visible box
            (about 1 for the part itself; a bare hole or an open slot boxed at the place of
            its sleeve or collar plate is smaller).
    """

    part_id: str
    detection: int
    shift_px: tuple[float, float]
    area_ratio: float = 1.0


def box_centre(box: Sequence[float]) -> np.ndarray:
    """(2,) centre of an xyxy box."""
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def box_area(box: Sequence[float]) -> float:
    """Area of an xyxy box, pixels squared."""
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def match_frame(
    expected: Sequence[ExpectedPart],
    detections: Sequence[Detection],
    focal_px: float,
    max_move_m: float = 0.25,
) -> tuple[list[Match], list[int]]:
    """Assign `detections` to `expected` parts.

    Args:
        expected: Parts that should be visible in the frame.
        detections: The frame's detections.
        focal_px: Focal length of the frame, pixels (to project `max_move_m`).
        max_move_m: Largest displacement from the drawing still called "misplaced" rather
            than "missing + unexpected", metres.

    Returns:
        The matches, and the indices of detections that match no part.
    """
    matches: list[Match] = []
    used: set[int] = set()
    for class_name in sorted({p.class_name for p in expected}):
        parts = [p for p in expected if p.class_name == class_name]
        candidates = [i for i, d in enumerate(detections) if d.class_name == class_name]
        if not candidates:
            continue
        part_boxes = np.array([p.detector_box_xyxy_px for p in parts])
        det_boxes = np.array([detections[i].box_xyxy_px for i in candidates])
        ious = box_iou(part_boxes, det_boxes)
        part_centres = (part_boxes[:, :2] + part_boxes[:, 2:]) / 2
        det_centres = (det_boxes[:, :2] + det_boxes[:, 2:]) / 2
        distance = np.linalg.norm(part_centres[:, None] - det_centres[None], axis=2)
        diagonal = np.linalg.norm(part_boxes[:, 2:] - part_boxes[:, :2], axis=1)
        depth = np.array([max(p.depth_m, 0.1) for p in parts])
        gate = focal_px * max_move_m / depth + diagonal / 2
        cost = (1.0 - ious) + distance / np.maximum(diagonal, 1.0)[:, None]
        cost = np.where(distance <= gate[:, None], cost, GATE_COST)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] >= GATE_COST:
                continue
            shift = det_centres[c] - part_centres[r]
            matches.append(
                Match(
                    parts[r].part_id,
                    candidates[c],
                    (float(shift[0]), float(shift[1])),
                    float(box_area(det_boxes[c]) / max(box_area(part_boxes[r]), 1.0)),
                )
            )
            used.add(candidates[c])
    unmatched = [i for i in range(len(detections)) if i not in used]
    return matches, unmatched
