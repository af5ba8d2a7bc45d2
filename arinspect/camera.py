"""Pinhole camera with OpenCV distortion: projection, pixel rays, and the YAML file format.

Intrinsics on disk are OpenCV FileStorage YAML as ``cv2.FileStorage`` writes it, with the
keys ``image_width``, ``image_height``, ``camera_matrix`` (3x3) and
``distortion_coefficients`` (1xN or Nx1, N in 4, 5, 8, 12, 14), so files written by
OpenCV's own calibration tools load as they are. Other keys are kept but ignored.

Pixel convention: OpenCV's, (0, 0) at the centre of the top-left pixel; ``uv`` are
coordinates in the distorted image. Camera frame ``cam``: x right, y down, z forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from arinspect.errors import DataFormatError
from arinspect.geometry import check_shape, transform_points
from arinspect.typed import FloatArray

DISTORTION_LENGTHS = (0, 4, 5, 8, 12, 14)
"""Numbers of distortion coefficients that OpenCV accepts."""


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics of one camera.

    Attributes:
        K: (3, 3) camera matrix in pixels.
        dist: (N,) OpenCV distortion coefficients (k1, k2, p1, p2[, k3, ...]); N may be 0.
        image_size_wh: (width, height) in pixels.
    """

    K: FloatArray
    dist: FloatArray
    image_size_wh: tuple[int, int]
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        K = np.array(self.K, dtype=np.float64)
        dist = np.array(self.dist, dtype=np.float64).reshape(-1)
        check_shape(K, (3, 3), "K")
        if dist.size not in DISTORTION_LENGTHS:
            raise ValueError(
                f"distortion has {dist.size} coefficients, expected one of 4,5,8,12,14"
            )
        width, height = (int(v) for v in self.image_size_wh)
        if width <= 0 or height <= 0:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        K.flags.writeable = False
        dist.flags.writeable = False
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "image_size_wh", (width, height))

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return self.image_size_wh[0]

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return self.image_size_wh[1]

    @property
    def has_distortion(self) -> bool:
        """True if any distortion coefficient is non-zero."""
        return bool(np.any(self.dist != 0.0))

    def scaled(self, factor: float) -> CameraModel:
        """The same camera with the image resampled by `factor` (e.g. 0.25 for a quarter size).

        Pixel centres are kept consistent under OpenCV's convention: c' = (c + 0.5) * f - 0.5.
        """
        K = self.K.copy()
        K[0, 0] *= factor
        K[1, 1] *= factor
        K[0, 1] *= factor
        K[0, 2] = (K[0, 2] + 0.5) * factor - 0.5
        K[1, 2] = (K[1, 2] + 0.5) * factor - 0.5
        size = (round(self.width * factor), round(self.height * factor))
        return CameraModel(K, self.dist, size)

    @cached_property
    def pixel_rays_cam(self) -> FloatArray:
        """(H, W, 3) ray direction through every pixel centre, cam frame, with z = 1.

        Distortion is inverted exactly (iterated to 1e-12), so casting these rays renders
        the distorted image directly. The array is computed once per camera and read-only.
        """
        u, v = np.meshgrid(np.arange(self.width), np.arange(self.height))
        uv = np.stack([u, v], axis=-1).reshape(-1, 2).astype(np.float64)
        xy = self.normalized_from_pixels(uv)
        rays = np.concatenate([xy, np.ones((xy.shape[0], 1))], axis=1)
        rays = rays.reshape(self.height, self.width, 3)
        rays.flags.writeable = False
        return rays

    def normalized_from_pixels(self, uv: FloatArray) -> FloatArray:
        """Undistorted normalised coordinates (x/z, y/z) of (N, 2) distorted pixels."""
        uv = np.asarray(uv, dtype=np.float64)
        check_shape(uv, (None, 2), "uv")
        if not self.has_distortion:
            y = (uv[:, 1] - self.K[1, 2]) / self.K[1, 1]
            x = (uv[:, 0] - self.K[0, 2] - self.K[0, 1] * y) / self.K[0, 0]
            return np.stack([x, y], axis=1)
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
        xy = cv2.undistortPoints(
            uv.reshape(-1, 1, 2), self.K, self.dist, R=np.eye(3), P=np.eye(3), criteria=criteria
        )
        return xy.reshape(-1, 2)

    def project(self, T_cam_x: FloatArray, pts_x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Project (N, 3) points of frame x into the distorted image.

        Args:
            T_cam_x: (4, 4) transform from frame x to the camera frame.
            pts_x: (N, 3) points in frame x, metres.

        Returns:
            uv: (N, 2) pixel coordinates (NaN for points at or behind the camera).
            z_cam: (N,) depth along the optical axis in metres.
        """
        pts_cam = transform_points(T_cam_x, pts_x)
        z = pts_cam[:, 2]
        uv = np.full((pts_cam.shape[0], 2), np.nan)
        front = z > 1e-9
        if not self.has_distortion:
            x = pts_cam[front, 0] / z[front]
            y = pts_cam[front, 1] / z[front]
            uv[front, 0] = self.K[0, 0] * x + self.K[0, 1] * y + self.K[0, 2]
            uv[front, 1] = self.K[1, 1] * y + self.K[1, 2]
        elif front.any():
            projected, _ = cv2.projectPoints(
                pts_cam[front].reshape(-1, 1, 3), np.zeros(3), np.zeros(3), self.K, self.dist
            )
            uv[front] = projected.reshape(-1, 2)
        return uv, z


def default_camera() -> CameraModel:
    """The default render camera: 640x480, f = 600 px, no distortion.

    The principal point is the exact image centre under OpenCV's pixel-centre convention,
    (319.5, 239.5).
    """
    K = np.array([[600.0, 0.0, 319.5], [0.0, 600.0, 239.5], [0.0, 0.0, 1.0]])
    return CameraModel(K, np.zeros(5), (640, 480))


def load_camera(path: str | Path) -> CameraModel:
    """Read intrinsics from an OpenCV FileStorage YAML (or XML/JSON) file.

    Raises:
        DataFormatError: the file is missing, unparsable, or a required key is absent or bad.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "camera file not found")
    try:
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    except (cv2.error, SystemError) as exc:  # OpenCV 5 raises SystemError on some parse errors
        raise DataFormatError(path, "not an OpenCV FileStorage YAML/XML/JSON file") from exc
    try:
        if not fs.isOpened():
            raise DataFormatError(path, "cannot be opened as OpenCV FileStorage")
        width = _read_int(fs, path, "image_width")
        height = _read_int(fs, path, "image_height")
        K = _read_matrix(fs, path, "camera_matrix")
        dist_node = fs.getNode("distortion_coefficients")
        dist = (
            np.zeros(0) if dist_node.empty() else _read_matrix(fs, path, "distortion_coefficients")
        )
    finally:
        fs.release()
    if K.shape != (3, 3) or not np.isfinite(K).all() or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise DataFormatError(
            path,
            f"must be a 3x3 matrix with positive focal lengths, got {K.shape}",
            "camera_matrix",
        )
    if dist.size not in DISTORTION_LENGTHS or not np.isfinite(dist).all():
        raise DataFormatError(
            path, f"has {dist.size} values, expected 4, 5, 8, 12 or 14", "distortion_coefficients"
        )
    if width <= 0 or height <= 0:
        raise DataFormatError(
            path, f"image size must be positive, got {width}x{height}", "image_width"
        )
    return CameraModel(K, dist.reshape(-1), (width, height))


def save_camera(
    camera: CameraModel, path: str | Path, extra: dict[str, object] | None = None
) -> Path:
    """Write intrinsics as OpenCV FileStorage YAML; `extra` adds scalar or array keys."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    try:
        fs.write("image_width", camera.width)
        fs.write("image_height", camera.height)
        fs.write("camera_matrix", camera.K)
        fs.write("distortion_coefficients", camera.dist.reshape(1, -1))
        for key, value in (extra or {}).items():
            fs.write(key, np.asarray(value) if isinstance(value, list | tuple) else value)
    finally:
        fs.release()
    return path


def _read_int(fs: cv2.FileStorage, path: Path, key: str) -> int:
    node = fs.getNode(key)
    if node.empty() or not (node.isInt() or node.isReal()):
        raise DataFormatError(path, "missing or not a number", key)
    return int(node.real())


def _read_matrix(fs: cv2.FileStorage, path: Path, key: str) -> FloatArray:
    node = fs.getNode(key)
    matrix = None if node.empty() else node.mat()
    if matrix is None:
        raise DataFormatError(path, "missing or not an opencv-matrix", key)
    return np.asarray(matrix, dtype=np.float64)
