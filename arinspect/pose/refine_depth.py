"""RGB-D refinement: point-to-plane ICP (Open3D) of the observed depth against the CAD.

The observed depth is back-projected (camera frame) and aligned with the visible structure
surfaces cast at the current pose. The correction is accepted only if it lowers the
inlier RMS without losing overlap: a refinement never makes a good pose worse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
from scipy.spatial import cKDTree

from arinspect.camera import CameraModel
from arinspect.geometry import invert_T, rotate_vectors, transform_points
from arinspect.pose.model_view import StructureModel
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class IcpConfig:
    """ICP settings.

    Attributes:
        scale: Resolution of the model view and of the sampled depth relative to the image.
        max_correspondence_m: Largest point-to-model distance paired in each coarse-to-fine
            stage, metres.
        iterations: ICP iterations per stage.
        max_points: Observed points used at most (evenly subsampled).
        tukey_m: Smallest scale of the robust Tukey kernel, metres (each stage uses at least
            half its correspondence distance, so coarse stages can still pull).
        tight_m: Smallest distance within which an observed point counts as explained by
            the model (the threshold grows to 3 robust sigmas of the residuals with noisy
            depth); the refinement is accepted only if it lowers the truncated cost.
    """

    scale: float = 0.2
    max_correspondence_m: tuple[float, ...] = (0.05, 0.02)
    iterations: int = 10
    max_points: int = 3000
    tukey_m: float = 0.01
    tight_m: float = 0.005


@dataclass(frozen=True)
class IcpResult:
    """Outcome of one ICP refinement.

    Attributes:
        T_cam_section: Refined pose (the input pose if not accepted).
        accepted: Whether the correction was applied.
        rms_before_m: RMS distance of the explained points at the input pose, metres.
        rms_after_m: The same at the refined pose, metres.
        fitness: Fraction of observed points explained (within the threshold) at the result.
        information: (6, 6) point-to-plane information (J^T J, per squared metre of
            residual) of the explained points at the result, over a left perturbation
            [omega, v] of the camera frame (`arinspect.pose.covariance`).
        T_converged: The pose ICP converged to, accepted or not (None when it did not run).
    """

    T_cam_section: FloatArray
    accepted: bool
    rms_before_m: float
    rms_after_m: float
    fitness: float
    information: FloatArray
    T_converged: FloatArray | None = None


def _cloud(points: FloatArray, normals: FloatArray | None = None) -> o3d.geometry.PointCloud:
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.ascontiguousarray(points)))
    if normals is not None:
        cloud.normals = o3d.utility.Vector3dVector(np.ascontiguousarray(normals))
    return cloud


@dataclass(frozen=True)
class _PlaneFit:
    cost: float
    rms_m: float
    fitness: float
    information: FloatArray


def _plane_residuals(
    source: FloatArray,
    target: o3d.geometry.PointCloud,
    tree: cKDTree,
    T_corr: FloatArray,
    max_m: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Point-to-plane distance of each observed point after T_corr (inf when unpaired).

    Returns:
        residual: (N,) metres; pts: (N, 3) moved points; normals: (N, 3) model normals (0 if
        unpaired).
    """
    pts = transform_points(T_corr, source)
    _, index = tree.query(pts, distance_upper_bound=max_m)
    found = index < len(target.points)
    residual = np.full(len(pts), np.inf)
    normals = np.zeros_like(pts)
    normals[found] = np.asarray(target.normals)[index[found]]
    model_pts = np.asarray(target.points)[index[found]]
    residual[found] = np.abs(np.einsum("ij,ij->i", pts[found] - model_pts, normals[found]))
    return residual, pts, normals


def _plane_fit(
    residual: FloatArray, pts: FloatArray, normals: FloatArray, threshold_m: float
) -> _PlaneFit:
    """How well the observed points lie on the model's surfaces.

    The cost is the mean squared distance truncated at `threshold_m`, so points the model
    does not explain (parts, clutter) cost the same whatever the pose.
    """
    explained = residual < threshold_m
    cost = float(np.mean(np.minimum(residual, threshold_m) ** 2))
    rms = float(np.sqrt(np.mean(residual[explained] ** 2))) if explained.any() else np.nan
    # d(residual)/d[omega, v] for p -> p + omega x p + v: [(p x n), n].
    J = np.concatenate([np.cross(pts, normals), normals], axis=1)[explained]
    return _PlaneFit(cost, rms, float(explained.mean()), J.T @ J)


def refine_with_depth(
    model: StructureModel,
    camera: CameraModel,
    depth_m: FloatArray,
    T_cam_section: FloatArray,
    config: IcpConfig = IcpConfig(),
) -> IcpResult:
    """Refine T_cam_section by point-to-plane ICP of `depth_m` against the structure.

    Args:
        model: The section's structure model.
        camera: Intrinsics of the depth image (registered to the colour image).
        depth_m: (H, W) depth in metres, 0 = no measurement.
        T_cam_section: Current pose estimate, metres.
        config: ICP settings.
    """
    small = camera.scaled(config.scale)
    view = model.view(small, T_cam_section)
    target_mask = view.depth_m > 0
    target = _cloud(
        transform_points(T_cam_section, view.points_section[target_mask]),
        rotate_vectors(T_cam_section, view.normals_section[target_mask]),
    )
    step = max(int(round(1 / config.scale)), 1)
    sampled = depth_m[step // 2 :: step, step // 2 :: step]
    rays = camera.pixel_rays_cam[step // 2 :: step, step // 2 :: step]
    valid = sampled > 0
    observed = rays[valid] * sampled[valid, None]
    if len(observed) > config.max_points:
        observed = observed[np.linspace(0, len(observed) - 1, config.max_points).astype(int)]
    source = _cloud(observed)
    if len(source.points) < 50 or len(target.points) < 50:
        return IcpResult(T_cam_section, False, np.nan, np.nan, 0.0, np.zeros((6, 6)))
    tree = cKDTree(np.asarray(target.points))
    max_m = config.max_correspondence_m[-1]
    criteria = o3d.pipelines.registration.ICPConvergenceCriteria(max_iteration=config.iterations)
    T_corr = np.eye(4)
    for distance in config.max_correspondence_m:
        kernel = o3d.pipelines.registration.TukeyLoss(k=max(config.tukey_m, distance / 2))
        estimation = o3d.pipelines.registration.TransformationEstimationPointToPlane(kernel)
        T_corr = o3d.pipelines.registration.registration_icp(
            source, target, distance, T_corr, estimation, criteria
        ).transformation
    observed = np.asarray(source.points)
    residual_after, pts_after, normals_after = _plane_residuals(
        observed, target, tree, T_corr, max_m
    )
    residual_before, pts_before, normals_before = _plane_residuals(
        observed, target, tree, np.eye(4), max_m
    )
    # "Explained" adapts to the sensor's noise: 3 robust sigmas of the residuals after ICP.
    paired = residual_after[np.isfinite(residual_after)]
    noise = 1.4826 * float(np.median(paired)) if len(paired) else max_m
    threshold = float(np.clip(3.0 * noise, config.tight_m, max_m))
    before = _plane_fit(residual_before, pts_before, normals_before, threshold)
    after = _plane_fit(residual_after, pts_after, normals_after, threshold)
    # ICP maps observed points onto the model seen at the estimate: T_est = T_corr @ T_true.
    refined = invert_T(T_corr) @ T_cam_section
    accepted = after.cost < before.cost
    result = after if accepted else before
    return IcpResult(
        refined if accepted else T_cam_section,
        bool(accepted),
        before.rms_m,
        after.rms_m,
        result.fitness,
        result.information,
        refined,
    )
