"""Suggested viewpoints for parts an inspection could not verify."""

from __future__ import annotations

import pytest

from arinspect.cad.catalog import load_catalog
from arinspect.camera import default_camera
from arinspect.inspection.expected import ExpectedViewer
from arinspect.inspection.next_looks import ViewSearch, suggest_views
from arinspect.recording.trajectory import section_bounds
from arinspect.render.scene import SectionScene
from tests.inspection.rendered_view import rendered_share

# A collar plate on the aft face of its web (mounting normal -x), a clamp under its pipe,
# a handhole frame, a lug on the shell plate.
PARTS = ("COL-F1-L2", "CLP-P2-3", "HHF-F2-B2", "LUG-S1")


@pytest.fixture(scope="module")
def suggestions(sample_section):
    viewer = ExpectedViewer(SectionScene(sample_section), default_camera())
    mounts = {name: entry.mount for name, entry in load_catalog().classes.items()}
    return suggest_views(viewer, sample_section, mounts, PARTS)


def test_a_suggested_view_shows_the_part_well_when_rendered(sample_section, suggestions):
    for part_id in PARTS:
        view = suggestions[part_id]
        assert view is not None, part_id
        share, height = rendered_share(
            sample_section, default_camera(), view.T_cam_section, part_id
        )
        assert share >= 0.65 and height >= 30, (part_id, share, height)  # enough to measure


def test_the_eye_is_on_the_side_the_part_is_mounted_on_and_within_reach(
    sample_section, suggestions
):
    parts = {p.id: p for p in sample_section.parts}
    lo, hi = section_bounds(sample_section)
    search = ViewSearch()
    for part_id, view in suggestions.items():
        normal = parts[part_id].T_section_part[:3, 2]
        if part_id != "CLP-P2-3":  # on a pipe: seen from across it, not along its normal
            assert (view.eye_section_m - view.target_section_m) @ normal > 0, part_id
        assert lo[2] + search.eye_height_m[0] <= view.eye_section_m[2] <= lo[2] + 1.8
        assert view.distance_m == pytest.approx(min(search.distances_m), abs=0.7)
    assert suggestions["COL-F1-L2"].eye_section_m[0] < 0.994  # aft of its web at x = 0.994


def test_no_viewpoint_is_suggested_where_none_tried_shows_the_part(sample_section):
    viewer = ExpectedViewer(SectionScene(sample_section), default_camera())
    too_demanding = ViewSearch(min_height_px=2000.0)
    assert suggest_views(viewer, sample_section, {}, ["LUG-S1"], too_demanding) == {"LUG-S1": None}
