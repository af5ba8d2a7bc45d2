"""Unmatched detections grouped into unexpected objects."""

from __future__ import annotations

import numpy as np

from arinspect.inspection.unexpected import UnexpectedCollector

BOX = (0.0, 0.0, 10.0, 10.0)
DRAWN = [("collar_plate", np.array([1.0, 1.0, 0.0]), np.array([1.3, 1.1, 0.3]))]


def sightings(collector, class_name, point, frames=3, score=0.8):
    for im_id in range(frames):
        jitter = np.array([0.01 * im_id, 0.0, 0.0])
        collector.add(im_id, class_name, score, BOX, np.asarray(point) + jitter)


def test_an_object_needs_enough_frames_and_score() -> None:
    collector = UnexpectedCollector()
    sightings(collector, "pipe_clamp", [5.0, 5.0, 0.0], frames=2)
    sightings(collector, "flange_pair", [6.0, 5.0, 0.0], frames=4, score=0.5)
    sightings(collector, "lifting_lug", [7.0, 5.0, 0.0], frames=3)
    reported = collector.reported()
    assert [o.class_name for o in reported] == ["lifting_lug"]
    assert reported[0].frames == [(0, 0), (0, 1), (0, 2)]
    np.testing.assert_allclose(reported[0].position_section, [7.01, 5.0, 0.0])


def test_a_sighting_at_a_drawn_part_of_its_class_is_that_part() -> None:
    collector = UnexpectedCollector()
    sightings(collector, "collar_plate", [1.4, 1.05, 0.1])  # 10 cm beside the drawn box
    sightings(collector, "pipe_clamp", [1.4, 1.05, 0.1])  # another class at the same place
    sightings(collector, "collar_plate", [2.0, 1.05, 0.1])  # 70 cm away: an extra plate
    reported = collector.reported(DRAWN)
    assert sorted((o.class_name, round(o.position_section[0], 2)) for o in reported) == [
        ("collar_plate", 2.01),
        ("pipe_clamp", 1.41),
    ]
    assert len(collector.reported()) == 3  # without the drawing, all three
