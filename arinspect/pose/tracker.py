"""Frame-to-frame tracking of T_cam_section over a recording.

Each frame: predict (headset SLAM motion when the recording has it, else constant
velocity), detect markers and solve PnP seeded with the prediction, fuse the marker pose
with a trusted prediction (information-weighted, so one or two markers keep a track that
they could not start), refine against the CAD (ICP on depth; without depth, the CAD's
edges aligned with the image, with the pose's covariance as the prior), then judge the
result.
A frame is ``tracked`` when it continues the track with a trusted pose (95 % translation
bound within `TrackerConfig.max_bound95_m`); ``reinitialised`` when two or more markers, or
one confirmed by ICP on depth or by most of the structure's edges, set the pose afresh
(first frame, after a loss, after a jump the motion cannot explain) or when three or more
markers give a pose too uncertain to be trusted (flagged by its quality, which is 0 beyond
the bound); ``lost`` otherwise (no pose, or an untrusted one from fewer markers or from
prediction alone; such a pose is still reported, with quality 0).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.errors import ShapeError
from arinspect.geometry import invert_T
from arinspect.pose.covariance import (
    CHI2_6DOF_95,
    fuse_poses,
    left_perturbation,
    translation_bound95_m,
)
from arinspect.pose.marker_detection import (
    MarkerDetection,
    MarkerDetector,
    MarkerDetectorConfig,
)
from arinspect.pose.model_view import StructureModel
from arinspect.pose.pnp import PnPConfig, PoseEstimate, estimate_pose
from arinspect.pose.refine_depth import IcpConfig, IcpResult, refine_with_depth
from arinspect.pose.refine_edges import EdgeConfig, refine_with_edges
from arinspect.typed import FloatArray, UInt8Image

STATUSES = ("tracked", "lost", "reinitialised")
MIN_MARKERS_TO_START = 2
"""Markers a track needs to start or restart from; with one, the frame is ``lost`` unless
ICP on depth confirmed its pose (the mirror pose of one marker does not fit the CAD's
surfaces) or the structure's edges were found along most of their length
(`TrackerConfig.single_marker_min_edge_inliers`)."""
MIN_MARKERS_TO_REINITIALISE = 3
"""Markers that make a fresh pose worth reporting (as ``reinitialised``, with its quality)
even when its 95 % bound exceeds the tracking limit; with fewer the frame is ``lost``."""
MIN_DEPTH_SIGMA_M = 0.0005
"""Floor of the per-point depth noise used for ICP covariances, metres."""
ICP_POSE_SIGMA_FLOOR = (0.0005, 0.001)
"""Smallest pose uncertainty [rad, m] claimed after ICP: the built steel deviates from the
CAD and depth sensors have biases that no number of points averages away."""


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking settings.

    Attributes:
        detector: Marker detection.
        pnp: Marker PnP thresholds.
        icp: Depth refinement.
        edges: Image-edge refinement.
        max_bound95_m: Largest 95 % translation bound of a `tracked` frame, metres.
        marker_agreement_chi2: Chi-square bound (6 dof) of agreement: markers are fused with
            the prediction only within it, and a CAD refinement of a marker pose is rejected
            when it moves the pose outside it.
        icp_min_fitness: Share of the observed depth points the CAD must explain after ICP
            for its covariance to be believed (a wrong convergence explains far fewer).
        use_edges: Refine from image edges (the structure's creases and contours, the
            markers' outlines) when a frame has no depth, with the marker or predicted pose's
            covariance as the prior (`pose/refine_edges.py`).
        edges_min_inlier_ratio: Share of the edge samples that must find their image edge
            for an edge refinement to count.
        single_marker_min_edge_inliers: Share of the edge samples that must find their
            image edge for an edge refinement to start a track from one marker without
            depth. Each marker of the inspection benchmark's eight sets taken alone (856
            views, every third frame): of the edge-refined poses with a 95 % bound within
            `max_bound95_m`, 8 of 600 were more than 4 cm off (up to 26 cm); of those that
            also found 50 % of their edges, 1 of 515 (4.1 cm), and 5 more than 2 cm off.
        motion_sigma_headset: Per-frame pose noise [rad, m] of a prediction from the
            headset's SLAM motion.
        motion_sigma_headset_per_m: Further translation noise of that prediction per metre
            the headset moved since the previous frame (odometry drifts with the path).
        motion_sigma_constant_velocity: The same for a constant-velocity prediction.
    """

    detector: MarkerDetectorConfig = field(default_factory=MarkerDetectorConfig)
    pnp: PnPConfig = field(default_factory=PnPConfig)
    icp: IcpConfig = field(default_factory=IcpConfig)
    edges: EdgeConfig = field(default_factory=EdgeConfig)
    max_bound95_m: float = 0.02
    marker_agreement_chi2: float = 16.81  # chi-square, 6 dof, 99 %
    icp_min_fitness: float = 0.4
    use_edges: bool = True
    edges_min_inlier_ratio: float = 0.3
    single_marker_min_edge_inliers: float = 0.5
    motion_sigma_headset: tuple[float, float] = (0.002, 0.003)
    motion_sigma_headset_per_m: float = 0.02
    motion_sigma_constant_velocity: tuple[float, float] = (0.02, 0.03)


@dataclass(frozen=True)
class FrameResult:
    """Tracking outcome of one frame.

    Attributes:
        im_id: Image id.
        status: ``tracked``, ``lost`` or ``reinitialised``.
        T_cam_section: (4, 4) pose, metres, or None when nothing could be estimated.
        rms_px: Marker reprojection RMS, pixels (NaN without markers).
        covariance: (6, 6) pose covariance (`arinspect.pose.covariance`), or None.
        bound95_m: 95 % bound of the translation error, metres (inf without a pose).
        quality: 1 for a perfectly known pose, 0 at or beyond `max_bound95_m`.
        source: What set the pose: ``markers``, ``prediction`` or ``init``, plus ``+icp`` /
            ``+edges`` when a refinement moved or confirmed the pose.
        n_markers: Inlier markers.
        stage_times_s: Wall time per stage (``detect``, ``pnp``, ``refine``), seconds.
    """

    im_id: int
    status: str
    T_cam_section: FloatArray | None
    rms_px: float
    covariance: FloatArray | None
    bound95_m: float
    quality: float
    source: str
    n_markers: int
    stage_times_s: dict[str, float]


class PoseTracker:
    """Tracks one camera over the frames of a recording, one after the other.

    In frame order, or in reverse from a trusted frame (`arinspect.pose.backwards`).
    """

    def __init__(
        self,
        section: Section,
        camera: CameraModel,
        config: TrackerConfig = TrackerConfig(),
        T_cam_section_init: FloatArray | None = None,
    ) -> None:
        """Prepare detectors and the structure model.

        Args:
            section: The section being viewed.
            camera: Intrinsics of the frames.
            config: Settings.
            T_cam_section_init: Approximate pose of the first frame (markerless start), metres.
        """
        self.section = section
        self.camera = camera
        self.config = config
        self.markers = {m.key: m for m in section.markers}
        self.detector = MarkerDetector({m.family for m in section.markers}, config.detector)
        self.model = StructureModel(section)
        self._init = (
            None if T_cam_section_init is None else np.asarray(T_cam_section_init, np.float64)
        )
        self.restart()

    def restart(self) -> None:
        """Forget the track: the next frame starts afresh.

        From its markers, or from the initial pose given to the constructor.
        """
        # (timestamp, pose, covariance) of the last good frames
        self._history: list[tuple[float | None, FloatArray, FloatArray | None]] = []
        self._last_headset: FloatArray | None = None
        self._lost = True
        self._frames_lost = 0  # frames since the last good one
        self._predicted_by_headset = False

    def resume(
        self,
        result: FrameResult,
        timestamp_s: float | None = None,
        T_world_cam: FloatArray | None = None,
    ) -> None:
        """Continue from a frame tracked elsewhere, as if this tracker had just processed it.

        Used to track backwards from the frame after a lost one (`arinspect.pose.backwards`).
        """
        self._remember(result, timestamp_s, T_world_cam)

    def _predict(
        self, timestamp_s: float | None, T_world_cam: FloatArray | None
    ) -> tuple[FloatArray | None, FloatArray | None]:
        """Predicted pose and its covariance (the last one grown by the motion noise)."""
        if not self._history:
            return self._init, None
        last_t, T_last, cov_last = self._history[-1]
        self._predicted_by_headset = T_world_cam is not None and self._last_headset is not None
        if self._predicted_by_headset:
            # Relative motion from the headset's SLAM since the last good frame: odometry
            # drift grows with the frames in between and with the path.
            T_now_last = invert_T(T_world_cam) @ self._last_headset
            T_pred = T_now_last @ T_last
            frames = self._frames_lost + 1
            moved_m = float(np.linalg.norm(T_now_last[:3, 3]))
            rad, metres = self.config.motion_sigma_headset
            var_rad = rad**2 * frames
            var_m = metres**2 * frames + (self.config.motion_sigma_headset_per_m * moved_m) ** 2
            motion = np.diag([var_rad] * 3 + [var_m] * 3)
            return T_pred, cov_last + motion
        sigma = self.config.motion_sigma_constant_velocity
        T_pred = T_last
        if len(self._history) >= 2:
            prev_t, T_prev, _ = self._history[-2]
            regular = True
            if (
                timestamp_s is not None
                and last_t is not None
                and prev_t is not None
                and last_t != prev_t  # backwards (`pose.backwards`), the steps are negative
            ):
                regular = abs((timestamp_s - last_t) / (last_t - prev_t) - 1.0) <= 0.25
            if regular:  # irregular timing: constant position is the safer guess
                T_pred = T_last @ invert_T(T_prev) @ T_last
        motion = np.diag([sigma[0] ** 2] * 3 + [sigma[1] ** 2] * 3)
        return T_pred, cov_last + motion

    def process(
        self,
        im_id: int,
        image: UInt8Image,
        depth_m: np.ndarray | None = None,
        timestamp_s: float | None = None,
        T_world_cam: FloatArray | None = None,
        *,
        markers: Sequence[MarkerDetection] | None = None,
    ) -> FrameResult:
        """Track one frame (call in frame order, or in reverse after `resume`).

        Args:
            im_id: Image id (reported back).
            image: (H, W, 3) BGR frame of `camera`'s size.
            depth_m: (H, W) registered depth in metres (0 = none), if the camera has depth.
            timestamp_s: Capture time, seconds.
            T_world_cam: The headset's SLAM pose of this frame, if known.
            markers: The image's markers as `detector` found them, when that was done
                already (in a reader thread, beside the tracking of the frame before);
                found here when None (the ``detect`` stage then times the prediction only).
        """
        expected = (self.camera.height, self.camera.width)
        if image.shape[:2] != expected:
            raise ShapeError("image", tuple(image.shape), f"({expected[0]}, {expected[1]}, 3)")
        times: dict[str, float] = {}
        clock = time.perf_counter()
        prediction, predicted_cov = self._predict(timestamp_s, T_world_cam)
        detections = self.detector.detect(image) if markers is None else list(markers)
        times["detect"] = time.perf_counter() - clock
        clock = time.perf_counter()
        estimate = estimate_pose(detections, self.markers, self.camera, self.config.pnp, prediction)
        times["pnp"] = time.perf_counter() - clock
        clock = time.perf_counter()
        T, covariance, source, reinit = self._choose(estimate, prediction, predicted_cov)
        rms = estimate.rms_px if estimate is not None and source.startswith("markers") else np.nan
        confirmed = False
        if T is not None:
            T, covariance, source, confirmed = self._refine(T, covariance, source, image, depth_m)
        times["refine"] = time.perf_counter() - clock
        result = self._judge(im_id, T, covariance, source, rms, reinit, confirmed, estimate, times)
        self._remember(result, timestamp_s, T_world_cam)
        return result

    def _choose(
        self,
        estimate: PoseEstimate | None,
        prediction: FloatArray | None,
        predicted_cov: FloatArray | None,
    ) -> tuple[FloatArray | None, FloatArray | None, str, bool]:
        """The pose to refine, its covariance, its source and whether it restarts the track.

        Markers that agree with the prediction (chi-square gate on the difference) are fused
        with it. A prediction counts while the track holds, and after a loss only when it
        comes from the headset's odometry (whose uncertainty grows with the frames lost).
        Markers that contradict a trusted prediction win only when two or more agree among
        themselves; a single one is taken for an outlier.
        """
        usable = predicted_cov is not None and (not self._lost or self._predicted_by_headset)
        if estimate is not None:
            if usable and self._agrees(estimate, prediction, predicted_cov):
                T, covariance = fuse_poses(
                    prediction, predicted_cov, estimate.T_cam_section, estimate.covariance
                )
                return T, covariance, "markers+motion", self._lost
            if not usable or self._lost or len(estimate.inlier_markers) >= 2:
                return estimate.T_cam_section, estimate.covariance, "markers", True
        if prediction is not None:
            source = "init" if not self._history else "prediction"
            return prediction, predicted_cov, source, False
        return None, None, "none", False

    def _agrees(
        self, estimate: PoseEstimate, prediction: FloatArray, predicted_cov: FloatArray
    ) -> bool:
        """Whether the marker pose and the prediction differ by no more than their noise."""
        delta = left_perturbation(estimate.T_cam_section, prediction)
        combined = predicted_cov + estimate.covariance
        mahalanobis2 = float(delta @ np.linalg.pinv(combined) @ delta)
        return mahalanobis2 <= self.config.marker_agreement_chi2

    def _refine(
        self,
        T: FloatArray,
        covariance: FloatArray | None,
        source: str,
        image: UInt8Image,
        depth_m: np.ndarray | None,
    ) -> tuple[FloatArray, FloatArray | None, str, bool]:
        """The pose refined against the CAD (ICP on depth, else edges), with its covariance.

        Returns:
            The pose, its covariance, its source, and whether the structure confirmed it
            well enough to start a track from one marker: ICP moved or confirmed it, or the
            edges found at least `TrackerConfig.single_marker_min_edge_inliers` of their
            samples.
        """
        if depth_m is not None:
            icp = refine_with_depth(self.model, self.camera, depth_m, T, self.config.icp)
            if icp.accepted and self._keeps_start(icp.T_cam_section, T, covariance, source):
                depth_covariance = self._icp_covariance(icp)
                if depth_covariance is not None:
                    covariance = depth_covariance
                return icp.T_cam_section, covariance, source + "+icp", True
            depth_confirmed = self._confirmed_by_depth(icp, T, covariance)
            if depth_confirmed is not None:
                return T, depth_confirmed, source + "+icp", True
            return T, covariance, source, False
        if self.config.use_edges:
            edges = refine_with_edges(
                self.model, self.camera, image, T, self.config.edges, covariance
            )
            if (
                edges.covariance is not None
                and edges.inlier_ratio >= self.config.edges_min_inlier_ratio
                and self._keeps_start(edges.T_cam_section, T, covariance, source)
            ):
                most_found = edges.inlier_ratio >= self.config.single_marker_min_edge_inliers
                return edges.T_cam_section, edges.covariance, source + "+edges", most_found
        return T, covariance, source, False

    def _icp_covariance(self, icp: IcpResult) -> FloatArray | None:
        """(6, 6) pose covariance from ICP's information, or None when it is not believed.

        Believed when the structure explains `TrackerConfig.icp_min_fitness` of the depth
        points and they constrain all six directions; floored (`ICP_POSE_SIGMA_FLOOR`).
        """
        if icp.fitness < self.config.icp_min_fitness:
            return None
        if np.linalg.matrix_rank(icp.information) < 6 or not np.isfinite(icp.rms_after_m):
            return None
        sigma2 = max(icp.rms_after_m, MIN_DEPTH_SIGMA_M) ** 2
        floor = np.diag([ICP_POSE_SIGMA_FLOOR[0] ** 2] * 3 + [ICP_POSE_SIGMA_FLOOR[1] ** 2] * 3)
        return sigma2 * np.linalg.inv(icp.information) + floor

    def _confirmed_by_depth(
        self, icp: IcpResult, T: FloatArray, covariance: FloatArray | None
    ) -> FloatArray | None:
        """The pose's covariance once depth confirms it, though ICP could not improve it.

        Where the depth's fit hardly changes over a few millimetres (half the points on
        parts the structure model lacks), ICP may end a few millimetres from a pose that is
        already right without lowering its cost, and is not accepted. Its information still
        holds: where it ended lies inside the pose's own confidence region
        (`TrackerConfig.marker_agreement_chi2`), so the depth pins the pose down at least
        that well. Its covariance, inflated until where it ended lies on its 95 % bound, is
        fused with the pose's, which stays (its fit was the better one). Without this, on the
        inspection benchmark's walks with depth, half the frames rested on one far marker
        and the motion: 95 % bounds of 2-5 cm, true errors of 1-6 mm, reported ``lost``.
        None when ICP did not run, is not believed or ended elsewhere.
        """
        if covariance is None or icp.T_converged is None:
            return None
        depth_covariance = self._icp_covariance(icp)
        if depth_covariance is None:
            return None
        delta = left_perturbation(icp.T_converged, T)
        if float(delta @ np.linalg.pinv(covariance) @ delta) > self.config.marker_agreement_chi2:
            return None
        spread = float(delta @ np.linalg.solve(depth_covariance, delta)) / CHI2_6DOF_95
        return fuse_poses(T, covariance, T, depth_covariance * max(spread, 1.0))[1]

    def _keeps_start(
        self, T: FloatArray, T_start: FloatArray, cov_start: FloatArray | None, source: str
    ) -> bool:
        """A refinement must stay inside the confidence region of the marker pose it began at."""
        if cov_start is None or not source.startswith("markers"):
            return True
        delta = left_perturbation(T, T_start)
        mahalanobis2 = float(delta @ np.linalg.pinv(cov_start) @ delta)
        return mahalanobis2 <= self.config.marker_agreement_chi2

    def _judge(
        self,
        im_id: int,
        T: FloatArray | None,
        covariance: FloatArray | None,
        source: str,
        rms: float,
        reinit: bool,
        confirmed: bool,
        estimate: PoseEstimate | None,
        times: dict[str, float],
    ) -> FrameResult:
        n_markers = (
            len(estimate.inlier_markers)
            if estimate is not None and source.startswith("markers")
            else 0
        )
        if T is None or covariance is None:
            return FrameResult(
                im_id, "lost", T, rms, covariance, np.inf, 0.0, source, n_markers, times
            )
        bound = translation_bound95_m(covariance, T)
        quality = float(np.clip(1.0 - bound / self.config.max_bound95_m, 0.0, 1.0))
        # One small marker's pose is ambiguous (two mirror solutions, and a tilt that swings
        # the camera by decimetres a few metres away), and the edges may settle near a wrong
        # one with a small covariance: a track starts from a single marker only when ICP on
        # depth moved or confirmed its pose within the marker's own confidence region, or
        # when the structure's edges were found along most of their length.
        trusted = bound <= self.config.max_bound95_m and not (
            reinit and n_markers < MIN_MARKERS_TO_START and not confirmed
        )
        if trusted:
            status = "reinitialised" if reinit else "tracked"
        elif n_markers >= MIN_MARKERS_TO_REINITIALISE:
            status = "reinitialised"  # a fresh marker pose, flagged by its low quality
        else:
            status = "lost"
        return FrameResult(
            im_id, status, T, rms, covariance, bound, quality, source, n_markers, times
        )

    def _remember(
        self, result: FrameResult, timestamp_s: float | None, T_world_cam: FloatArray | None
    ) -> None:
        if result.status == "lost":
            self._lost = True
            self._frames_lost += 1
            return
        self._lost = result.bound95_m > self.config.max_bound95_m
        self._frames_lost = 0
        self._history = [
            *self._history[-1:],
            (timestamp_s, result.T_cam_section, result.covariance),
        ]
        self._last_headset = T_world_cam
