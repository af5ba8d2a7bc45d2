"""Camera pose from all visible markers at once: marker-level RANSAC, SQPnP, LM, covariance.

Every detected marker of the section contributes its four corners; markers not in the
section are ignored. Hypotheses come from each marker alone (IPPE_SQUARE gives two per
marker); the one that explains most markers wins, then SQPnP + Levenberg-Marquardt over
the corners of the inlier markers, and corners that still disagree are dropped. This is
the only module where OpenCV's ``rvec``/``tvec`` appear.

Covariance: 6x6 over a left perturbation [omega, v] in the camera frame (see
`arinspect.pose.covariance`), from the Jacobian of the reprojection at the solution and
the residual pixel noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from arinspect.cad.section import Marker
from arinspect.camera import CameraModel
from arinspect.geometry import (
    invert_T,
    make_T,
    rotation_from_rotvec,
    rotvec_from_rotation,
    transform_points,
)
from arinspect.markers import marker_corners_marker
from arinspect.pose.covariance import projection_jacobian
from arinspect.pose.marker_detection import MarkerDetection
from arinspect.typed import FloatArray

MIN_PIXEL_SIGMA = 0.08
"""Floor of the per-coordinate corner noise used for the covariance, pixels.

Since the corner fit also fits the growth of black modules (median corner error 0.18 ->
0.08 px on the pose benchmark's views), 0.15 px, the floor before, held 99.2 % of the
benchmark's true errors in the 95 % region; 0.08 px holds 95.0 % (114 of 120)."""
RESIDUAL_SIGMA_SCALE = 0.8
"""Corner noise = this x the residual RMS (dof-corrected), floored at MIN_PIXEL_SIGMA.

The residuals carry what degrades the corners (motion blur, noise, oblique views; the
inspection-benchmark recordings have 2 px motion blur, markers 50-70 degrees off their
normal). With 0.8 and the 0.08 px floor, on those recordings 94 % of the three-marker
poses' true errors lie inside their 95 % region and 92 % with four or more;
`benchmarks/bench_pose.py` printed 95.0 % (114 of its 120 views)."""
FEW_MARKERS = 3
"""Poses from fewer inlier markers than this also get `SMALL_MARKER_SIGMA_PX2`."""
SMALL_MARKER_SIGMA_PX2 = 12.0
"""Corner noise of poses from one or two markers: at least this / (the marker's side, px).

One or two markers' residuals cannot show the errors that tilt or scale a marker (each
square is fitted almost exactly whatever its corners' errors), so their spread says little;
this prior, which grows as the marker shrinks, replaces it where larger (0.6 px at 20 px,
the floor from 80 px). On the inspection-benchmark recordings the 95 % region of two-marker
poses held 38 % of their true errors before (factor 0.5, no prior) and 97 % with it
(single markers, whose IPPE ambiguity errs by 10-30 cm: 14 % and 90 %)."""


@dataclass(frozen=True)
class PnPConfig:
    """Thresholds of the marker PnP.

    Attributes:
        inlier_threshold_px: A marker is an inlier when all its corners reproject within this.
        corner_outlier_sigmas: After LM, corners beyond this many sigma are dropped.
        min_markers: Fewest inlier markers for a pose (1 works, with IPPE's ambiguity).
    """

    inlier_threshold_px: float = 4.0
    corner_outlier_sigmas: float = 4.0
    min_markers: int = 1


@dataclass(frozen=True)
class PoseEstimate:
    """A camera pose with its quality.

    Attributes:
        T_cam_section: (4, 4) pose of the section in the camera, metres.
        inlier_markers: (family, id) of the markers used.
        rms_px: Root-mean-square reprojection error of the inlier corners, pixels.
        covariance: (6, 6) covariance of [omega (rad), v (m)], see `arinspect.pose.covariance`.
        pts_section: (N, 3) the inlier corners in the section frame, metres.
        uv: (N, 2) where they were seen, pixels.
    """

    T_cam_section: FloatArray
    inlier_markers: tuple[tuple[str, int], ...]
    rms_px: float
    covariance: FloatArray
    pts_section: FloatArray
    uv: FloatArray

    @property
    def n_corners(self) -> int:
        """Inlier corners used."""
        return len(self.uv)

    def rms_px_at(self, camera: CameraModel, T_cam_section: FloatArray) -> float:
        """Reprojection RMS (px) of the inlier corners under another pose."""
        errors = _reprojection_errors(camera, T_cam_section, self.pts_section, self.uv)
        return float(np.sqrt(np.mean(errors**2)))


def _T_from_rvec_tvec(rvec: np.ndarray, tvec: np.ndarray) -> FloatArray:
    return make_T(rotation_from_rotvec(np.asarray(rvec).reshape(3)), np.asarray(tvec).reshape(3))


def _rvec_tvec(T: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    return rotvec_from_rotation(T[:3, :3]).reshape(3, 1), T[:3, 3].reshape(3, 1).copy()


def marker_correspondences(
    detections: Sequence[MarkerDetection], markers: dict[tuple[str, int], Marker]
) -> list[tuple[tuple[str, int], FloatArray, FloatArray]]:
    """(key, (4, 3) corners in the section frame, (4, 2) pixels) of each known detected marker."""
    pairs = []
    for detection in detections:
        marker = markers.get(detection.key)
        if marker is None:
            continue  # a marker of another section or a misread id
        pts = transform_points(marker.T_section_marker, marker_corners_marker(marker.size_m))
        pairs.append((detection.key, pts, detection.corners_px))
    return pairs


def _reprojection_errors(
    camera: CameraModel, T: FloatArray, pts: FloatArray, uv: FloatArray
) -> FloatArray:
    projected, z = camera.project(T, pts)
    errors = np.linalg.norm(projected - uv, axis=1)
    return np.where(z > 0, errors, np.inf)


def _hypotheses(camera: CameraModel, pairs, markers) -> list[FloatArray]:
    """Candidate T_cam_section from each marker alone (two IPPE_SQUARE solutions each)."""
    candidates = []
    for key, _, uv in pairs:
        marker = markers[key]
        ok, rvecs, tvecs, _ = cv2.solvePnPGeneric(
            marker_corners_marker(marker.size_m),
            uv,
            camera.K,
            camera.dist,
            flags=cv2.SOLVEPNP_IPPE_SQUARE,
        )
        if not ok:
            continue
        for rvec, tvec in zip(rvecs, tvecs, strict=True):
            T_cam_marker = _T_from_rvec_tvec(rvec, tvec)
            candidates.append(T_cam_marker @ invert_T(marker.T_section_marker))
    return candidates


def estimate_pose(
    detections: Sequence[MarkerDetection],
    markers: dict[tuple[str, int], Marker],
    camera: CameraModel,
    config: PnPConfig = PnPConfig(),
    T_cam_section_guess: FloatArray | None = None,
) -> PoseEstimate | None:
    """T_cam_section from every detected marker of the section.

    Args:
        detections: Markers found in the (distorted) image.
        markers: The section's markers by (family, id).
        camera: Intrinsics of the image.
        config: Thresholds.
        T_cam_section_guess: A predicted pose, added to the hypotheses (tracking).

    Returns:
        The pose, or None when fewer than `config.min_markers` markers agree.
    """
    pairs = marker_correspondences(detections, markers)
    if len(pairs) < config.min_markers:
        return None
    hypotheses = _hypotheses(camera, pairs, markers)
    if T_cam_section_guess is not None:
        hypotheses.append(np.asarray(T_cam_section_guess, dtype=np.float64))
    T, best_inliers, refined = _consensus(camera, pairs, hypotheses, config)
    if T is None or len(best_inliers) < config.min_markers:
        return None
    pts = np.concatenate([pairs[i][1] for i in best_inliers])
    uv = np.concatenate([pairs[i][2] for i in best_inliers])
    few = len(best_inliers) < FEW_MARKERS
    prior_sigma_px = np.repeat(
        [SMALL_MARKER_SIGMA_PX2 / _mean_side_px(pairs[i][2]) if few else 0.0 for i in best_inliers],
        4,
    )
    if not refined:
        T = _refine(camera, T, pts, uv, use_sqpnp=len(best_inliers) >= 2)
    errors = _reprojection_errors(camera, T, pts, uv)
    sigma = max(float(np.sqrt(np.mean(errors**2))), MIN_PIXEL_SIGMA)
    keep = errors < config.corner_outlier_sigmas * sigma + 0.5
    if keep.sum() >= 4 and not keep.all():
        pts, uv, prior_sigma_px = pts[keep], uv[keep], prior_sigma_px[keep]
        T = _refine(camera, T, pts, uv, use_sqpnp=False)
        errors = _reprojection_errors(camera, T, pts, uv)
    return PoseEstimate(
        T_cam_section=T,
        inlier_markers=tuple(pairs[i][0] for i in best_inliers),
        rms_px=float(np.sqrt(np.mean(errors**2))),
        covariance=_covariance(camera, T, pts, errors, prior_sigma_px),
        pts_section=pts,
        uv=uv,
    )


def _marker_errors(camera: CameraModel, T: FloatArray, pairs) -> list[float]:
    """Worst corner reprojection error of each marker under pose T, pixels (one projection)."""
    pts = np.concatenate([p[1] for p in pairs])
    uv = np.concatenate([p[2] for p in pairs])
    errors = _reprojection_errors(camera, T, pts, uv).reshape(len(pairs), 4)
    return errors.max(axis=1).tolist()


def _consensus(camera: CameraModel, pairs, hypotheses: list[FloatArray], config: PnPConfig):
    """Locally optimised marker-level RANSAC: the pose most markers agree with, and those markers.

    A single marker's pose extrapolates poorly to the others, so each hypothesis first
    gathers the markers within a loose threshold, is refined on them, and only then is
    scored by the markers within the strict threshold.

    Returns:
        The best pose (None if no hypothesis holds a marker), its inlier markers' indices,
        and whether the pose is already refined on exactly those markers.
    """
    loose_px = 8.0 * config.inlier_threshold_px
    ranked = []
    for T in hypotheses:
        errors = _marker_errors(camera, T, pairs)
        loose = [i for i, e in enumerate(errors) if e < loose_px]
        ranked.append(
            (-len(loose), float(np.mean([errors[i] for i in loose])) if loose else np.inf, loose, T)
        )
    ranked.sort(key=lambda r: (r[0], r[1]))
    best = (None, [], False, (0, np.inf))
    tried: set[frozenset[int]] = set()
    for _, _, loose, T in ranked[:3]:
        if not loose or frozenset(loose) in tried:
            continue  # the same markers refine to the same pose
        tried.add(frozenset(loose))
        inliers, refined_on = loose, None
        for _ in range(2):
            if not inliers or inliers == refined_on:
                break
            pts = np.concatenate([pairs[i][1] for i in inliers])
            uv = np.concatenate([pairs[i][2] for i in inliers])
            T = _refine(camera, T, pts, uv, use_sqpnp=len(inliers) >= 2)
            refined_on = inliers
            errors = _marker_errors(camera, T, pairs)
            inliers = [i for i, e in enumerate(errors) if e < config.inlier_threshold_px]
        score = (
            len(inliers),
            -float(np.mean([errors[i] for i in inliers])) if inliers else -np.inf,
        )
        if score > best[3]:
            best = (T, inliers, inliers == refined_on, score)
    return best[0], best[1], best[2]


def _refine(
    camera: CameraModel, T_init: FloatArray, pts: FloatArray, uv: FloatArray, use_sqpnp: bool
) -> FloatArray:
    """SQPnP (keeping the better of it and the initial pose), then LM on all corners."""
    T = T_init
    if use_sqpnp:
        ok, rvec, tvec = cv2.solvePnP(pts, uv, camera.K, camera.dist, flags=cv2.SOLVEPNP_SQPNP)
        if ok:
            T_sq = _T_from_rvec_tvec(rvec, tvec)
            if (
                _reprojection_errors(camera, T_sq, pts, uv).mean()
                < _reprojection_errors(camera, T, pts, uv).mean()
            ):
                T = T_sq
    rvec, tvec = _rvec_tvec(T)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-10)
    rvec, tvec = cv2.solvePnPRefineLM(pts, uv, camera.K, camera.dist, rvec, tvec, criteria)
    return _T_from_rvec_tvec(rvec, tvec)


def _mean_side_px(corners_px: FloatArray) -> float:
    """Mean side length of a (4, 2) marker quadrilateral, pixels."""
    return float(np.linalg.norm(np.roll(corners_px, -1, axis=0) - corners_px, axis=1).mean())


def _covariance(
    camera: CameraModel,
    T: FloatArray,
    pts: FloatArray,
    errors: FloatArray,
    prior_sigma_px: FloatArray,
) -> FloatArray:
    """(6, 6) pose covariance (see `arinspect.pose.covariance`): (sum_k J_k^T J_k / s_k^2)^-1.

    Each corner's per-coordinate noise s_k is the largest of the scaled residual RMS, the
    floor, and its own prior (`SMALL_MARKER_SIGMA_PX2` / its marker's side for poses from
    fewer than `FEW_MARKERS` markers, else 0).

    Args:
        camera: Intrinsics.
        T: (4, 4) the solved T_cam_section, metres.
        pts: (N, 3) inlier corners in the section frame, metres.
        errors: (N,) their reprojection errors at T, pixels.
        prior_sigma_px: (N,) smallest noise of each corner, pixels.
    """
    J = projection_jacobian(camera, transform_points(T, pts))  # (N, 2, 6)
    dof = max(2 * len(pts) - 6, 1)
    common2 = max(RESIDUAL_SIGMA_SCALE**2 * float(np.sum(errors**2)) / dof, MIN_PIXEL_SIGMA**2)
    sigma2 = np.maximum(common2, prior_sigma_px**2)
    information = np.einsum("nij,nik,n->jk", J, J, 1.0 / sigma2)
    return np.linalg.pinv(information)


def single_marker_pose(
    detections: Sequence[MarkerDetection],
    markers: dict[tuple[str, int], Marker],
    camera: CameraModel,
) -> FloatArray | None:
    """Baseline: T_cam_section from the largest visible marker alone (IPPE_SQUARE, best of two)."""
    pairs = marker_correspondences(detections, markers)
    if not pairs:
        return None
    key, pts, uv = max(pairs, key=lambda p: cv2.contourArea(p[2].astype(np.float32)))
    candidates = _hypotheses(camera, [(key, pts, uv)], markers)
    if not candidates:
        return None
    return min(candidates, key=lambda T: _reprojection_errors(camera, T, pts, uv).mean())
