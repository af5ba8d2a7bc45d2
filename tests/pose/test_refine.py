import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.geometry import make_T, pose_error, rotation_from_rotvec
from arinspect.pose.covariance import translation_bound95_m
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


@pytest.fixture(scope="module")
def colour_walk(fixtures_dir):
    recording = Recording(fixtures_dir / "defects")
    return recording, StructureModel(load_section(recording.section_folder))


@pytest.mark.parametrize("im_id", [0, 1, 2, 3])
def test_edges_keep_the_true_pose_and_narrow_its_uncertainty(colour_walk, im_id):
    recording, model = colour_walk
    truth = recording.T_cam_section(im_id)
    prior = np.diag([0.003**2] * 3 + [0.02**2] * 3)  # 3 mrad, 2 cm
    result = refine_with_edges(
        model, recording.camera, recording.bgr(im_id), truth, prior_covariance=prior
    )
    assert not result.accepted  # no clear fall of the edge cost from the truth
    np.testing.assert_array_equal(result.T_cam_section, truth)
    # What the edges measure at the pose they agree with still counts.
    assert translation_bound95_m(result.covariance, truth) < 0.5 * translation_bound95_m(
        prior, truth
    )


@pytest.mark.parametrize("im_id", [0, 1, 2, 3])
def test_edges_pull_a_pose_centimetres_off_to_within_their_bound(colour_walk, im_id):
    recording, model = colour_walk
    truth = recording.T_cam_section(im_id)
    start = nudge(truth, [0.003, -0.002, 0.0015], [0.015, -0.01, 0.008])  # 24 mm, 0.23 deg
    result = refine_with_edges(model, recording.camera, recording.bgr(im_id), start)
    assert result.accepted and result.cost_after < result.cost_before
    error_m = pose_error(result.T_cam_section, truth)[0]
    assert error_m < 0.5 * pose_error(start, truth)[0]
    assert error_m < translation_bound95_m(result.covariance, result.T_cam_section)
    assert result.inlier_ratio > 0.3


def test_the_prior_holds_the_pose_as_far_as_it_is_sure(colour_walk):
    recording, model = colour_walk
    truth = recording.T_cam_section(0)
    start = nudge(truth, [0.0, 0.0, 0.0], [0.02, 0.0, 0.0])
    loose = refine_with_edges(model, recording.camera, recording.bgr(0), start)
    assert pose_error(loose.T_cam_section, truth)[0] < 0.006
    tight_prior = np.diag([1e-4**2] * 3 + [0.001**2] * 3)  # 0.1 mrad, 1 mm
    tight = refine_with_edges(
        model, recording.camera, recording.bgr(0), start, prior_covariance=tight_prior
    )
    assert pose_error(tight.T_cam_section, start)[0] < 0.002  # the edges pull, the prior holds
    # The result is at least as sure as the prior alone.
    assert np.all(np.linalg.eigvalsh(tight.covariance) <= np.linalg.eigvalsh(tight_prior) + 1e-12)


def test_edges_decline_a_blank_image(colour_walk):
    recording, model = colour_walk
    truth = recording.T_cam_section(0)
    start = nudge(truth, [0.0, 0.0, 0.0], [0.01, 0.0, 0.0])
    blank = np.full((480, 640, 3), 90, np.uint8)
    result = refine_with_edges(model, recording.camera, blank, start)
    assert not result.accepted
    np.testing.assert_array_equal(result.T_cam_section, start)
