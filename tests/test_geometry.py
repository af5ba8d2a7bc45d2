import numpy as np
import pytest

from arinspect.errors import ShapeError
from arinspect.geometry import (
    T_from_axes,
    invert_T,
    is_rigid,
    look_at_T_cam_world,
    make_T,
    pose_error,
    rotation_angle_rad,
    rotation_from_rotvec,
    rotvec_from_rotation,
    transform_points,
)


def random_T(rng: np.random.Generator) -> np.ndarray:
    return make_T(rotation_from_rotvec(rng.normal(size=3)), rng.normal(size=3))


def test_invert_and_compose_follow_the_T_a_b_convention():
    rng = np.random.default_rng(0)
    T_a_b, T_b_c = random_T(rng), random_T(rng)
    pts_c = rng.normal(size=(5, 3))
    pts_b = transform_points(T_b_c, pts_c)
    pts_a = transform_points(T_a_b, pts_b)
    np.testing.assert_allclose(transform_points(T_a_b @ T_b_c, pts_c), pts_a, atol=1e-12)
    np.testing.assert_allclose(transform_points(invert_T(T_a_b), pts_a), pts_b, atol=1e-12)
    np.testing.assert_allclose(invert_T(T_a_b) @ T_a_b, np.eye(4), atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 1e-9, 0.3, 2.0, np.pi - 1e-7, np.pi])
def test_rotvec_roundtrip_including_near_pi(angle):
    axis = np.array([0.2, -0.5, 0.84])
    axis /= np.linalg.norm(axis)
    R = rotation_from_rotvec(axis * angle)
    assert rotation_angle_rad(R) == pytest.approx(angle, abs=1e-6)
    np.testing.assert_allclose(rotation_from_rotvec(rotvec_from_rotation(R)), R, atol=1e-6)


def test_is_rigid_rejects_scaled_sheared_and_bad_last_row():
    T = random_T(np.random.default_rng(1))
    assert is_rigid(T)
    scaled = T.copy()
    scaled[:3, :3] *= 1.01
    sheared = T.copy()
    sheared[0, 1] += 0.01
    bad_row = T.copy()
    bad_row[3, 0] = 0.5
    assert not is_rigid(scaled)
    assert not is_rigid(sheared)
    assert not is_rigid(bad_row)
    assert not is_rigid(np.full((4, 4), np.nan))


def test_look_at_puts_target_on_the_optical_axis_with_up_upwards():
    eye, target = np.array([1.0, -2.0, 2.5]), np.array([3.0, 1.0, 0.3])
    T_cam_world = look_at_T_cam_world(eye, target, [0, 0, 1])
    target_cam = transform_points(T_cam_world, target[None])[0]
    np.testing.assert_allclose(target_cam[:2], 0.0, atol=1e-12)
    assert target_cam[2] == pytest.approx(np.linalg.norm(target - eye))
    above = transform_points(T_cam_world, (target + [0, 0, 1.0])[None])[0]
    assert above[1] < 0  # OpenCV y points down, so "up" has negative y
    assert np.linalg.det(T_cam_world[:3, :3]) == pytest.approx(1.0)


def test_T_from_axes_is_right_handed_and_checks_perpendicularity():
    T = T_from_axes([0, 1, 0], [1, 0, 0], [1, 2, 3])
    np.testing.assert_allclose(T[:3, 1], [0, 0, 1])
    np.testing.assert_allclose(T[:3, 3], [1, 2, 3])
    with pytest.raises(ValueError):
        T_from_axes([1, 1, 0], [1, 0, 0], [0, 0, 0])


def test_pose_error_units_and_shape_check():
    T = random_T(np.random.default_rng(2))
    moved = make_T(rotation_from_rotvec([0, 0, np.radians(2.0)]), [0.003, 0, 0]) @ T
    dt, dr = pose_error(moved, T)
    assert np.degrees(dr) == pytest.approx(2.0, abs=1e-9)
    assert dt > 0
    with pytest.raises(ShapeError):
        transform_points(T, np.zeros((3, 2)))
