"""Pose covariances: fusing two independent estimates of one pose."""

from __future__ import annotations

import numpy as np

from arinspect.geometry import make_T, pose_error, rotation_from_rotvec
from arinspect.pose.covariance import fuse_poses, left_perturbation, translation_covariance

T_TRUE = make_T(rotation_from_rotvec([0.1, -0.2, 0.05]), [0.3, -0.1, 2.5])


def diag(rad: float, metres: tuple[float, float, float]) -> np.ndarray:
    return np.diag([rad**2] * 3 + [m**2 for m in metres])


def test_equal_estimates_meet_halfway_with_half_the_covariance() -> None:
    T_a = make_T(np.eye(3), [0.01, 0, 0]) @ T_TRUE
    T_b = make_T(np.eye(3), [-0.01, 0, 0]) @ T_TRUE
    cov = diag(0.001, (0.01, 0.01, 0.01))
    T, P = fuse_poses(T_a, cov, T_b, cov)
    assert pose_error(T, T_TRUE)[0] < 1e-9
    np.testing.assert_allclose(P, cov / 2, atol=1e-15)


def test_each_estimate_wins_the_directions_it_knows_best() -> None:
    # a: a motion prediction, 5 mm everywhere but 4 mm off along x (camera frame)
    # b: one far marker, sharp across the view (1 mm) but vague along the line of sight
    T_a = make_T(np.eye(3), [0.004, 0.0, 0.0]) @ T_TRUE
    T_b = make_T(np.eye(3), [0.0, 0.0, 0.03]) @ T_TRUE
    cov_a = diag(0.002, (0.005, 0.005, 0.005))
    cov_b = diag(0.0005, (0.001, 0.001, 0.05))
    T, P = fuse_poses(T_a, cov_a, T_b, cov_b)
    delta = left_perturbation(T, T_TRUE)
    assert abs(delta[3]) < 0.0003  # x from the marker
    assert abs(delta[5]) < 0.0015  # z mostly from the prediction: 3 cm * 25/2525
    bound_fused = np.linalg.eigvalsh(translation_covariance(P, T)).max()
    for cov in (cov_a, cov_b):
        assert bound_fused <= np.linalg.eigvalsh(translation_covariance(cov, T)).max()


def test_a_rank_deficient_estimate_adds_only_what_it_sees() -> None:
    T_a = T_TRUE
    T_b = make_T(np.eye(3), [0.0, 0.02, 0.0]) @ T_TRUE
    cov_a = diag(0.001, (0.004, 0.004, 0.004))
    cov_b = np.zeros((6, 6))
    cov_b[3, 3] = 0.001**2  # b only constrains x
    cov_b = cov_b + np.diag([0, 0, 0, 0, 1e6, 1e6])
    T, P = fuse_poses(T_a, cov_a, T_b, cov_b)
    assert abs(left_perturbation(T, T_TRUE)[4]) < 1e-6  # b's y offset carries no weight
    assert P[3, 3] < cov_a[3, 3] and np.isclose(P[4, 4], cov_a[4, 4], rtol=1e-6)
