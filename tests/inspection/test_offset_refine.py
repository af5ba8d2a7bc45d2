import json

import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.inspection.edge_support import PartEdgeSupport
from arinspect.inspection.fusion import FusionConfig, mount_prior, stretched_offsets
from arinspect.inspection.offset_refine import LookImage, refine_offset
from arinspect.pose.refine_edges import gradient_pyramid
from arinspect.recording.bop import Recording
from arinspect.render.scene import SectionScene


@pytest.fixture(scope="module")
def moved_parts(fixtures_dir):
    """The defects fixture: CLP-P2-3 moved 8 cm along x, BKT-F1-B2A 5 cm along -y."""
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    checker = PartEdgeSupport(section, SectionScene(section), recording.camera)
    stored = json.loads((fixtures_dir / "defects" / "recording.json").read_text())["parts"]
    truth = {
        entry["id"]: np.asarray(entry["T_section_part"])[:3, 3]
        - section.part(entry["id"]).T_section_part[:3, 3]
        for entry in stored
        if entry.get("status") == "moved"
    }
    looks = [
        LookImage(recording.T_cam_section(i), gradient_pyramid(recording.bgr(i), 1)[0])
        for i in recording.frame_ids
    ]
    return section, checker, truth, looks


@pytest.mark.parametrize("part_id", ["BKT-F1-B2A", "CLP-P2-3"])
def test_a_lagging_offset_is_pulled_towards_the_parts_edges(moved_parts, part_id):
    section, checker, truth, looks = moved_parts
    part = section.part(part_id)
    start = 0.8 * truth[part_id]  # the detector's boxes lag behind a moved part
    prior = np.eye(3) / 0.03**2 + mount_prior(part, "surface", 0.01)
    refined = refine_offset(checker, part, looks, start, prior)
    assert refined is not None and refined.cost_after < refined.cost_before
    before = np.linalg.norm(start - truth[part_id])
    after = np.linalg.norm(refined.offset_m - truth[part_id])
    assert after < before
    if part_id == "BKT-F1-B2A":
        assert after < 0.6 * before
    assert np.all(np.linalg.eigvalsh(refined.covariance) > 0)


@pytest.mark.parametrize("part_id", ["BKT-F1-B2A", "CLP-P2-3"])
def test_a_box_lagging_far_behind_is_caught_up_along_the_mount(moved_parts, part_id):
    """Boxed at 45 % of the move, beyond the edge search's reach from there."""
    section, checker, truth, looks = moved_parts
    part = section.part(part_id)
    start = 0.45 * truth[part_id]
    prior = np.eye(3) / 0.03**2 + mount_prior(part, "surface", 0.01)
    plain = refine_offset(checker, part, looks, start, prior)
    starts = stretched_offsets(part, "surface", start, FusionConfig())
    stretched = refine_offset(checker, part, looks, start, prior, starts_m=starts)
    assert plain is not None and stretched is not None
    plain_error = np.linalg.norm(plain.offset_m - truth[part_id])
    stretched_error = np.linalg.norm(stretched.offset_m - truth[part_id])
    assert stretched_error < 0.015 < plain_error
    assert stretched.cost_after < stretched.cost_before


def test_the_true_offset_is_left_alone(moved_parts):
    section, checker, truth, looks = moved_parts
    part = section.part("BKT-F1-B2A")
    prior = np.eye(3) / 0.03**2 + mount_prior(part, "surface", 0.01)
    assert refine_offset(checker, part, looks, truth["BKT-F1-B2A"], prior) is None
