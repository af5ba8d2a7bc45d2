"""Register a section's markers: where the non-control markers really are, by bundle adjustment.

Photos (or a recording) of the section taken with a calibrated camera are the input.
Every detected corner of a section marker is an observation. Unknowns are each view's
``T_cam_section`` and each non-control marker's ``T_section_marker``; control markers
stay at their surveyed poses and so fix the section frame. Minimised: the reprojection
error of all corners, in pixels, under a robust loss (``scipy.optimize.least_squares``,
``soft_l1`` with a scale of about 1 px), so that a few wrong corners cannot pull the map.

Initialisation, incremental: views that see markers of known pose (the control markers
first) get ``T_cam_section`` from `arinspect.pose.pnp.estimate_pose` (IPPE / SQPnP + LM
over all those markers' corners); a non-control marker seen in such views gets the
SE(3) mean of its per-view poses (IPPE_SQUARE on its own corners, through the same
function); then views that see only such markers are posed, and so on.

The adjustment itself, with the uncertainty of its result, is in
`arinspect.calibration.bundle`. Observations off by more than a few pixels after it
are dropped and the adjustment is run again.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from arinspect.cad.section import Marker, Section
from arinspect.calibration.bundle import BundleSolution, MarkerKey, Observation, bundle_adjust
from arinspect.camera import CameraModel
from arinspect.errors import ConfigError, DataFormatError
from arinspect.geometry import invert_T, make_T, pose_error, rotation_angle_rad
from arinspect.pose.marker_detection import MarkerDetection, MarkerDetector, MarkerDetectorConfig
from arinspect.pose.pnp import estimate_pose
from arinspect.typed import FloatArray, UInt8Image

log = logging.getLogger(__name__)

MAX_OUTLIER_PASSES = 3
"""Bundle adjustments at most: after each, outlier observations are dropped."""


@dataclass(frozen=True)
class RegistrationConfig:
    """How to register.

    Attributes:
        min_control: Fewest control markers that must be seen.
        min_views: Fewest views a non-control marker must be seen in to be registered.
        loss: Robust loss of ``scipy.optimize.least_squares`` (``soft_l1``, ``huber``,
            ``cauchy``, ``linear`` ...).
        loss_scale_px: Residual size where the robust loss starts to bend, pixels.
        outlier_px: A marker's observation in one view whose corner RMS is above this
            after the adjustment is dropped and reported as an outlier, pixels.
        mean_pose_max_angle_deg: Per-view poses of a marker farther than this from their
            medoid are left out of its initial pose (IPPE's flipped solutions), degrees.
        corner_refinement: Marker corner refinement of the detector; ``apriltag`` (edge
            lines fitted and intersected) measured 0.15 px against 0.25 px for
            ``subpix`` on rendered survey photos.
        max_view_angle_deg: Observations of a marker whose face normal is farther than
            this from the line of sight (from the initial poses) are left out: corners
            seen that obliquely are much less accurate than the 1 px loss scale assumes.
        weighted: Weight each observation by the square root of the marker's side in
            pixels (`arinspect.calibration.bundle`); False: all corners alike.
        max_evaluations: Residual evaluations per bundle adjustment at most.
    """

    min_control: int = 3
    min_views: int = 2
    loss: str = "soft_l1"
    loss_scale_px: float = 1.0
    outlier_px: float = 3.0
    mean_pose_max_angle_deg: float = 10.0
    corner_refinement: str = "apriltag"
    max_view_angle_deg: float = 70.0
    weighted: bool = True
    max_evaluations: int = 1000


@dataclass(frozen=True)
class MarkerRegistration:
    """What registration found for one marker.

    Attributes:
        marker: The marker as written to the registered section (its new pose).
        status: ``control`` (kept at its survey), ``registered``, or ``not_registered``.
        views: Number of views the marker was seen in (posed views only).
        correction_m: (3,) estimated minus nominal position, section frame, metres.
        correction_rad: Rotation between the nominal and the estimated pose, radians.
        residual_rms_px: RMS reprojection error of its corners over all views, pixels
            (NaN if not used).
        residual_max_px: Largest corner reprojection error, pixels (NaN if not used).
        position_sigma_m: (3,) standard deviation of its position along the section axes,
            metres (NaN unless registered).
        orientation_sigma_rad: RMS standard deviation of its orientation, radians (NaN
            unless registered).
        note: Why a marker is not registered, or what looks wrong.
    """

    marker: Marker
    status: str
    views: int
    correction_m: FloatArray
    correction_rad: float
    residual_rms_px: float
    residual_max_px: float
    position_sigma_m: FloatArray
    orientation_sigma_rad: float
    note: str = ""


@dataclass(frozen=True)
class RegistrationResult:
    """A registered section and how far to trust it.

    Attributes:
        section: The section with its registered markers' new poses.
        markers: One entry per marker of the section, in section order.
        views: Names of the views used.
        T_cam_section: (V, 4, 4) estimated pose of the section in each used view, metres.
        skipped_views: (name, reason) of views that were not used.
        rms_px: RMS reprojection error over all corners, pixels.
        sigma_px: Estimated corner noise (per coordinate) behind the uncertainties, pixels.
        outliers: (view name, marker key, RMS px) of observations above the outlier limit.
    """

    section: Section
    markers: tuple[MarkerRegistration, ...]
    views: tuple[str, ...]
    T_cam_section: FloatArray
    skipped_views: tuple[tuple[str, str], ...]
    rms_px: float
    sigma_px: float
    outliers: tuple[tuple[str, MarkerKey, float], ...]


def detect_observations(
    section: Section,
    camera: CameraModel,
    frames: Iterable[tuple[str, UInt8Image]],
    corner_refinement: str = "apriltag",
) -> tuple[list[str], list[list[MarkerDetection]]]:
    """Detect the section's markers in every frame.

    Args:
        section: The section whose markers to look for.
        camera: The camera; every frame must have its image size.
        frames: (name, (H, W, 3) BGR image) pairs; read one at a time.
        corner_refinement: Corner refinement of the marker detector.

    Returns:
        The frame names and, per frame, the detections of the section's markers (a
        marker found twice in one frame is left out of that frame).

    Raises:
        DataFormatError: a frame's size differs from the camera's.
    """
    known = {m.key for m in section.markers}
    detector = MarkerDetector(
        {m.family for m in section.markers}, MarkerDetectorConfig(corner_refinement)
    )
    names: list[str] = []
    detections: list[list[MarkerDetection]] = []
    for name, image in frames:
        if (image.shape[1], image.shape[0]) != camera.image_size_wh:
            raise DataFormatError(
                name,
                f"image is {image.shape[1]}x{image.shape[0]} px, the camera is"
                f" {camera.width}x{camera.height} px",
            )
        found = [d for d in detector.detect(image) if d.key in known]
        counts = Counter(d.key for d in found)
        names.append(name)
        detections.append([d for d in found if counts[d.key] == 1])
        log.debug("%s: %d section markers", name, len(detections[-1]))
    return names, detections


def register_section(
    section: Section,
    camera: CameraModel,
    frames: Iterable[tuple[str, UInt8Image]],
    config: RegistrationConfig = RegistrationConfig(),
) -> RegistrationResult:
    """Estimate every non-control marker's pose in the section frame from photos.

    Args:
        section: The section with nominal marker poses and surveyed control markers.
        camera: Intrinsics (with distortion) of the photos.
        frames: (name, (H, W, 3) BGR image) pairs.
        config: Loss, limits.

    Raises:
        ConfigError: fewer than `config.min_control` control markers were seen.
        DataFormatError: a frame's size differs from the camera's.
    """
    names, detections = detect_observations(section, camera, frames, config.corner_refinement)
    return register_detections(section, camera, names, detections, config)


def register_detections(
    section: Section,
    camera: CameraModel,
    names: list[str],
    detections: list[list[MarkerDetection]],
    config: RegistrationConfig = RegistrationConfig(),
) -> RegistrationResult:
    """`register_section` on markers already detected (per view, in view order).

    Detections of markers that are not in the section are ignored.

    Raises:
        ConfigError: fewer than `config.min_control` control markers were seen.
    """
    markers = {m.key: m for m in section.markers}
    detections = [[d for d in view if d.key in markers] for view in detections]
    view_counts = Counter(d.key for view in detections for d in view)
    seen = set(view_counts)
    control_seen = sorted(k for k in seen if markers[k].control)
    if len(control_seen) < config.min_control:
        ids = ", ".join(f"{f}/{i}" for f, i in control_seen) or "none"
        n_control = sum(m.control for m in section.markers)
        raise ConfigError(
            f"only {len(control_seen)} of the section's {n_control} control markers were seen"
            f" ({ids}) in {len(names)} view(s); at least {config.min_control} are needed to"
            " tie the markers to the section frame: take photos that show the control markers"
        )
    notes: dict[MarkerKey, str] = {}
    for key in markers:
        if not markers[key].control and view_counts[key] < config.min_views:
            notes[key] = f"seen in {view_counts[key]} view(s), at least {config.min_views} needed"
    candidates = {k for k in seen if k not in notes}
    T_cam_section, T_section_marker, skipped = _initialise(
        markers, candidates, detections, camera, config
    )
    if not T_cam_section:
        raise ConfigError(
            f"no camera pose could be found in any of the {len(names)} views from the control"
            " markers seen; check the camera file and the control markers' survey"
        )
    used = set(T_section_marker) | set(control_seen)
    for key in candidates - used:
        notes[key] = "not seen together with markers of known pose"
    marker_poses = {k: markers[k].T_section_marker for k in control_seen} | T_section_marker
    observations = [
        Observation(v, d.key, d.corners_px)
        for v, view in enumerate(detections)
        if v in T_cam_section
        for d in view
        if d.key in used
        and view_angle_rad(T_cam_section[v], marker_poses[d.key])
        <= np.deg2rad(config.max_view_angle_deg)
    ]
    grazing = len([d for v in T_cam_section for d in detections[v] if d.key in used])
    grazing -= len(observations)
    if grazing:
        log.info("%d observation(s) seen too obliquely left out", grazing)
    counts = Counter(o.key for o in observations)
    for key in [k for k in T_section_marker if counts[k] < config.min_views]:
        notes[key] = f"seen face-on enough in {counts[key]} view(s), {config.min_views} needed"
        del T_section_marker[key]
    observations = [o for o in observations if o.key in T_section_marker or markers[o.key].control]
    observed = {o.view for o in observations}
    skipped += [
        (v, "its markers are seen too obliquely") for v in T_cam_section if v not in observed
    ]
    T_cam_section = {v: T for v, T in T_cam_section.items() if v in observed}
    outliers: list[tuple[int, MarkerKey, float]] = []
    solution = _adjust(markers, observations, T_cam_section, T_section_marker, camera, config)
    for _pass in range(MAX_OUTLIER_PASSES):
        rms = np.sqrt(np.mean(solution.residuals_px.reshape(-1, 4) ** 2, axis=1))
        bad = rms > config.outlier_px
        if not bad.any():
            break
        outliers += [
            (o.view, o.key, float(e)) for o, e, b in zip(observations, rms, bad, strict=True) if b
        ]
        kept = [o for o, b in zip(observations, bad, strict=True) if not b]
        observations, T_cam_section, T_section_marker = _without_outliers(
            kept, solution, markers, notes, skipped, config.min_views
        )
        solution = _adjust(markers, observations, T_cam_section, T_section_marker, camera, config)
    return _result(section, names, skipped, observations, outliers, notes, solution)


def _adjust(
    markers: dict[MarkerKey, Marker],
    observations: list[Observation],
    T_cam_section: dict[int, FloatArray],
    T_section_marker: dict[MarkerKey, FloatArray],
    camera: CameraModel,
    config: RegistrationConfig,
) -> BundleSolution:
    """`bundle_adjust` with the loss and solver settings of `config`."""
    return bundle_adjust(
        markers,
        observations,
        T_cam_section,
        T_section_marker,
        camera,
        (config.loss, config.loss_scale_px),
        weighted=config.weighted,
        max_evaluations=config.max_evaluations,
    )


def _without_outliers(
    kept: list[Observation],
    solution: BundleSolution,
    markers: dict[MarkerKey, Marker],
    notes: dict[MarkerKey, str],
    skipped: list[tuple[int, str]],
    min_views: int,
) -> tuple[list[Observation], dict[int, FloatArray], dict[MarkerKey, FloatArray]]:
    """What stays determined once outlier observations are gone, starting from `solution`.

    Markers left with fewer than `min_views` views, and views left without observations,
    drop out (noted in `notes` and `skipped`).
    """
    T_section_marker = dict(solution.T_section_marker)
    counts = Counter(o.key for o in kept)
    for key in [k for k in T_section_marker if counts[k] < min_views]:
        notes[key] = f"only {counts[key]} view(s) left without outliers, {min_views} needed"
        del T_section_marker[key]
    kept = [o for o in kept if o.key in T_section_marker or markers[o.key].control]
    observed_views = {o.view for o in kept}
    T_cam_section = {v: T for v, T in solution.T_cam_section.items() if v in observed_views}
    skipped += [
        (v, "only outlier observations") for v in solution.T_cam_section if v not in observed_views
    ]
    return kept, T_cam_section, T_section_marker


def _initialise(
    markers: dict[MarkerKey, Marker],
    candidates: set[MarkerKey],
    detections: list[list[MarkerDetection]],
    camera: CameraModel,
    config: RegistrationConfig,
) -> tuple[dict[int, FloatArray], dict[MarkerKey, FloatArray], list[tuple[int, str]]]:
    """Incremental start: pose views from known markers, then markers from posed views."""
    known = {k: markers[k].T_section_marker for k in candidates if markers[k].control}
    T_cam_section: dict[int, FloatArray] = {}
    failed: set[int] = set()
    while True:
        progress = False
        for v, view in enumerate(detections):
            usable = {d.key: known[d.key] for d in view if d.key in known}
            if v in T_cam_section or not usable:
                continue
            estimate = estimate_pose(
                view,
                {k: replace(markers[k], T_section_marker=T) for k, T in usable.items()},
                camera,
            )
            if estimate is None:
                failed.add(v)
            else:
                T_cam_section[v] = estimate.T_cam_section
                failed.discard(v)
                progress = True
        for key in sorted(candidates - set(known)):
            per_view = []
            for v, view in enumerate(detections):
                detection = next((d for d in view if d.key == key), None)
                if v not in T_cam_section or detection is None:
                    continue
                T_cam_marker = _marker_pose(detection, markers[key], camera)
                if T_cam_marker is not None:
                    per_view.append(invert_T(T_cam_section[v]) @ T_cam_marker)
            if per_view:
                known[key] = mean_pose(per_view, np.deg2rad(config.mean_pose_max_angle_deg))
                progress = True
        if not progress:
            break
    skipped = []
    for v, view in enumerate(detections):
        if v in T_cam_section:
            continue
        if not view:
            reason = "no marker of the section seen"
        elif v in failed:
            reason = "its markers disagree: no camera pose fits them"
        else:
            reason = "no marker tied to the control markers seen"
        skipped.append((v, reason))
    T_section_marker = {k: T for k, T in known.items() if not markers[k].control}
    return T_cam_section, T_section_marker, skipped


def _marker_pose(
    detection: MarkerDetection, marker: Marker, camera: CameraModel
) -> FloatArray | None:
    """T_cam_marker from the marker's own four corners (IPPE_SQUARE, better of two, + LM)."""
    at_origin = {marker.key: replace(marker, T_section_marker=np.eye(4))}
    estimate = estimate_pose([detection], at_origin, camera)
    return None if estimate is None else estimate.T_cam_section


def view_angle_rad(T_cam_section: FloatArray, T_section_marker: FloatArray) -> float:
    """Angle between a marker's face normal and the line of sight from the camera to it."""
    eye = invert_T(T_cam_section)[:3, 3]
    to_eye = eye - T_section_marker[:3, 3]
    cos = float(to_eye @ T_section_marker[:3, 2]) / float(np.linalg.norm(to_eye))
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


def mean_pose(T_list: list[FloatArray], max_angle_rad: float) -> FloatArray:
    """Robust mean of (4, 4) poses of one frame on SE(3).

    The medoid by rotation angle picks the consensus; poses within `max_angle_rad` of it
    are averaged: rotations by their chordal L2 mean (the sum of the matrices projected
    back onto SO(3)), translations arithmetically. Rotation vectors are never averaged.
    """
    stack = np.asarray(T_list, dtype=np.float64)
    R = stack[:, :3, :3]
    angles = np.array([[rotation_angle_rad(a.T @ b) for b in R] for a in R])
    medoid = int(np.argmin(angles.sum(axis=1)))
    keep = angles[medoid] <= max_angle_rad
    U, _, Vt = np.linalg.svd(R[keep].sum(axis=0))
    R_mean = U @ np.diag([1.0, 1.0, np.linalg.det(U @ Vt)]) @ Vt
    return make_T(R_mean, stack[keep, :3, 3].mean(axis=0))


def _result(
    section: Section,
    names: list[str],
    skipped: list[tuple[int, str]],
    observations: list[Observation],
    outliers: list[tuple[int, MarkerKey, float]],
    notes: dict[MarkerKey, str],
    solution: BundleSolution,
) -> RegistrationResult:
    errors_by_marker: dict[MarkerKey, list[float]] = defaultdict(list)
    for i, obs in enumerate(observations):
        errors_by_marker[obs.key].extend(solution.residuals_px[4 * i : 4 * i + 4])
    posed_counts = Counter(o.key for o in observations)
    view_ids = sorted(solution.T_cam_section)
    entries = []
    nan3 = np.full(3, np.nan)
    for marker in section.markers:
        key = marker.key
        errors = np.asarray(errors_by_marker.get(key, [np.nan]))
        rms, worst = float(np.sqrt(np.mean(errors**2))), float(np.max(errors))
        if key in solution.T_section_marker:
            T = solution.T_section_marker[key]
            covariance = solution.marker_covariance[key]
            dt, dr = pose_error(T, marker.T_section_marker)
            entries.append(
                MarkerRegistration(
                    marker=replace(marker, T_section_marker=T),
                    status="registered",
                    views=posed_counts[key],
                    correction_m=T[:3, 3] - marker.T_section_marker[:3, 3],
                    correction_rad=dr,
                    residual_rms_px=rms,
                    residual_max_px=worst,
                    position_sigma_m=np.sqrt(np.diag(covariance)[3:]),
                    orientation_sigma_rad=float(np.sqrt(np.trace(covariance[:3, :3]))),
                )
            )
            continue
        status = "control" if marker.control else "not_registered"
        entries.append(
            MarkerRegistration(
                marker=marker,
                status=status,
                views=posed_counts[key],
                correction_m=np.zeros(3) if marker.control else nan3,
                correction_rad=0.0 if marker.control else np.nan,
                residual_rms_px=rms,
                residual_max_px=worst,
                position_sigma_m=nan3,
                orientation_sigma_rad=np.nan,
                note=notes.get(key, "" if marker.control else "not seen"),
            )
        )
    registered = replace(section, markers=tuple(e.marker for e in entries))
    all_errors = solution.residuals_px
    return RegistrationResult(
        section=registered,
        markers=tuple(entries),
        views=tuple(names[v] for v in view_ids),
        T_cam_section=np.stack([solution.T_cam_section[v] for v in view_ids]),
        skipped_views=tuple((names[v], reason) for v, reason in skipped),
        rms_px=float(np.sqrt(np.mean(all_errors**2))),
        sigma_px=solution.sigma_px,
        outliers=tuple((names[v], key, rms) for v, key, rms in outliers),
    )
