import numpy as np
import pytest

from arinspect.cad.section import load_section
from arinspect.geometry import make_T, pose_error, rotation_from_rotvec
from arinspect.pose.backwards import backward_runs, is_lost
from arinspect.pose.track_recording import track_recording
from arinspect.pose.tracker import FrameResult, PoseTracker
from arinspect.recording.bop import Recording


def _result(status: str, bound_m: float = 0.005) -> FrameResult:
    return FrameResult(0, status, np.eye(4), np.nan, None, bound_m, 0.5, "markers", 2, {})


def test_runs_of_lost_frames_are_seeded_from_the_trusted_frames_after_them():
    results = [
        _result("lost"),
        _result("lost"),
        _result("reinitialised"),
        _result("tracked"),
        _result("lost"),
        _result("reinitialised"),
        _result("reinitialised", bound_m=0.03),  # three markers, beyond the bound: no seed
        _result("lost"),
        _result("reinitialised", bound_m=0.03),  # no seed: the run before it stays
        _result("lost", bound_m=0.015),  # within the bound, but lost (one marker alone)
        _result("lost"),  # nothing after it
    ]
    runs = backward_runs(results, is_lost, max_bound95_m=0.02)
    assert runs == [([3, 2], [1, 0]), ([5], [4])]
    assert backward_runs(results[2:4], is_lost, 0.02) == []
    assert backward_runs([], is_lost, 0.02) == []


@pytest.mark.parametrize("depth", [True, False], ids=["depth", "colour"])
def test_frames_before_the_first_marker_are_tracked_backwards(markers_hidden, depth):
    recording = Recording(markers_hidden(frames=2, depth=depth))
    section = load_section(recording.section_folder)
    forward = track_recording(recording, section, recording.camera, backwards=False)
    assert [r.status for r in forward[:3]] == ["lost", "lost", "reinitialised"]
    both = track_recording(recording, section, recording.camera)
    assert [r.status for r in both[:3]] == ["tracked", "tracked", "reinitialised"]
    for tracked_again, tracked_once in zip(both[2:], forward[2:], strict=True):
        assert np.allclose(tracked_again.T_cam_section, tracked_once.T_cam_section, atol=1e-9)
    for result in both[:2]:
        error = pose_error(result.T_cam_section, recording.T_cam_section(result.im_id))[0]
        assert error < result.bound95_m
        assert ("+icp" in result.source) == depth


def test_constant_velocity_predicts_backwards_as_forwards(sample_section, fixtures_dir):
    """Seeded with frames 2 then 1 (timestamps falling), the tracker predicts frame 0."""
    camera = Recording(fixtures_dir / "walk_depth").camera
    step = make_T(rotation_from_rotvec([0.0, 0.02, 0.01]), [0.05, -0.02, 0.01])
    T0 = make_T(np.eye(3), [0.1, 0.2, 3.0])
    poses = [T0, step @ T0, step @ step @ T0]
    tracker = PoseTracker(sample_section, camera)
    covariance = np.eye(6) * 1e-6
    for index in (2, 1):
        seed = FrameResult(
            index, "tracked", poses[index], np.nan, covariance, 0.003, 0.8, "", 3, {}
        )
        tracker.resume(seed, timestamp_s=0.2 * index)
    predicted, _ = tracker._predict(0.0, None)
    assert pose_error(predicted, T0)[0] < 1e-9
    irregular, _ = tracker._predict(-0.5, None)  # a step 3.5x as long: no velocity guessed
    assert np.allclose(irregular, poses[1])
