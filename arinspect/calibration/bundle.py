"""Bundle adjustment of views and markers over marker corners (``scipy.optimize.least_squares``).

Unknowns: each view's ``T_cam_section`` and each free marker's ``T_section_marker``;
other markers (the control markers) stay fixed and so fix the section frame. Residuals:
predicted minus observed corner pixels, through the camera's distortion. Parameters are
perturbations of the initial poses: a camera's rotation on the left (camera frame), a
marker's rotation on the right (marker frame) and its translation in the section frame.
The Jacobian is taken by finite differences over its sparsity pattern (each corner
depends on one view and at most one marker).

Weights: a corner's position is the intersection of two fitted edges, so its noise falls
with the marker's side in the image; each observation's residuals are weighted by
sqrt(side in px) (corner noise taken as proportional to 1 / sqrt(side)), the weights
normalised to an RMS of 1 over all observations so that the loss scale and sigma stay
in pixels. The returned residuals are unweighted, in pixels.

Uncertainty: covariance = (J^T J)^-1 sigma^2 from the Jacobian J at the solution (with
the robust loss's weights), sigma^2 the residual variance per pixel coordinate from the
robust cost, at least `MIN_CORNER_SIGMA_PX` squared; a free marker's position covariance
is therefore in the section frame, m^2.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import least_squares
from scipy.sparse import coo_matrix
from scipy.spatial.transform import Rotation

from arinspect.cad.section import Marker
from arinspect.camera import CameraModel
from arinspect.geometry import make_T, transform_points
from arinspect.markers import marker_corners_marker
from arinspect.typed import FloatArray

log = logging.getLogger(__name__)

WEIGHT_EXPONENT = 0.5
"""Observation weight = (marker side in px) ** this: corner noise ~ 1 / sqrt(side)."""

MarkerKey = tuple[str, int]
"""(family, id) of a marker."""


MIN_CORNER_SIGMA_PX = 0.07
"""Floor of the corner noise behind the uncertainties, pixels. Once the corner noise is
low, a converged bundle's residuals understate the corner errors (small biases of the
corner fit stay out of them): on the calibration benchmark's renders at 1280x960 the true
marker errors were a median 1.6 times the residual-based sigma (0.71 times with a 0.1 px
floor); at 640x480 the residuals are above the floor."""


@dataclass(frozen=True)
class Observation:
    """The four corners (pixels, ArUco order) of one marker seen in one view."""

    view: int
    key: MarkerKey
    corners_px: FloatArray


@dataclass(frozen=True)
class BundleSolution:
    """The adjusted poses and their quality.

    Attributes:
        T_cam_section: (4, 4) adjusted pose per view id, metres.
        T_section_marker: (4, 4) adjusted pose per free (non-control) marker, metres.
        residuals_px: (4 * observations,) reprojection error of every corner, pixels,
            in observation order.
        marker_covariance: (6, 6) covariance per free marker over [omega (rad, marker
            frame), translation (m, section frame)].
        sigma_px: Estimated corner noise per pixel coordinate.
    """

    T_cam_section: dict[int, FloatArray]
    T_section_marker: dict[MarkerKey, FloatArray]
    residuals_px: FloatArray
    marker_covariance: dict[MarkerKey, FloatArray]
    sigma_px: float


class _Problem:
    """Parameter layout and residuals of the bundle adjustment."""

    def __init__(
        self,
        markers: dict[MarkerKey, Marker],
        observations: list[Observation],
        view_ids: list[int],
        T_cam_section: dict[int, FloatArray],
        T_section_marker: dict[MarkerKey, FloatArray],
        camera: CameraModel,
        weighted: bool = True,
    ) -> None:
        self.camera = camera
        self.view_ids = view_ids
        self.free_keys = sorted(T_section_marker)
        self.T0_cam = np.stack([T_cam_section[v] for v in view_ids])
        self.T0_marker = (
            np.stack([T_section_marker[k] for k in self.free_keys])
            if self.free_keys
            else np.zeros((0, 4, 4))
        )
        view_index = {v: i for i, v in enumerate(view_ids)}
        free_index = {k: i for i, k in enumerate(self.free_keys)}
        n_corners = 4 * len(observations)
        self.obs_view = np.repeat([view_index[o.view] for o in observations], 4)
        self.obs_free = np.repeat([free_index.get(o.key, -1) for o in observations], 4)
        corners_marker = np.concatenate(
            [marker_corners_marker(markers[o.key].size_m) for o in observations]
        )
        self.corners_marker = corners_marker
        # Control markers' corners in the section frame; free markers' are computed per call.
        self.fixed_section = np.zeros((n_corners, 3))
        for i, o in enumerate(observations):
            if o.key not in free_index:
                rows = slice(4 * i, 4 * i + 4)
                self.fixed_section[rows] = transform_points(
                    markers[o.key].T_section_marker, corners_marker[rows]
                )
        self.uv = np.concatenate([o.corners_px for o in observations])
        side_px = np.array([_side_px(o.corners_px) for o in observations])
        weights = side_px**WEIGHT_EXPONENT if weighted else np.ones(len(observations))
        weights /= np.sqrt(np.mean(weights**2))
        self.weights = np.repeat(weights, 8)  # per pixel coordinate of the four corners
        self.n_views = len(view_ids)
        self.n_params = 6 * (self.n_views + len(self.free_keys))

    def poses(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(R_cam_section, t_cam_section, R_section_marker, t_section_marker) stacks at x."""
        cam = x[: 6 * self.n_views].reshape(-1, 6)
        free = x[6 * self.n_views :].reshape(-1, 6)
        dR_cam = _rotations(cam[:, :3])
        R_cam = dR_cam @ self.T0_cam[:, :3, :3]
        t_cam = np.einsum("nij,nj->ni", dR_cam, self.T0_cam[:, :3, 3]) + cam[:, 3:]
        R_marker = self.T0_marker[:, :3, :3] @ _rotations(free[:, :3])
        t_marker = self.T0_marker[:, :3, 3] + free[:, 3:]
        return R_cam, t_cam, R_marker, t_marker

    def weighted_residuals(self, x: FloatArray) -> FloatArray:
        """(2 * corners,) `residuals` times each observation's weight."""
        return self.residuals(x) * self.weights

    def residuals(self, x: FloatArray) -> FloatArray:
        """(2 * corners,) predicted minus observed pixel coordinates."""
        R_cam, t_cam, R_marker, t_marker = self.poses(x)
        pts_section = self.fixed_section.copy()
        free = self.obs_free >= 0
        if free.any():
            m = self.obs_free[free]
            pts_section[free] = (
                np.einsum("nij,nj->ni", R_marker[m], self.corners_marker[free]) + t_marker[m]
            )
        v = self.obs_view
        pts_cam = np.einsum("nij,nj->ni", R_cam[v], pts_section) + t_cam[v]
        uv, _ = cv2.projectPoints(
            pts_cam.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), self.camera.K, self.camera.dist
        )
        return (uv.reshape(-1, 2) - self.uv).reshape(-1)

    def sparsity(self) -> coo_matrix:
        """(2 * corners, parameters) pattern of which parameters each residual depends on."""
        rows = np.arange(2 * len(self.uv))
        corner = rows // 2
        cam_cols = 6 * self.obs_view[corner, None] + np.arange(6)
        entries = [(np.repeat(rows, 6), cam_cols.reshape(-1))]
        free = self.obs_free[corner] >= 0
        if free.any():
            marker_cols = 6 * (self.n_views + self.obs_free[corner[free], None]) + np.arange(6)
            entries.append((np.repeat(rows[free], 6), marker_cols.reshape(-1)))
        r = np.concatenate([e[0] for e in entries])
        c = np.concatenate([e[1] for e in entries])
        return coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(len(rows), self.n_params))


def _side_px(corners_px: FloatArray) -> float:
    """Side of a marker in the image: square root of its quadrilateral's area, pixels."""
    x, y = corners_px[:, 0], corners_px[:, 1]
    area = 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))
    return max(np.sqrt(area), 1.0)


def _rotations(rotvecs: FloatArray) -> FloatArray:
    """(N, 3, 3) rotation matrices of (N, 3) rotation vectors (radians)."""
    if len(rotvecs) == 0:
        return np.zeros((0, 3, 3))
    return Rotation.from_rotvec(rotvecs).as_matrix()


def bundle_adjust(
    markers: dict[MarkerKey, Marker],
    observations: list[Observation],
    T_cam_section: dict[int, FloatArray],
    T_section_marker: dict[MarkerKey, FloatArray],
    camera: CameraModel,
    loss: tuple[str, float] = ("soft_l1", 1.0),
    weighted: bool = True,
    tolerance: float = 1e-10,
    max_evaluations: int = 1000,
) -> BundleSolution:
    """Adjust view and free-marker poses to all observed corners.

    Args:
        markers: Every marker of the section by key; those not in `T_section_marker`
            stay at their ``T_section_marker`` (control markers).
        observations: The corners of markers seen in views.
        T_cam_section: Initial pose of every view with observations, by view id.
        T_section_marker: Initial pose of every free marker, by key.
        camera: Intrinsics of the views.
        loss: ``scipy.optimize.least_squares`` robust loss and its scale in pixels.
        weighted: Weight each observation by the square root of the marker's side in
            the image (see the module); False: every corner counts the same.
        tolerance: ``ftol`` and ``xtol`` of the solver (1e-10 stops a clean problem
            after a few dozen evaluations, at the same poses as 1e-12).
        max_evaluations: ``max_nfev`` of the solver (a gross outlier under the robust
            loss can make it crawl there).
    """
    view_ids = sorted(T_cam_section)
    problem = _Problem(
        markers, observations, view_ids, T_cam_section, T_section_marker, camera, weighted
    )
    fit = least_squares(
        problem.weighted_residuals,
        np.zeros(problem.n_params),
        jac_sparsity=problem.sparsity(),
        loss=loss[0],
        f_scale=loss[1],
        x_scale="jac",
        method="trf",
        max_nfev=max_evaluations,
        ftol=tolerance,
        xtol=tolerance,
    )
    log.info(
        "bundle adjustment: %d views, %d free markers, %d corners, cost %.3g -> %.3g (%s)",
        len(view_ids),
        len(problem.free_keys),
        len(problem.uv),
        0.5 * float(np.sum(problem.weighted_residuals(np.zeros(problem.n_params)) ** 2)),
        fit.cost,
        fit.message,
    )
    R_cam, t_cam, R_marker, t_marker = problem.poses(fit.x)
    residuals = problem.residuals(fit.x).reshape(-1, 2)
    dof = max(fit.fun.size - problem.n_params, 1)
    sigma2 = max(2.0 * fit.cost / dof, MIN_CORNER_SIGMA_PX**2)  # robust cost: outliers count little
    normal = (fit.jac.T @ fit.jac).toarray()  # the Jacobian is sparse (jac_sparsity)
    try:
        covariance = np.linalg.inv(normal) * sigma2
    except np.linalg.LinAlgError:
        covariance = np.full((problem.n_params, problem.n_params), np.nan)
    marker_covariance = {}
    for m, key in enumerate(problem.free_keys):
        col = 6 * (problem.n_views + m)
        marker_covariance[key] = covariance[col : col + 6, col : col + 6]
    return BundleSolution(
        T_cam_section={v: make_T(R_cam[i], t_cam[i]) for i, v in enumerate(view_ids)},
        T_section_marker={
            k: make_T(R_marker[m], t_marker[m]) for m, k in enumerate(problem.free_keys)
        },
        residuals_px=np.linalg.norm(residuals, axis=1),
        marker_covariance=marker_covariance,
        sigma_px=float(np.sqrt(sigma2)),
    )
