"""Camera nuisances applied to a rendered image: exposure, motion blur, sensor noise.

Lens distortion is not an image effect here: the renderer casts its rays through the
distorted camera model, so colour, depth and label maps stay exactly consistent.
"""

from __future__ import annotations

import cv2
import numpy as np

from arinspect.typed import FloatArray, UInt8Image

GAMMA = 2.2


def tone_map(radiance: FloatArray, exposure_ev: float) -> FloatArray:
    """Linear radiance (H, W, 3) to display values in [0, 1]: exposure, soft shoulder, gamma."""
    exposed = radiance * (2.0**exposure_ev)
    shoulder = exposed / (1.0 + 0.25 * exposed)  # highlights roll off instead of clipping hard
    return np.clip(shoulder * 1.25, 0.0, 1.0) ** (1.0 / GAMMA)


def motion_blur(image: FloatArray, length_px: float, angle_deg: float) -> FloatArray:
    """Blur (H, W, 3) `image` along a line of `length_px` pixels at `angle_deg` (0 = +u)."""
    if length_px < 1.0:
        return image
    size = int(np.ceil(length_px)) | 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    angle = np.deg2rad(angle_deg)
    dx, dy = np.cos(angle) * length_px / 2, np.sin(angle) * length_px / 2
    cv2.line(
        kernel,
        (round(c * 16 - dx * 16), round(c * 16 - dy * 16)),
        (round(c * 16 + dx * 16), round(c * 16 + dy * 16)),
        1.0,
        1,
        cv2.LINE_AA,
        4,
    )
    kernel /= kernel.sum()
    return cv2.filter2D(image.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT).astype(
        np.float64
    )


def sensor_noise(image: FloatArray, sigma_levels: float, rng: np.random.Generator) -> FloatArray:
    """Add read noise (`sigma_levels` grey levels of 255) and shot noise growing with signal."""
    if sigma_levels <= 0.0:
        return image
    sigma = (sigma_levels / 255.0) * np.sqrt(0.5 + image)
    return image + rng.standard_normal(image.shape) * sigma


def depth_sensor(
    depth_m: np.ndarray,
    cos_incidence: np.ndarray,
    noise_m_at_1m: float,
    grazing_limit_deg: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Make exact z-depth (metres, 0 = none) look like a depth camera's.

    Args:
        depth_m: (H, W) exact depth, metres.
        cos_incidence: (H, W) |cos| of the angle between each pixel's ray and the surface normal.
        noise_m_at_1m: Standard deviation of the depth noise at 1 m, metres; it grows with
            the square of the distance, as it does for stereo and structured-light sensors.
        grazing_limit_deg: Pixels seeing their surface more obliquely than this get no
            depth (0), as real sensors lose them; 90 keeps all.
        rng: Random generator.
    """
    result = depth_m.astype(np.float32, copy=True)
    if noise_m_at_1m > 0.0:
        noise = rng.standard_normal(result.shape).astype(np.float32) * np.float32(noise_m_at_1m)
        result += noise * result**2
    if grazing_limit_deg < 90.0:
        result[cos_incidence < np.cos(np.deg2rad(grazing_limit_deg))] = 0.0
    result[depth_m <= 0.0] = 0.0
    return np.maximum(result, 0.0)


def to_uint8(image: FloatArray) -> UInt8Image:
    """Display values in [0, 1] to a uint8 image (rounded, clipped)."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
