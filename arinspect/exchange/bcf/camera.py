"""Conversions between arinspect's pinhole viewpoint and a BCF perspective camera.

arinspect: ``T_section_cam`` (4x4, maps OpenCV camera points, x right, y down, z forward,
into the section frame, metres) with ``K`` (pixels) and the image size. BCF:
``CameraViewPoint`` = the camera centre; ``CameraDirection`` = camera +z in the section
frame; ``CameraUpVector`` = camera -y; ``FieldOfView`` = vertical field of view in degrees,
2·atan(h / 2fy); ``AspectRatio`` = tan(horizontal half-angle) / tan(vertical half-angle)
= w·fy / (h·fx), which is w / h for square pixels. The principal point and the
distortion have no BCF field: the way back puts the principal point at the image centre.
"""

from __future__ import annotations

import math

import numpy as np

from arinspect.exchange.bcf.model import Camera


def camera_from_pinhole(
    T_section_cam: np.ndarray, K: np.ndarray, image_size_wh: tuple[int, int]
) -> Camera:
    """The BCF perspective camera of a pinhole camera at ``T_section_cam`` (metres)."""
    T = np.asarray(T_section_cam, dtype=float)
    K = np.asarray(K, dtype=float)
    w, h = image_size_wh
    fx, fy = K[0, 0], K[1, 1]
    return Camera(
        kind="perspective",
        view_point=tuple(float(v) for v in T[:3, 3]),  # type: ignore[arg-type]
        direction=tuple(float(v) for v in T[:3, 2]),  # type: ignore[arg-type]
        up_vector=tuple(float(-v) for v in T[:3, 1]),  # type: ignore[arg-type]
        field_of_view_deg=math.degrees(2.0 * math.atan(h / (2.0 * fy))),
        aspect_ratio=(w * fy) / (h * fx),
    )


def pinhole_from_camera(
    camera: Camera, image_size_wh: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """``(T_section_cam, K)`` of a BCF perspective camera rendered at ``image_size_wh``.

    The up vector is made orthogonal to the direction; the aspect ratio (default w / h)
    sets ``fx``; the principal point is the image centre.

    Raises:
        ValueError: not a perspective camera, or a zero or parallel direction/up vector.
    """
    if camera.kind != "perspective" or camera.field_of_view_deg is None:
        raise ValueError("only a perspective camera has pinhole intrinsics")
    z = np.asarray(camera.direction, dtype=float)
    up = np.asarray(camera.up_vector, dtype=float)
    if np.linalg.norm(z) < 1e-12:
        raise ValueError("CameraDirection is the zero vector")
    z /= np.linalg.norm(z)
    y = -(up - np.dot(up, z) * z)
    if np.linalg.norm(y) < 1e-9:
        raise ValueError("CameraUpVector is zero or parallel to CameraDirection")
    y /= np.linalg.norm(y)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2] = np.cross(y, z), y, z
    T[:3, 3] = camera.view_point
    w, h = image_size_wh
    fy = h / (2.0 * math.tan(math.radians(camera.field_of_view_deg) / 2.0))
    aspect = camera.aspect_ratio or w / h
    fx = w * fy / (h * aspect)
    K = np.array([[fx, 0.0, (w - 1) / 2.0], [0.0, fy, (h - 1) / 2.0], [0.0, 0.0, 1.0]])
    return T, K
