from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.camera import default_camera
from arinspect.geometry import look_at_T_cam_world
from arinspect.inspection.evidence import depth_evidence, depth_shares
from arinspect.inspection.expected import ExpectedViewer, trimmed_box, visible_extents
from arinspect.recording.bop import Recording
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from tests.inspection.rendered_view import rendered_share


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


def test_a_small_parts_pixels_cast_at_full_resolution_tell_by_depth(fixtures_dir):
    """A collar plate's slot gap is a few full-resolution pixels: depth sees it or through it."""
    recording = Recording(fixtures_dir / "walk_depth")
    section = load_section(recording.section_folder)
    scene = SectionScene(section)
    viewer = ExpectedViewer(scene, recording.camera)
    label = scene.label_by_id()
    told = []
    for im_id in recording.frame_ids:
        T = recording.T_cam_section(im_id)
        view = viewer.view(T)
        observed = recording.depth_m(im_id)
        for part_id, part in view.parts.items():
            if not part_id.startswith("COL") or part.visible_ratio < 0.5:
                continue
            assert depth_evidence(view, label[part_id], observed, 0.003) == (None, None)
            pixels = viewer.part_pixels(T, part_id)
            assert len(pixels.rows) > 300
            shares = depth_shares(
                pixels.depth_m, pixels.depth_behind_m, observed[pixels.rows, pixels.cols], 0.003
            )
            if shares[0] is None:
                continue
            assert shares == (1.0, 0.0)  # the plate is there
            # With the plate gone, depth sees through its slot.
            without = SectionScene(section, removed={part_id})
            gone = render(without, recording.camera, T, RenderOptions(supersample=1)).depth_m
            seen = depth_shares(
                pixels.depth_m, pixels.depth_behind_m, gone[pixels.rows, pixels.cols], 0.003
            )
            assert seen == (0.0, 1.0)
            told.append(part_id)
    assert len(told) >= 4


def test_depth_is_cast_where_a_moved_part_would_show(sample_section):
    """A tripping bracket moved 6 cm off its plate: depth sees it there, not at its place."""
    camera = default_camera()
    viewer = ExpectedViewer(SectionScene(sample_section), camera)
    part = next(p for p in sample_section.parts if p.id == "BKT-F1-B2A")
    offset = np.array([0.0, 0.06, 0.0])
    T_moved = part.T_section_part.copy()
    T_moved[:3, 3] += offset
    moved = replace(
        sample_section,
        parts=tuple(
            replace(p, T_section_part=T_moved) if p is part else p for p in sample_section.parts
        ),
    )
    centre = viewer.part_centre(part.id)
    T = look_at_T_cam_world(centre + [-1.0, 1.4, 1.65], centre, [0.0, 0.0, 1.0])
    seen = {}
    for name, section in (("in place", sample_section), ("moved", moved)):
        observed = render(SectionScene(section), camera, T, RenderOptions(supersample=1)).depth_m
        for where, shift in (("place", np.zeros(3)), ("offset", offset)):
            pixels = viewer.part_pixels(T, part.id, shift)
            assert len(pixels.rows) > 1000
            shares = depth_shares(
                pixels.depth_m, pixels.depth_behind_m, observed[pixels.rows, pixels.cols], 0.003
            )
            seen[name, where] = shares[0]
    assert seen["in place", "place"] == pytest.approx(1.0, abs=0.02)
    assert seen["in place", "offset"] < 0.3
    assert seen["moved", "place"] < 0.3
    assert seen["moved", "offset"] == pytest.approx(1.0, abs=0.02)
    assert len(viewer.part_pixels(T, part.id, np.array([50.0, 0.0, 0.0])).rows) == 0  # out of view


def test_a_part_moved_behind_another_part_is_cast_only_where_it_would_show(sample_section):
    """The bracket BKT-F1-B2A moved to 35 cm behind the valve VLV-P2-1, seen past it."""
    camera = default_camera()
    scene = SectionScene(sample_section)
    viewer = ExpectedViewer(scene, camera)
    valve = viewer.part_centre("VLV-P2-1")
    eye = valve + [0.9, -1.2, 1.0]
    T = look_at_T_cam_world(eye, valve, [0.0, 0.0, 1.0])
    beyond = valve + 0.35 * (valve - eye) / np.linalg.norm(valve - eye)
    pixels = viewer.part_pixels(T, "BKT-F1-B2A", beyond - viewer.part_centre("BKT-F1-B2A"))
    labels = render(scene, camera, T, RenderOptions(supersample=1)).label_map
    assert len(pixels.rows) > 500  # around the valve
    seen_there = labels[pixels.rows, pixels.cols]
    assert not np.any(seen_there == scene.label_by_id()["VLV-P2-1"])


def test_a_part_hidden_behind_another_part_is_not_in_view(sample_section):
    """The collar plate COL-F3-L4 seen from inside the valve VLV-P2-1 beside it."""
    camera = default_camera()
    scene = SectionScene(sample_section)
    viewer = ExpectedViewer(scene, camera)
    clear = look_at_T_cam_world([5.9, 2.9, 1.2], [5.012, 2.45, 0.155], [0.0, 0.0, 1.0])
    hidden = look_at_T_cam_world([5.53, 2.07, 0.93], [5.012, 2.45, 0.155], [0.0, 0.0, 1.0])
    for T in (clear, hidden):
        rendered, _ = rendered_share(sample_section, camera, T, "COL-F3-L4")
        ratio, height = viewer.part_in_view(T, "COL-F3-L4")
        assert ratio == pytest.approx(rendered, abs=0.05)
        assert viewer.view(T).parts["COL-F3-L4"].visible_ratio == pytest.approx(ratio, abs=0.1)
        assert height > 100
    assert viewer.part_in_view(hidden, "COL-F3-L4")[0] < 0.1
    assert viewer.part_in_view(clear, "COL-F3-L4")[0] > 0.6
