"""RGB refinement: align the CAD's edges with the image gradients (model-based tracking).

At the current pose the structure is cast at a reduced resolution; silhouette edges (depth
jumps, label changes) and crease edges (normal changes) give 3-D edge points with their
2-D edge normals. Each point searches along its normal in the image for the strongest
gradient; a robust (Tukey) Gauss-Newton on SE(3) moves the pose to bring the projected
edges onto what was found. The result is kept only if the robust edge cost went down.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from arinspect.camera import CameraModel
from arinspect.geometry import make_T, rotation_from_rotvec, transform_points
from arinspect.pose.covariance import projection_jacobian
from arinspect.pose.model_view import ModelView, StructureModel
from arinspect.typed import FloatArray, UInt8Image


@dataclass(frozen=True)
class EdgeConfig:
    """Edge alignment settings.

    Attributes:
        scale: Resolution of the model view relative to the image (below 1 the edge
            points are too coarse: at 0.5 a correct pose drifted by 3-10 mm).
        max_points: Edge points used (evenly subsampled).
        search_px: Half-length of the search along each edge normal, pixels.
        tukey_px: Scale of the robust Tukey weights, pixels.
        iterations: Gauss-Newton iterations (each re-searches the edges).
        min_gradient: Smallest gradient magnitude (grey levels per pixel) that counts as an edge.
    """

    scale: float = 1.0
    max_points: int = 400
    search_px: int = 8
    tukey_px: float = 3.0
    iterations: int = 4
    min_gradient: float = 8.0


@dataclass(frozen=True)
class EdgeResult:
    """Outcome of one edge refinement.

    Attributes:
        T_cam_section: Refined pose (the input pose if not accepted).
        accepted: Whether the refinement was applied.
        cost_before: Mean robust edge cost at the input pose (pixels^2).
        cost_after: The same at the refined pose.
        inlier_ratio: Fraction of edge points that found a matching image edge.
        hessian: (6, 6) Gauss-Newton matrix J^T W J over [rotation, translation] (camera frame).
    """

    T_cam_section: FloatArray
    accepted: bool
    cost_before: float
    cost_after: float
    inlier_ratio: float
    hessian: FloatArray


@dataclass(frozen=True)
class _EdgePoints:
    pts_section: FloatArray  # (N, 3) on the near side of the edge
    normals_px: FloatArray  # (N, 2) unit image direction from the point across the edge
    expected_px: float  # where the edge is along the normal: half a model-view pixel


DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _edge_points(view: ModelView, max_points: int, scale: float) -> _EdgePoints:
    """Points next to silhouette and crease edges of a model view, with the side of the edge.

    A pixel is an edge pixel when its neighbour in one of the four directions shows another
    element, a depth jump (> 3 %) or a surface bending by more than 25 degrees, and it is the
    nearer of the two. The edge itself lies half a model-view pixel from the pixel's centre,
    in that direction: that offset is what the image edge is expected at.
    """
    depth, label, normals = view.depth_m, view.label, view.normals_section
    h, w = depth.shape
    chosen = np.zeros((h, w), np.int8) - 1
    for k, (dx, dy) in enumerate(DIRECTIONS):
        ys, xs = np.mgrid[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
        d0, d1 = depth[ys, xs], depth[ys + dy, xs + dx]
        jump = (
            (label[ys, xs] != label[ys + dy, xs + dx])
            | (np.abs(d0 - d1) > 0.03 * np.maximum(d0, d1))
            | (np.sum(normals[ys, xs] * normals[ys + dy, xs + dx], axis=-1) < 0.9)
        )
        near = (d0 > 0) & ((d0 <= d1 * 1.001) | (d1 == 0))
        take = jump & near & (chosen[ys, xs] < 0)
        chosen[ys[take], xs[take]] = k
    ys, xs = np.nonzero(chosen >= 0)
    if len(ys) > max_points:
        keep = np.linspace(0, len(ys) - 1, max_points).astype(int)
        ys, xs = ys[keep], xs[keep]
    normals_px = np.asarray(DIRECTIONS, dtype=np.float64)[chosen[ys, xs]]
    return _EdgePoints(view.points_section[ys, xs], normals_px, 0.5 / scale)


def _search(
    gradient: tuple[FloatArray, FloatArray], uv: FloatArray, normals: FloatArray, config: EdgeConfig
) -> FloatArray:
    """Signed offset (px) along each normal to the strongest image edge; NaN if none."""
    gx, gy = gradient
    h, w = gx.shape
    steps = np.arange(-config.search_px, config.search_px + 1, dtype=np.float64)
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
    best = np.argmax(strength, axis=1)
    peak = strength[np.arange(len(uv)), best]
    # Sub-pixel: parabola through the peak and its neighbours.
    left = strength[np.arange(len(uv)), np.clip(best - 1, 0, len(steps) - 1)]
    right = strength[np.arange(len(uv)), np.clip(best + 1, 0, len(steps) - 1)]
    denom = left - 2 * peak + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / denom, 0.0)
    offset = steps[best] + np.clip(shift, -0.5, 0.5)
    return np.where(peak >= config.min_gradient, offset, np.nan)


def _jacobian(camera: CameraModel, pts_cam: FloatArray, normals: FloatArray) -> FloatArray:
    """(N, 6) d(offset along the edge normal)/d[omega, v] (left perturbation, camera frame)."""
    return np.einsum("nk,nkj->nj", normals, projection_jacobian(camera, pts_cam))


def _tukey(residual: FloatArray, c: float) -> tuple[FloatArray, FloatArray]:
    """Tukey biweight weights and costs (cost saturates at c^2 / 6)."""
    r = np.abs(residual) / c
    inside = r < 1
    weight = np.where(inside, (1 - r**2) ** 2, 0.0)
    cost = np.where(inside, c**2 / 6 * (1 - (1 - r**2) ** 3), c**2 / 6)
    return weight, cost


def refine_with_edges(
    model: StructureModel,
    camera: CameraModel,
    image: UInt8Image,
    T_cam_section: FloatArray,
    config: EdgeConfig = EdgeConfig(),
) -> EdgeResult:
    """Refine T_cam_section by aligning the structure's edges with the image's.

    Args:
        model: The section's structure model.
        camera: Intrinsics of `image`.
        image: (H, W, 3) BGR or (H, W) grey uint8 frame.
        T_cam_section: Current pose estimate, metres.
        config: Settings.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    smooth = cv2.GaussianBlur(grey, (3, 3), 0).astype(np.float32)
    gradient = (
        cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8,
        cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8,
    )
    edges = _edge_points(
        model.view(camera.scaled(config.scale), T_cam_section), config.max_points, config.scale
    )
    if len(edges.pts_section) < 20:
        return EdgeResult(T_cam_section, False, np.nan, np.nan, 0.0, np.zeros((6, 6)))

    def evaluate(T: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        pts_cam = transform_points(T, edges.pts_section)
        uv, _ = camera.project(T, edges.pts_section)
        offset = _search(gradient, uv, edges.normals_px, config) - edges.expected_px
        found = np.isfinite(offset) & (pts_cam[:, 2] > 0.1)
        weight, cost = _tukey(np.where(found, offset, config.tukey_px * 10), config.tukey_px)
        return float(cost.mean()), np.where(found, offset, 0.0), weight * found, pts_cam

    cost_before, offset, weight, pts_cam = evaluate(T_cam_section)
    T = T_cam_section
    hessian = np.zeros((6, 6))
    for _ in range(config.iterations):
        J = _jacobian(camera, pts_cam, edges.normals_px)
        hessian = J.T @ (J * weight[:, None])
        if np.linalg.matrix_rank(hessian, tol=1e-6 * max(np.abs(hessian).max(), 1e-12)) < 6:
            break
        delta = np.linalg.solve(hessian + 1e-6 * np.eye(6), J.T @ (weight * offset))
        T = make_T(rotation_from_rotvec(delta[:3]), delta[3:]) @ T
        _, offset, weight, pts_cam = evaluate(T)
    cost_after, _, weight, _ = evaluate(T)
    accepted = cost_after < cost_before
    return EdgeResult(
        T if accepted else T_cam_section,
        bool(accepted),
        cost_before,
        cost_after,
        float(np.mean(weight > 0)),
        hessian,
    )
