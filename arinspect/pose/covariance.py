"""Pose uncertainty: the convention, projection Jacobians and confidence bounds.

Convention: a pose covariance is 6x6 over a left perturbation ``delta = [omega, v]`` in the
camera frame, ``T_true = exp(delta) @ T_est`` (omega in radians, v in metres). The
translation of T_cam_section then errs by ``omega x t + v``.
"""

from __future__ import annotations

import numpy as np

from arinspect.camera import CameraModel
from arinspect.geometry import invert_T, rotation_from_rotvec, rotvec_from_rotation
from arinspect.typed import FloatArray

CHI2_3DOF_95 = 7.814727903251178
"""95 % quantile of the chi-square distribution with 3 degrees of freedom."""
CHI2_6DOF_95 = 12.591587243743977
"""95 % quantile of the chi-square distribution with 6 degrees of freedom."""


def skew(v: FloatArray) -> FloatArray:
    """(3, 3) matrix of the cross product with (3,) v."""
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


def projection_jacobian(camera: CameraModel, pts_cam: FloatArray) -> FloatArray:
    """(N, 2, 6) d(u, v)/d[omega, v] of camera-frame points (pinhole part of the model)."""
    x, y, z = pts_cam.T
    fx, fy = camera.K[0, 0], camera.K[1, 1]
    zeros = np.zeros_like(z)
    d_uv_d_p = np.stack(
        [
            np.stack([fx / z, zeros, -fx * x / z**2], axis=1),
            np.stack([zeros, fy / z, -fy * y / z**2], axis=1),
        ],
        axis=1,
    )  # (N, 2, 3)
    # d p / d omega = -[p]x, d p / d v = I  (p' = p + omega x p + v)
    d_p_d_omega = np.zeros((len(pts_cam), 3, 3))
    d_p_d_omega[:, 0, 1], d_p_d_omega[:, 0, 2] = z, -y
    d_p_d_omega[:, 1, 0], d_p_d_omega[:, 1, 2] = -z, x
    d_p_d_omega[:, 2, 0], d_p_d_omega[:, 2, 1] = y, -x
    return np.concatenate([d_uv_d_p @ d_p_d_omega, d_uv_d_p], axis=2)


def translation_covariance(covariance: FloatArray, T_cam_section: FloatArray) -> FloatArray:
    """(3, 3) covariance of the translation of T_cam_section (metres^2)."""
    A = np.concatenate([-skew(T_cam_section[:3, 3]), np.eye(3)], axis=1)
    return A @ covariance @ A.T


def translation_bound95_m(covariance: FloatArray, T_cam_section: FloatArray) -> float:
    """Radius (m) along the worst axis of the 95 % confidence ellipsoid of the translation."""
    largest = float(np.linalg.eigvalsh(translation_covariance(covariance, T_cam_section)).max())
    return float(np.sqrt(CHI2_3DOF_95 * max(largest, 0.0)))


def left_perturbation(T_to: FloatArray, T_from: FloatArray) -> FloatArray:
    """(6,) ``delta = [omega, v]`` with ``T_to = exp(delta) @ T_from`` (first order)."""
    delta_T = T_to @ invert_T(T_from)
    return np.concatenate([rotvec_from_rotation(delta_T[:3, :3]), delta_T[:3, 3]])


def fuse_poses(
    T_a: FloatArray, cov_a: FloatArray, T_b: FloatArray, cov_b: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Information-weighted combination of two independent estimates of one pose.

    A Kalman update on SE(3) to first order: the result moves ``T_a`` by the share of the
    perturbation towards ``T_b`` that the information of ``b`` earns; its covariance is
    the inverse of the summed information (never larger than either input's).

    Args:
        T_a: (4, 4) first estimate (e.g. the motion prediction), metres.
        cov_a: (6, 6) its covariance (module convention).
        T_b: (4, 4) second estimate (e.g. from markers).
        cov_b: (6, 6) its covariance; may be rank-deficient (a direction it does not see).

    Returns:
        The fused pose and its (6, 6) covariance.
    """
    info_a, info_b = np.linalg.pinv(cov_a), np.linalg.pinv(cov_b)
    covariance = np.linalg.inv(info_a + info_b)
    step = covariance @ info_b @ left_perturbation(T_b, T_a)
    T_step = np.eye(4)
    T_step[:3, :3] = rotation_from_rotvec(step[:3])
    T_step[:3, 3] = step[3:]
    covariance = 0.5 * (covariance + covariance.T)
    return T_step @ T_a, covariance
