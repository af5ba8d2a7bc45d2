"""A misplaced part's offset refined by aligning its own edges with the images.

The detector's box centres measure a move short: a moved part's box lags behind it (on the
inspection benchmark its centre moved a median 0.84 of the move, while the part's label box
moved all of it), because the detector draws its box partly from where such a part usually
sits in the steel. The part's own edges (`inspection.edge_support`) have no such pull: from
the fused offset, each good look's edge samples search along their image normals for the
strongest gradient, and a robust Gauss-Newton over the 3-D offset (section frame) brings
them onto it in every look at once, with the box centres' offset as the prior (so a repeated
edge nearby cannot drag it far) and the mounting surface or pipe axis as a constraint.

That search reaches a few pixels; a box that lags far behind its part (on the benchmark's
later sets a clamp moved 81 mm was boxed 35 mm off, its edges 0.86 shown where it was
against 0.44 where the search from the boxes ended) is out of its reach. So the search
can start where the part's edges fit best among the box centres' offset and other offsets
given with it (`inspection.fusion.stretched_offsets`: that offset stretched along the mount,
the lag's direction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arinspect.cad.section import Part
from arinspect.geometry import transform_points
from arinspect.inspection.edge_support import PartEdgeSupport
from arinspect.pose.cad_edges import visible_edge_samples
from arinspect.pose.covariance import projection_jacobian
from arinspect.pose.refine_edges import (
    robust_offsets,
    search_along_normals,
    weighted_normal_equations,
)
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class OffsetRefineConfig:
    """Settings of the offset refinement.

    Attributes:
        search_px: Half-length of the search along each edge normal, pixels.
        tukey_px: Scale of the robust Tukey weights, pixels.
        iterations: Gauss-Newton iterations (each re-samples and re-searches the edges).
        min_sigma_px: Floor of the edge noise, pixels.
        sigma_scale: Edge noise as a multiple of the inliers' residual RMS (samples along
            one edge share their errors).
        min_cost_drop: Share by which the robust edge cost must fall for the refined offset
            to replace the detector's.
        prior_scale: The detector's offset enters as a prior with its standard deviation
            times this (its lag is a bias its noise does not cover).
        min_samples: Fewest edge samples over all looks.
    """

    search_px: int = 5
    tukey_px: float = 3.0
    iterations: int = 4
    min_sigma_px: float = 0.5
    sigma_scale: float = 4.0
    min_cost_drop: float = 0.01
    prior_scale: float = 3.0
    min_samples: int = 40


@dataclass(frozen=True)
class RefinedOffset:
    """Outcome of one offset refinement.

    Attributes:
        offset_m: (3,) refined offset, section frame, metres.
        covariance: (3, 3) its covariance, metres^2 (the prior included).
        cost_before: Mean robust edge cost at the detector's offset, pixels^2.
        cost_after: The same at the refined offset.
    """

    offset_m: FloatArray
    covariance: FloatArray
    cost_before: float
    cost_after: float


@dataclass(frozen=True)
class LookImage:
    """One good look's frame: its pose and image gradient."""

    T_cam_section: FloatArray
    gradient: tuple[FloatArray, FloatArray]


def refine_offset(
    checker: PartEdgeSupport,
    part: Part,
    looks: Sequence[LookImage],
    offset_m: FloatArray,
    prior_information: FloatArray,
    config: OffsetRefineConfig = OffsetRefineConfig(),
    starts_m: Sequence[FloatArray] = (),
) -> RefinedOffset | None:
    """Refine `offset_m` (section frame, metres) by the part's own edges in `looks`.

    Args:
        checker: The part edges and the scene that hides some of them.
        part: The part.
        looks: Its good looks.
        offset_m: (3,) the detector's offset.
        prior_information: (3, 3) information of that offset and of the mounting
            constraint, 1 / metres^2.
        config: Settings.
        starts_m: (3,) offsets, metres, to start from instead of `offset_m` where the
            edges fit better there (the prior stays at `offset_m`).

    Returns:
        The refined offset, or None when the edges did not clearly fit better than at the
        detector's offset.
    """
    start = np.asarray(offset_m, dtype=np.float64)
    _, residual, _, cost_before = _edge_residuals(checker, part, looks, start, config)
    if len(residual) < config.min_samples:
        return None
    offset = _best_start(checker, part, looks, start, starts_m, cost_before, config)
    for _ in range(config.iterations):
        J, residual, weight, cost = _edge_residuals(checker, part, looks, offset, config)
        if len(residual) < config.min_samples:
            return None
        information, gradient, _ = weighted_normal_equations(
            J, residual, weight, config.sigma_scale, config.min_sigma_px
        )
        system = information + prior_information
        delta = np.linalg.solve(system, gradient - prior_information @ (offset - start))
        offset = offset + delta
        if np.linalg.norm(delta) < 1e-4:
            break
    J, residual, weight, cost_after = _edge_residuals(checker, part, looks, offset, config)
    if (
        len(residual) < config.min_samples
        or not cost_after < (1 - config.min_cost_drop) * cost_before
    ):
        return None
    information, _, _ = weighted_normal_equations(
        J, residual, weight, config.sigma_scale, config.min_sigma_px
    )
    covariance = np.linalg.inv(information + prior_information)
    return RefinedOffset(offset, 0.5 * (covariance + covariance.T), cost_before, cost_after)


def _best_start(
    checker: PartEdgeSupport,
    part: Part,
    looks: Sequence[LookImage],
    offset: FloatArray,
    starts: Sequence[FloatArray],
    cost: float,
    config: OffsetRefineConfig,
) -> FloatArray:
    """`offset` (its robust edge `cost` given), or the one of `starts` the edges fit best."""
    best, lowest = offset, cost
    for start in starts:
        candidate = np.asarray(start, dtype=np.float64)
        _, residual, _, candidate_cost = _edge_residuals(checker, part, looks, candidate, config)
        if len(residual) >= config.min_samples and candidate_cost < lowest:
            best, lowest = candidate, candidate_cost
    return best


def _edge_residuals(
    checker: PartEdgeSupport,
    part: Part,
    looks: Sequence[LookImage],
    offset: FloatArray,
    config: OffsetRefineConfig,
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """Jacobians (N, 3), signed residuals (px), Tukey weights and mean robust cost."""
    moved = checker.own_edges(part).shifted(offset)
    camera = checker.camera
    rows, residuals, weights, costs = [], [], [], []
    for look in looks:
        samples = visible_edge_samples(
            moved,
            checker.scene,
            camera,
            look.T_cam_section,
            checker.config.spacing_px,
            checker.config.max_samples,
            margin_px=float(config.search_px + 1),
        )
        if len(samples.pts_section) == 0:
            continue
        uv, _ = camera.project(look.T_cam_section, samples.pts_section)
        found = search_along_normals(
            look.gradient, uv, samples.normals_px, config.search_px, checker.config.min_gradient
        )
        pts_cam = transform_points(look.T_cam_section, samples.pts_section)
        # pixel motion per metre of section-frame translation: d(uv)/d(camera-frame
        # translation) turned into the section frame
        d_uv = projection_jacobian(camera, pts_cam)[:, :, 3:] @ look.T_cam_section[:3, :3]
        rows.append(np.einsum("nk,nkj->nj", samples.normals_px, d_uv))
        along, weight, cost = robust_offsets(found, np.isfinite(found), config.tukey_px)
        residuals.append(along)
        weights.append(weight)
        costs.append(cost)
    if not rows:
        return np.zeros((0, 3)), np.zeros(0), np.zeros(0), np.inf
    return (
        np.concatenate(rows),
        np.concatenate(residuals),
        np.concatenate(weights),
        float(np.mean(np.concatenate(costs))),
    )
