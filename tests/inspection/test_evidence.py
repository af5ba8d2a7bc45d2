"""A frame's looks at its parts: which are good enough to argue presence or absence."""

from __future__ import annotations

import numpy as np
import pytest

from arinspect.camera import default_camera
from arinspect.inspection.evidence import LookCriteria, frame_looks
from arinspect.inspection.expected import ExpectedViewer
from arinspect.recording.trajectory import make_trajectory
from arinspect.render.scene import SectionScene


@pytest.fixture(scope="module")
def view_and_labels(sample_section):
    scene = SectionScene(sample_section)
    camera = default_camera()
    T_cam_section = make_trajectory("walk", sample_section, 8, np.random.default_rng(3))[4]
    view = ExpectedViewer(scene, camera, 0.25).view(T_cam_section)
    labels = {lab.id: lab.index for lab in scene.labels if lab.kind == "part"}
    return view, labels, camera, T_cam_section


def _good(view_and_labels, bound95_m: float, criteria: LookCriteria | None = None) -> set[str]:
    view, labels, camera, T_cam_section = view_and_labels
    looks = frame_looks(
        0,
        view,
        labels,
        [],
        [],
        [],
        camera,
        T_cam_section,
        0.5,
        bound95_m,
        None,
        criteria or LookCriteria(),
    )
    return {part_id for part_id, look in looks.items() if look.good}


def test_a_rough_pose_still_looks_well_at_large_near_parts_only(view_and_labels):
    # Without the absolute cap, only the pose's shift relative to each part's size decides.
    view = view_and_labels[0]
    no_cap = LookCriteria(max_pose_bound_m=1.0)
    sharp = _good(view_and_labels, 0.005, no_cap)
    rough = _good(view_and_labels, 0.09, no_cap)
    assert len(sharp) >= 4
    assert rough < sharp  # some parts drop out, none is added
    assert rough  # but a 9 cm pose still tells about the largest, nearest parts
    assert _good(view_and_labels, 0.005) == sharp  # well inside the default 5 cm cap
    focal_px = default_camera().K[0, 0]
    for part_id in sharp:
        part = view.parts[part_id]
        shift_px = focal_px * 0.09 / part.depth_m
        assert (part_id in rough) == (shift_px <= 0.25 * part.height_px), part_id


def test_a_pose_beyond_the_bound_gives_no_good_look(view_and_labels):
    assert _good(view_and_labels, 0.051) == set()
