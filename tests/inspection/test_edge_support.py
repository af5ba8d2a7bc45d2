import numpy as np
import pytest

from arinspect.cad.catalog import load_catalog
from arinspect.cad.section import load_section
from arinspect.inspection.edge_support import PartEdgeSupport
from arinspect.pose.cad_edges import CadEdges, edges_apart_from
from arinspect.pose.refine_edges import gradient_pyramid
from arinspect.recording.bop import Recording
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene

REMOVED = {"CTH-3", "COL-F2-L3"}  # tests/fixtures/regenerate.sh
MOVED = {"CLP-P2-3", "BKT-F1-B2A"}


@pytest.fixture(scope="module")
def supports(fixtures_dir):
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    checker = PartEdgeSupport(section, SectionScene(section), recording.camera)
    table = {}
    for im_id in recording.frame_ids:
        gradient = gradient_pyramid(recording.bgr(im_id), 1)[0]
        for part in section.parts:
            value = checker.support(gradient, recording.T_cam_section(im_id), part)
            if value is not None:
                table.setdefault(part.id, []).append(value)
    return table


def test_parts_in_place_show_their_edges_and_a_removed_one_does_not(supports):
    in_place = [v for pid, values in supports.items() if pid not in REMOVED | MOVED for v in values]
    assert len(in_place) > 40
    assert np.median(in_place) > 0.7 and min(in_place) >= 0.5
    assert len(supports["CTH-3"]) == 3 and max(supports["CTH-3"]) <= 0.15


def test_a_parts_edges_along_the_steel_are_left_out():
    normals = np.tile([0.0, 0.0, 1.0], (2, 1))
    # One segment 4 mm above a structure edge (a rim along the steel), one 5 cm away.
    part = CadEdges(
        np.array([[0.0, 0.0, 0.004], [0.0, 0.05, 0.0]]),
        np.array([[0.3, 0.0, 0.004], [0.3, 0.05, 0.0]]),
        normals,
        normals,
        np.ones(2, bool),
    )
    structure = CadEdges(
        np.array([[-1.0, 0.0, 0.0]]),
        np.array([[1.0, 0.0, 0.0]]),
        normals[:1],
        normals[:1],
        np.ones(1, bool),
    )
    kept = edges_apart_from(part, structure, 0.01)
    np.testing.assert_array_equal(kept.starts, [[0.0, 0.05, 0.0]])
    assert len(edges_apart_from(part, structure, 0.06).starts) == 0


def test_parts_measured_together_read_as_measured_one_by_one(fixtures_dir):
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    checker = PartEdgeSupport(section, SectionScene(section), recording.camera)
    gradient = gradient_pyramid(recording.bgr(1), 1)[0]
    T = recording.T_cam_section(1)
    together = checker.supports(gradient, T, section.parts)
    alone = [checker.support(gradient, T, part) for part in section.parts]
    assert sum(v is not None for v in together) >= 20
    for a, b in zip(together, alone, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert abs(a - b) < 0.1  # only the even thinning of the samples differs
    assert checker.supports(gradient, T, []) == []


def test_edges_the_structure_makes_anyway_are_not_the_parts(fixtures_dir):
    """Clamps' rims along their pipes' contours show whether or not the clamps are there."""
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    clamps = [part for part in section.parts if part.class_name == "pipe_clamp"]
    checker = PartEdgeSupport(section, SectionScene(section), recording.camera)
    shown = {"in place": [], "removed": []}
    for im_id in recording.frame_ids:
        T = recording.T_cam_section(im_id)
        for case, removed in (("in place", set()), ("removed", {p.id for p in clamps})):
            scene = SectionScene(section, removed=removed)
            image = render(scene, recording.camera, T, RenderOptions(supersample=1)).bgr
            values = checker.supports(gradient_pyramid(image, 1)[0], T, clamps)
            shown[case] += [v for v in values if v is not None]
    assert len(shown["removed"]) >= 10
    assert min(shown["in place"]) >= 0.55
    # The bare pipes' contours alone made 0.11 of the clamps' edges show on average.
    assert np.mean(shown["removed"]) <= 0.08


def test_flat_parts_give_no_support_figure(fixtures_dir):
    """A collar plate primed like its web shows no outline: its edges prove nothing."""
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    mounts = {name: entry.mount for name, entry in load_catalog().classes.items()}
    checker = PartEdgeSupport(section, SectionScene(section), recording.camera, mounts=mounts)
    assert checker.flat_parts == {p.id for p in section.parts if p.class_name == "collar_plate"}
    gradient = gradient_pyramid(recording.bgr(1), 1)[0]
    values = checker.supports(gradient, recording.T_cam_section(1), section.parts)
    for part, value in zip(section.parts, values, strict=True):
        if part.class_name == "collar_plate":
            assert value is None
    assert sum(v is not None for v in values) >= 15
