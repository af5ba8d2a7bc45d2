import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.geometry import make_T, pose_error, rotation_from_rotvec
from arinspect.pose.model_view import StructureModel
from arinspect.pose.refine_depth import refine_with_depth
from arinspect.pose.refine_edges import refine_with_edges
from arinspect.recording.bop import Recording
from tests.helpers import assert_pose_close


@pytest.fixture(scope="module")
def walk(fixtures_dir):
    recording = Recording(fixtures_dir / "walk_depth")
    return recording, StructureModel(load_section(recording.section_folder))


def nudge(T, rotvec, translation):
    return make_T(rotation_from_rotvec(rotvec), translation) @ T


@pytest.mark.parametrize("im_id", [0, 2, 4])
def test_icp_pulls_a_centimetre_off_pose_onto_the_truth(walk, im_id):
    recording, model = walk
    truth = recording.T_cam_section(im_id)
    start = nudge(truth, [0.004, -0.003, 0.002], [0.012, -0.008, 0.01])
    result = refine_with_depth(model, recording.camera, recording.depth_m(im_id), start)
    assert result.accepted
    assert_pose_close(result.T_cam_section, truth, trans_m=0.001, rot_deg=0.05)
    assert result.rms_after_m < result.rms_before_m
    assert np.linalg.matrix_rank(result.information) == 6


def test_icp_never_makes_the_true_pose_worse(walk):
    recording, model = walk
    truth = recording.T_cam_section(1)
    result = refine_with_depth(model, recording.camera, recording.depth_m(1), truth)
    assert_pose_close(result.T_cam_section, truth, trans_m=0.0005, rot_deg=0.02)


def test_icp_without_enough_depth_declines(walk):
    recording, model = walk
    truth = recording.T_cam_section(0)
    result = refine_with_depth(model, recording.camera, np.zeros((480, 640), np.float32), truth)
    assert not result.accepted
    np.testing.assert_array_equal(result.T_cam_section, truth)


def test_edges_keep_the_true_pose_and_reduce_a_small_error(walk):
    recording, model = walk
    truth = recording.T_cam_section(0)
    image = recording.bgr(0)
    kept = refine_with_edges(model, recording.camera, image, truth)
    assert pose_error(kept.T_cam_section, truth)[0] < 0.001
    start = nudge(truth, [0.0, 0.0, 0.0], [0.008, -0.005, 0.0])
    moved = refine_with_edges(model, recording.camera, image, start)
    assert moved.accepted
    assert pose_error(moved.T_cam_section, truth)[0] < pose_error(start, truth)[0]
