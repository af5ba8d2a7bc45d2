"""RGB refinement: align the CAD's edges with the image gradients (model-based tracking).

The structure's creases, occluding contours and marker outlines that show at the current
pose are sampled every few pixels (`pose/cad_edges.py`). Each sample searches along its
image normal for the strongest gradient, coarse to fine over an image pyramid (a search of
`search_px` at half resolution reaches twice as far); a robust (Tukey) Gauss-Newton on
SE(3) moves the pose to bring the projected edges onto what was found. When the caller
knows the pose's uncertainty (a motion prediction, a marker pose) it enters as a prior, so
the directions the edges leave loose stay where the prior put them: the result is the
maximum a posteriori pose and its covariance. The result is kept only if the robust edge
cost fell by a clear share.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from arinspect.camera import CameraModel
from arinspect.geometry import make_T, rotation_from_rotvec, transform_points
from arinspect.pose.cad_edges import EdgeSamples, visible_edge_samples
from arinspect.pose.covariance import left_perturbation, projection_jacobian
from arinspect.pose.model_view import StructureModel
from arinspect.typed import FloatArray, UInt8Image


@dataclass(frozen=True)
class EdgeConfig:
    """Edge alignment settings.

    Attributes:
        spacing_px: Distance between edge samples along a projected edge, pixels.
        max_points: Edge samples used at most (evenly thinned).
        levels: Pyramid levels searched, coarsest first (3: quarter, half, then full
            resolution).
        search_px: Half-length of the search along each edge normal, pixels of each level.
        iterations: Gauss-Newton iterations per level (each re-searches the edges).
        tukey_px: Scale of the robust Tukey weights, full-resolution pixels.
        min_gradient: Smallest gradient magnitude (grey levels per pixel) that counts as an edge.
        min_cost_drop: Share by which the robust edge cost must fall for the refinement to
            be kept (a flat valley lets the pose slide along what the edges do not see).
        min_sigma_px: Floor of the edge localisation noise, pixels.
        sigma_scale: The edge noise is this times the inliers' residual RMS: samples along
            one edge share their errors (blur, steel off its drawing), so each counts for
            less than an independent measurement. Set from the inspection recordings
            (docs/pose.md) so that the 95 % bound holds.
    """

    spacing_px: float = 5.0
    max_points: int = 800
    levels: int = 3
    search_px: int = 6
    iterations: int = 3
    tukey_px: float = 3.0
    min_gradient: float = 8.0
    min_cost_drop: float = 0.01
    min_sigma_px: float = 0.5
    sigma_scale: float = 2.0


@dataclass(frozen=True)
class EdgeResult:
    """Outcome of one edge refinement.

    Attributes:
        T_cam_section: Refined pose (the input pose if not accepted), metres.
        accepted: Whether the refinement moved the pose (the edge cost fell by
            `EdgeConfig.min_cost_drop`); when not, the input pose stands, with the
            covariance the edges give it there.
        cost_before: Mean robust edge cost at the input pose (pixels^2).
        cost_after: The same at the refined pose.
        inlier_ratio: Share of the edge samples that found a matching image edge.
        rms_px: Residual RMS of the inlier samples at the refined pose, pixels.
        covariance: (6, 6) covariance of the refined pose (`arinspect.pose.covariance`
            convention), the prior included when one was given; None when the edges and
            prior together leave a direction unconstrained.
    """

    T_cam_section: FloatArray
    accepted: bool
    cost_before: float
    cost_after: float
    inlier_ratio: float
    rms_px: float
    covariance: FloatArray | None


def gradient_pyramid(image: UInt8Image, levels: int) -> list[tuple[FloatArray, FloatArray]]:
    """(gx, gy) in grey levels per pixel of each level, full resolution first."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    pyramid = []
    level = grey.astype(np.float32)
    for k in range(levels):
        if k:
            level = cv2.pyrDown(level)
        smooth = cv2.GaussianBlur(level, (3, 3), 0)
        pyramid.append(
            (
                cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8,
                cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8,
            )
        )
    return pyramid


def search_along_normals(
    gradient: tuple[FloatArray, FloatArray],
    uv: FloatArray,
    normals: FloatArray,
    search_px: int,
    min_gradient: float,
) -> FloatArray:
    """Signed offset (pixels of this level) along each normal to the strongest edge; NaN if none."""
    gx, gy = gradient
    h, w = gx.shape
    steps = np.arange(-search_px, search_px + 1, dtype=np.float64)
    samples = uv[:, None, :] + steps[None, :, None] * normals[:, None, :]
    x = np.clip(np.rint(samples[..., 0]).astype(int), 0, w - 1)
    y = np.clip(np.rint(samples[..., 1]).astype(int), 0, h - 1)
    inside = (
        (samples[..., 0] >= 0)
        & (samples[..., 0] <= w - 1)
        & (samples[..., 1] >= 0)
        & (samples[..., 1] <= h - 1)
    )
    strength = np.abs(gx[y, x] * normals[:, None, 0] + gy[y, x] * normals[:, None, 1]) * inside
    rows = np.arange(len(uv))
    best = np.argmax(strength, axis=1)
    peak = strength[rows, best]
    # Sub-pixel: parabola through the peak and its neighbours.
    left = strength[rows, np.clip(best - 1, 0, len(steps) - 1)]
    right = strength[rows, np.clip(best + 1, 0, len(steps) - 1)]
    denom = left - 2 * peak + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / denom, 0.0)
    offset = steps[best] + np.clip(shift, -0.5, 0.5)
    return np.where(peak >= min_gradient, offset, np.nan)


def robust_offsets(
    offset: FloatArray, found: np.ndarray, c: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Tukey biweight weights and costs of edge offsets at scale c (pixels).

    Samples that found no edge weigh nothing and cost the most (c^2 / 6, where the cost
    saturates); their offset is returned as 0.

    Returns:
        The offsets, their weights and their costs.
    """
    r = np.abs(np.where(found, offset, 10 * c)) / c
    inside = r < 1
    weight = np.where(inside, (1 - r**2) ** 2, 0.0) * found
    cost = np.where(inside, c**2 / 6 * (1 - (1 - r**2) ** 3), c**2 / 6)
    return np.where(found, offset, 0.0), weight, cost


def weighted_normal_equations(
    J: FloatArray,
    offset: FloatArray,
    weight: FloatArray,
    sigma_scale: float,
    min_sigma_px: float,
) -> tuple[FloatArray, FloatArray, float]:
    """Gauss-Newton information and gradient of weighted edge offsets, and their RMS.

    Each offset's noise is `sigma_scale` times the inliers' RMS (at least `min_sigma_px`):
    samples along one edge share their errors.

    Args:
        J: (N, k) d(offset along the normal, pixels)/d(parameters).
        offset: (N,) offsets, pixels.
        weight: (N,) robust weights (0 for outliers).
        sigma_scale: Noise per offset as a multiple of the inliers' RMS.
        min_sigma_px: Floor of the noise, pixels.
    """
    inliers = weight > 0
    rms = float(np.sqrt(np.mean(offset[inliers] ** 2))) if inliers.any() else np.inf
    sigma2 = (sigma_scale * max(rms, min_sigma_px)) ** 2
    return J.T @ (J * weight[:, None]) / sigma2, J.T @ (weight * offset) / sigma2, rms


@dataclass
class _Alignment:
    """Offsets (full-resolution pixels) and robust weights of the samples at one pose."""

    offset: FloatArray
    weight: FloatArray
    cost: float
    pts_cam: FloatArray


def _align(
    camera: CameraModel,
    gradients: list[tuple[FloatArray, FloatArray]],
    samples: EdgeSamples,
    T: FloatArray,
    level: int,
    config: EdgeConfig,
) -> _Alignment:
    """Search every sample's edge at pyramid `level` from pose T."""
    scale = 0.5**level
    pts_cam = transform_points(T, samples.pts_section)
    uv, _ = camera.project(T, samples.pts_section)
    uv_level = (uv + 0.5) * scale - 0.5
    offset = (
        search_along_normals(
            gradients[level], uv_level, samples.normals_px, config.search_px, config.min_gradient
        )
        / scale
    )
    found = np.isfinite(offset) & (pts_cam[:, 2] > 0.1)
    offset, weight, cost = robust_offsets(offset, found, config.tukey_px / scale)
    return _Alignment(offset, weight, float(cost.mean()), pts_cam)


def _information(
    camera: CameraModel, alignment: _Alignment, normals_px: FloatArray, config: EdgeConfig
) -> tuple[FloatArray, FloatArray, float]:
    """Gauss-Newton information, gradient and residual RMS (px) of the edge samples."""
    J = np.einsum("nk,nkj->nj", normals_px, projection_jacobian(camera, alignment.pts_cam))
    return weighted_normal_equations(
        J, alignment.offset, alignment.weight, config.sigma_scale, config.min_sigma_px
    )


def _full_rank(system: FloatArray) -> bool:
    """Whether a (6, 6) information matrix constrains every direction of the pose."""
    return bool(np.linalg.matrix_rank(system, tol=1e-9 * max(np.abs(system).max(), 1e-12)) == 6)


def refine_with_edges(
    model: StructureModel,
    camera: CameraModel,
    image: UInt8Image,
    T_cam_section: FloatArray,
    config: EdgeConfig = EdgeConfig(),
    prior_covariance: FloatArray | None = None,
) -> EdgeResult:
    """Refine T_cam_section by aligning the structure's edges with the image's.

    Args:
        model: The section's structure: its edges, and the scene that hides some of them.
        camera: Intrinsics of `image`.
        image: (H, W, 3) BGR or (H, W) grey uint8 frame.
        T_cam_section: Current pose estimate, metres.
        config: Settings.
        prior_covariance: (6, 6) covariance of `T_cam_section`, if known: the refined pose
            then stays within what the prior allows where the edges say little.
    """
    samples = visible_edge_samples(
        model.edges,
        model.scene,
        camera,
        T_cam_section,
        config.spacing_px,
        config.max_points,
        margin_px=2.0,
    )
    declined = EdgeResult(T_cam_section, False, np.nan, np.nan, 0.0, np.nan, None)
    if len(samples.pts_section) < 20:
        return declined
    gradients = gradient_pyramid(image, config.levels)
    prior_information = (
        np.zeros((6, 6)) if prior_covariance is None else np.linalg.pinv(prior_covariance)
    )
    start = _align(camera, gradients, samples, T_cam_section, 0, config)
    cost_before = start.cost
    T = T_cam_section
    for level in reversed(range(config.levels)):
        for _ in range(config.iterations):
            alignment = _align(camera, gradients, samples, T, level, config)
            information, gradient, _ = _information(camera, alignment, samples.normals_px, config)
            system = information + prior_information
            if not _full_rank(system):
                return declined
            moved = left_perturbation(T, T_cam_section)
            delta = np.linalg.solve(system, gradient - prior_information @ moved)
            T = make_T(rotation_from_rotvec(delta[:3]), delta[3:]) @ T
            if np.linalg.norm(delta[:3]) < 1e-5 and np.linalg.norm(delta[3:]) < 1e-5:
                break
    final = _align(camera, gradients, samples, T, 0, config)
    information, _, rms = _information(camera, final, samples.normals_px, config)
    inlier_ratio = float(np.mean(final.weight > 0))
    if not final.cost < (1.0 - config.min_cost_drop) * cost_before:
        # Nothing to gain: the edges agree with the input pose as well as with any other,
        # and what they measure there still narrows its uncertainty.
        information, _, rms = _information(camera, start, samples.normals_px, config)
        inlier_ratio = float(np.mean(start.weight > 0))
        T, accepted = T_cam_section, False
    else:
        accepted = True
    system = information + prior_information
    covariance = None
    if _full_rank(system):
        covariance = np.linalg.inv(system)
        covariance = 0.5 * (covariance + covariance.T)
    return EdgeResult(T, accepted, cost_before, final.cost, inlier_ratio, rms, covariance)
