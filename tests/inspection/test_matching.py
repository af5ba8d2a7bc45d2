from __future__ import annotations

import numpy as np
import pytest

from arinspect.detect.runtime import Detection
from arinspect.inspection.evidence import depth_evidence
from arinspect.inspection.expected import ExpectedPart, ExpectedView
from arinspect.inspection.matching import match_frame


def _part(part_id, cls, box, depth=3.0):
    return ExpectedPart(part_id, cls, 1000.0, 1000.0, 1.0, box, np.zeros(3), depth)


def test_identical_parts_side_by_side_pair_by_position():
    parts = [
        _part("BKT-1", "tripping_bracket", (100, 100, 160, 160)),
        _part("BKT-2", "tripping_bracket", (300, 100, 360, 160)),
    ]
    detections = [
        Detection("tripping_bracket", 0.9, (305, 102, 365, 162)),
        Detection("tripping_bracket", 0.8, (96, 98, 156, 158)),
    ]
    matches, unmatched = match_frame(parts, detections, focal_px=600.0)
    pairs = {m.part_id: m.detection for m in matches}
    assert pairs == {"BKT-1": 1, "BKT-2": 0}
    assert unmatched == []
    shift = {m.part_id: m.shift_px for m in matches}
    assert shift["BKT-1"] == pytest.approx((-4.0, -2.0))
    assert [m.area_ratio for m in matches] == pytest.approx([1.0, 1.0])


def test_a_match_keeps_its_box_size_against_the_parts_visible_box():
    sleeve = _part("PEN-1", "pipe_penetration_sleeve", (100, 100, 160, 160))
    hole = Detection("pipe_penetration_sleeve", 0.8, (115, 115, 145, 145))  # the bare hole
    (match,), _ = match_frame([sleeve], [hole], focal_px=600.0)
    assert match.area_ratio == pytest.approx(0.25)
    assert match.shift_px == pytest.approx((0.0, 0.0))


def test_matching_is_class_aware_and_gated():
    parts = [_part("COL-1", "collar_plate", (100, 100, 140, 140), depth=3.0)]
    detections = [
        Detection("pipe_clamp", 0.9, (100, 100, 140, 140)),  # right place, wrong class
        Detection("collar_plate", 0.9, (400, 100, 440, 140)),  # 300 px away: beyond the gate
    ]
    matches, unmatched = match_frame(parts, detections, focal_px=600.0, max_move_m=0.25)
    assert matches == [] and unmatched == [0, 1]
    # 40 px away at 3 m is 20 cm: inside a 25 cm gate.
    near = [Detection("collar_plate", 0.9, (140, 100, 180, 140))]
    matches, _ = match_frame(parts, near, focal_px=600.0, max_move_m=0.25)
    assert [m.part_id for m in matches] == ["COL-1"]
    assert matches[0].shift_px == pytest.approx((40.0, 0.0))


def _view(part_depth, behind_depth):
    label_map = np.zeros((12, 16), np.uint16)
    label_map[4:8, 4:8] = 5
    depth = np.full((12, 16), 3.0, np.float32)
    depth[4:8, 4:8] = part_depth
    behind = np.full((12, 16), 3.0, np.float32)
    behind[4:8, 4:8] = behind_depth
    points = np.zeros((12, 16, 3))
    rays = np.dstack([np.zeros((12, 16, 2)), np.ones((12, 16))])
    return ExpectedView({}, label_map, depth, behind, points, 0.25, rays, np.eye(4))


def test_depth_sees_a_present_part_and_sees_through_a_missing_one():
    view = _view(part_depth=2.8, behind_depth=3.0)
    observed = np.full((48, 64), 3.0, np.float32)
    observed[16:32, 16:32] = 2.8  # the part is there
    present, through = depth_evidence(view, 5, observed, noise_at_1m=0.002)
    assert present == pytest.approx(1.0) and through == pytest.approx(0.0)
    observed[16:32, 16:32] = 3.0  # the steel behind it is seen
    present, through = depth_evidence(view, 5, observed, noise_at_1m=0.002)
    assert present == pytest.approx(0.0) and through == pytest.approx(1.0)


def test_depth_is_no_evidence_for_thin_parts_or_holes():
    thin = _view(part_depth=2.995, behind_depth=3.0)  # 5 mm plate on its web
    observed = np.full((48, 64), 3.0, np.float32)
    assert depth_evidence(thin, 5, observed, noise_at_1m=0.002) == (None, None)
    view = _view(part_depth=2.8, behind_depth=3.0)
    holes = np.zeros((48, 64), np.float32)
    assert depth_evidence(view, 5, holes, noise_at_1m=0.002) == (None, None)
