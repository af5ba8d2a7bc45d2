"""Rigid transforms in SE(3) on plain numpy arrays.

Convention (docs/conventions.md): ``T_a_b`` is a (4, 4) float64 matrix that maps a point
expressed in frame ``b`` into frame ``a``: ``p_a = T_a_b @ p_b``. Composition cancels inner
indices (``T_a_c = T_a_b @ T_b_c``) and the inverse swaps them (``invert_T(T_a_b) == T_b_a``).
Translations are in metres, rotations in radians.
"""

from __future__ import annotations

import numpy as np

from arinspect.errors import ShapeError
from arinspect.typed import FloatArray

RIGID_TOLERANCE = 1e-6
"""Largest deviation from orthonormality (and from a [0, 0, 0, 1] last row) still called rigid."""


def check_shape(array: np.ndarray, expected: tuple[int | None, ...], name: str) -> None:
    """Raise ShapeError unless `array` has `expected` shape (None matches any length)."""
    ok = array.ndim == len(expected) and all(
        e is None or e == a for a, e in zip(array.shape, expected, strict=True)
    )
    if not ok:
        text = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise ShapeError(name, tuple(array.shape), text)


def make_T(R: FloatArray, t: FloatArray) -> FloatArray:
    """Build a (4, 4) transform from a (3, 3) rotation and a (3,) translation in metres."""
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = np.asarray(t, dtype=np.float64).reshape(3)
    return T


def invert_T(T_a_b: FloatArray) -> FloatArray:
    """Return T_b_a for a rigid (4, 4) transform T_a_b, exactly (no general matrix inverse)."""
    R = T_a_b[:3, :3]
    t = T_a_b[:3, 3]
    return make_T(R.T, -R.T @ t)


def transform_points(T_a_b: FloatArray, pts_b: FloatArray) -> FloatArray:
    """Map (N, 3) points from frame b into frame a with the (4, 4) transform T_a_b."""
    pts_b = np.asarray(pts_b, dtype=np.float64)
    check_shape(pts_b, (None, 3), "pts_b")
    return pts_b @ T_a_b[:3, :3].T + T_a_b[:3, 3]


def rotate_vectors(T_a_b: FloatArray, vec_b: FloatArray) -> FloatArray:
    """Rotate (N, 3) direction vectors from frame b into frame a (translation ignored)."""
    vec_b = np.asarray(vec_b, dtype=np.float64)
    check_shape(vec_b, (None, 3), "vec_b")
    return vec_b @ T_a_b[:3, :3].T


def rigidity_error(T: FloatArray) -> float:
    """How far a (4, 4) matrix is from a proper rigid transform (0 for an exact one).

    The largest of: |R^T R - I|, |det R - 1| and |last row - [0, 0, 0, 1]|.
    """
    T = np.asarray(T, dtype=np.float64)
    R = T[:3, :3]
    return float(
        max(
            np.abs(R.T @ R - np.eye(3)).max(),
            abs(np.linalg.det(R) - 1.0),
            np.abs(T[3] - np.array([0.0, 0.0, 0.0, 1.0])).max(),
        )
    )


def is_rigid(T: FloatArray, tolerance: float = RIGID_TOLERANCE) -> bool:
    """True if `T` is a (4, 4) finite rigid transform within `tolerance`."""
    T = np.asarray(T, dtype=np.float64)
    return T.shape == (4, 4) and bool(np.isfinite(T).all()) and rigidity_error(T) <= tolerance


def rotation_about_axis(axis: FloatArray, angle_rad: float) -> FloatArray:
    """(3, 3) rotation of `angle_rad` radians about the unit vector `axis` (Rodrigues)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * K + (1 - np.cos(angle_rad)) * (K @ K)


def rotation_from_rotvec(rotvec: FloatArray) -> FloatArray:
    """(3, 3) rotation from a (3,) axis-angle vector whose norm is the angle in radians."""
    rotvec = np.asarray(rotvec, dtype=np.float64).reshape(3)
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    return rotation_about_axis(rotvec / angle, angle)


def rotvec_from_rotation(R: FloatArray) -> FloatArray:
    """(3,) axis-angle vector (radians) of a (3, 3) rotation; inverse of rotation_from_rotvec."""
    cos_angle = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    angle = float(np.arccos(cos_angle))
    if angle < 1e-12:
        return np.zeros(3)
    if np.pi - angle < 1e-6:
        # Near 180 degrees: the axis is the eigenvector of R with eigenvalue 1.
        w, v = np.linalg.eigh((R + R.T) / 2.0)
        return v[:, np.argmax(w)] * angle
    axis = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    return axis / (2.0 * np.sin(angle)) * angle


def rotation_angle_rad(R_a_b: FloatArray) -> float:
    """Angle in radians of the (3, 3) rotation R_a_b (0 for the identity)."""
    return float(np.arccos(np.clip((np.trace(R_a_b) - 1.0) / 2.0, -1.0, 1.0)))


def pose_error(T_est: FloatArray, T_true: FloatArray) -> tuple[float, float]:
    """Translation error (m) and rotation error (rad) between two transforms of the same frames."""
    dT = invert_T(T_true) @ T_est
    return float(np.linalg.norm(T_est[:3, 3] - T_true[:3, 3])), rotation_angle_rad(dT[:3, :3])


def look_at_T_cam_world(
    eye_world: FloatArray, target_world: FloatArray, up_world: FloatArray
) -> FloatArray:
    """T_cam_world of an OpenCV camera (x right, y down, z forward) at `eye` looking at `target`.

    Args:
        eye_world: (3,) camera centre in the world (or section) frame, metres.
        target_world: (3,) point the optical axis passes through, metres.
        up_world: (3,) direction that appears "up" in the image; must not be parallel
            to the viewing direction.
    """
    eye = np.asarray(eye_world, dtype=np.float64)
    z = np.asarray(target_world, dtype=np.float64) - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, np.asarray(up_world, dtype=np.float64))
    norm = np.linalg.norm(x)
    if norm < 1e-9:
        raise ValueError("up_world is parallel to the viewing direction")
    x /= norm
    y = np.cross(z, x)
    R_world_cam = np.stack([x, y, z], axis=1)
    return invert_T(make_T(R_world_cam, eye))


def T_from_axes(x_axis: FloatArray, z_axis: FloatArray, origin: FloatArray) -> FloatArray:
    """T_a_b of a frame b given its x and z axes and origin expressed in frame a.

    The y axis completes a right-handed frame (y = z cross x); `x_axis` must be
    perpendicular to `z_axis`. Lengths in metres.
    """
    x = np.asarray(x_axis, dtype=np.float64)
    z = np.asarray(z_axis, dtype=np.float64)
    x = x / np.linalg.norm(x)
    z = z / np.linalg.norm(z)
    if abs(float(x @ z)) > 1e-9:
        raise ValueError("x_axis and z_axis are not perpendicular")
    return make_T(np.column_stack([x, np.cross(z, x), z]), origin)
