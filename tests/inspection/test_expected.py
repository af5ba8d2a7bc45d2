from __future__ import annotations

import numpy as np

from arinspect.inspection.expected import trimmed_box, visible_extents


def test_visible_extents_per_label():
    label_map = np.zeros((6, 8), np.int64)
    label_map[1:3, 2:5] = 1
    label_map[4, 7] = 2
    extents = visible_extents(label_map, 4)
    np.testing.assert_array_equal(extents[1], [2, 1, 4, 2])
    np.testing.assert_array_equal(extents[2], [7, 4, 7, 4])
    np.testing.assert_array_equal(extents[3], [8, 6, -1, -1])  # absent


def test_box_is_trimmed_only_where_the_part_is_hidden():
    projected = (21.3, 41.7, 78.9, 119.2)
    # Cast at a quarter resolution: cast pixel c covers full-res columns [4c, 4c + 4).
    unhidden = np.array([5, 10, 19, 29])
    assert trimmed_box(projected, unhidden, 0.25, 640, 480) == projected
    left_hidden = np.array([10, 10, 19, 29])  # visible from x = 40 on
    assert trimmed_box(projected, left_hidden, 0.25, 640, 480) == (40.0, 41.7, 78.9, 119.2)
    bottom_hidden = np.array([5, 10, 19, 22])  # visible down to y = 92
    assert trimmed_box(projected, bottom_hidden, 0.25, 640, 480) == (21.3, 41.7, 78.9, 92.0)


def test_box_is_clipped_to_the_frame():
    projected = (-30.0, 400.0, 60.0, 530.0)
    assert trimmed_box(projected, np.array([0, 100, 14, 119]), 0.25, 640, 480) == (
        0.0,
        400.0,
        60.0,
        480.0,
    )
    assert trimmed_box(projected, np.array([160, 120, -1, -1]), 0.25, 640, 480) == (
        0.0,
        400.0,
        60.0,
        480.0,
    )
