from dataclasses import replace

import cv2
import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.errors import ShapeError
from arinspect.geometry import make_T, pose_error, rotation_from_rotvec
from arinspect.markers import marker_corners_marker
from arinspect.pose.covariance import CHI2_6DOF_95, translation_bound95_m
from arinspect.pose.refine_depth import IcpResult
from arinspect.pose.track_recording import compare_with_truth, track_recording
from arinspect.pose.tracker import PoseTracker, TrackerConfig
from arinspect.recording.bop import Recording


@pytest.fixture(scope="module")
def walk(fixtures_dir):
    recording = Recording(fixtures_dir / "walk_depth")
    return recording, load_section(recording.section_folder)


def test_walk_with_depth_is_tracked_to_a_millimetre(walk):
    recording, section = walk
    results = track_recording(recording, section, recording.camera)
    assert [r.status for r in results] == ["reinitialised"] + ["tracked"] * (len(results) - 1)
    summary = compare_with_truth(results, recording)
    assert summary.translation_mm[3] < 1.0 and summary.rotation_deg[3] < 0.05
    assert [r.source for r in results] == ["markers+icp"] + ["markers+motion+icp"] * (
        len(results) - 1
    )
    assert all(r.quality > 0.5 for r in results)


def test_colour_only_frames_with_few_markers_are_not_trusted_blindly(fixtures_dir):
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    results = track_recording(recording, section, recording.camera)
    summary = compare_with_truth(results, recording)
    assert summary.tracked_over_2cm == 0
    for result in results:
        if result.status == "tracked":
            assert result.bound95_m <= 0.02
        if result.bound95_m > 0.02:
            assert result.quality == 0.0
        error = pose_error(result.T_cam_section, recording.T_cam_section(result.im_id))[0]
        assert error < result.bound95_m or result.status == "lost"


def test_a_frame_without_markers_is_lost_not_a_crash(walk):
    recording, section = walk
    tracker = PoseTracker(section, recording.camera)
    result = tracker.process(0, np.full((480, 640, 3), 90, np.uint8))
    assert result.status == "lost" and result.T_cam_section is None
    with pytest.raises(ShapeError):
        tracker.process(1, np.zeros((240, 320, 3), np.uint8))


def test_markers_found_beforehand_track_as_markers_found_by_the_tracker(walk):
    """The inspection finds each frame's markers in its reader thread and passes them in."""
    recording, section = walk
    own, given = PoseTracker(section, recording.camera), PoseTracker(section, recording.camera)
    finder = PoseTracker(section, recording.camera).detector
    for im_id in recording.frame_ids[:3]:
        image, depth = recording.bgr(im_id), recording.depth_m(im_id)
        expected = own.process(im_id, image, depth)
        result = given.process(im_id, image, depth, markers=finder.detect(image))
        assert result.status == expected.status and result.n_markers == expected.n_markers > 0
        np.testing.assert_allclose(result.T_cam_section, expected.T_cam_section, atol=1e-9)
    # None found beforehand means none there: the frame is not searched again.
    assert given.process(99, image, depth, markers=[]).n_markers == 0


def test_markerless_start_from_an_approximate_pose_with_depth(walk):
    recording, section = walk
    no_markers = replace(section, markers=())
    truth = recording.T_cam_section(0)
    init = make_T(rotation_from_rotvec([0.003, -0.002, 0.002]), [0.015, -0.01, 0.01]) @ truth
    tracker = PoseTracker(no_markers, recording.camera, T_cam_section_init=init)
    result = tracker.process(0, recording.bgr(0), recording.depth_m(0))
    assert result.source == "init+icp"
    assert pose_error(result.T_cam_section, truth)[0] < 0.002
    headset = [np.asarray(f["T_world_cam"]) for f in recording.meta["frames"][:2]]
    tracker = PoseTracker(no_markers, recording.camera, T_cam_section_init=init)
    tracker.process(0, recording.bgr(0), recording.depth_m(0), 0.0, headset[0])
    following = tracker.process(1, recording.bgr(1), recording.depth_m(1), 0.2, headset[1])
    assert following.status == "tracked"
    assert pose_error(following.T_cam_section, recording.T_cam_section(1))[0] < 0.002
    # Without the headset's motion the 1 m step cannot be predicted: lost, not a wrong "tracked".
    blind = PoseTracker(no_markers, recording.camera, T_cam_section_init=init)
    blind.process(0, recording.bgr(0), recording.depth_m(0))
    guess = blind.process(1, recording.bgr(1), recording.depth_m(1))
    assert (
        guess.status == "lost"
        or pose_error(guess.T_cam_section, recording.T_cam_section(1))[0] < 0.02
    )


def test_one_marker_starts_a_track_only_when_depth_or_the_structure_confirms_it(walk):
    """One marker's pose is ambiguous: ICP on depth, or the structure's edges found in most of
    the image, must confirm it; a marker on a view that shows nothing else is not trusted."""
    recording, section = walk
    truth = recording.T_cam_section(0)
    image = recording.bgr(0)
    started = 0
    for marker in section.markers:
        one = replace(section, markers=(marker,))
        with_depth = PoseTracker(one, recording.camera).process(0, image, recording.depth_m(0))
        if with_depth.n_markers != 1:
            continue  # not in view
        assert with_depth.status == "reinitialised" and with_depth.source == "markers+icp"
        assert pose_error(with_depth.T_cam_section, truth)[0] < 0.01
        colour_only = PoseTracker(one, recording.camera).process(0, image)
        assert colour_only.status == "reinitialised" and colour_only.source == "markers+edges"
        assert pose_error(colour_only.T_cam_section, truth)[0] < colour_only.bound95_m
        strict = TrackerConfig(single_marker_min_edge_inliers=0.95)
        assert PoseTracker(one, recording.camera, strict).process(0, image).status == "lost"
        bare = _only_marker_visible(image, recording.camera, truth, marker)
        assert PoseTracker(one, recording.camera).process(0, bare).status == "lost"
        started += 1
    assert started >= 2


def _only_marker_visible(image, camera, T_cam_section, marker):
    """`image` with everything but `marker` (and a margin around it) painted flat grey."""
    uv, _ = camera.project(
        T_cam_section @ marker.T_section_marker, marker_corners_marker(marker.size_m * 1.6)
    )
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(uv).astype(np.int32), 1)
    return np.where(mask[..., None] > 0, image, np.uint8(120))


def _icp(T_converged, fitness=0.45, rms_m=0.0075, points=3000):
    """An ICP outcome that did not lower its cost, ended at `T_converged`."""
    rng = np.random.default_rng(3)
    J = rng.normal(size=(points, 6)) * [2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    return IcpResult(np.eye(4), False, rms_m, rms_m, fitness, J.T @ J, T_converged)


def test_depth_confirms_a_pose_that_icp_could_not_improve(walk):
    """ICP ending 6 mm from a good pose without lowering its cost still pins it down."""
    recording, section = walk
    tracker = PoseTracker(section, recording.camera)
    T = recording.T_cam_section(0)
    prior = np.diag([0.01**2] * 3 + [0.02**2] * 3)  # far marker + motion: 95 % bound ~ 6 cm
    assert translation_bound95_m(prior, T) > tracker.config.max_bound95_m
    delta = np.array([0.0, 0.0, 0.0, 0.006, 0.0, 0.0])
    ended = make_T(np.eye(3), delta[3:]) @ T
    covariance = tracker._confirmed_by_depth(_icp(ended), T, prior)
    assert covariance is not None
    assert translation_bound95_m(covariance, T) <= tracker.config.max_bound95_m
    # where ICP ended stays about on the pose's 95 % bound (the prior adds a little): no
    # claim tighter than ICP showed (its own covariance puts it ~10 sigma away)
    assert 0.9 * CHI2_6DOF_95 <= delta @ np.linalg.solve(covariance, delta) <= 1.1 * CHI2_6DOF_95
    # ICP that ended outside the pose's own confidence region, or is not believed, is no help
    far = make_T(np.eye(3), [0.2, 0.0, 0.0]) @ T
    assert tracker._confirmed_by_depth(_icp(far), T, prior) is None
    assert tracker._confirmed_by_depth(_icp(ended, fitness=0.2), T, prior) is None
    assert tracker._confirmed_by_depth(_icp(None), T, prior) is None
