"""The whole inspection of a recording: pose, detection, expected view, matching, fusion.

This is what ``arinspect inspect`` (and the demo) run. Frames are processed in order, one
at a time (memory stays flat however long the recording). Several passes over the section
(a second walk to look at what the first left unverified) can be inspected together: each
is tracked on its own, and every part is decided on the looks of all of them. Unless
`InspectionConfig.read_ahead` is off, a worker thread reads each frame, finds its markers
and runs the part detector on it while the main thread tracks the pose of the frame before
and gathers its evidence (onnxruntime, OpenCV and the image decoders release the GIL, so
the two share the cores): at most two frames are in memory. Per-stage times are kept for
the benchmark: ``read``, ``pose_detect`` (the markers) and ``detect`` are the worker's
own, ``frame_wait`` what the main thread still waited for them.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from arinspect.cad.catalog import load_catalog
from arinspect.cad.section import Part, Section
from arinspect.camera import CameraModel
from arinspect.detect.runtime import Detection, PartDetector
from arinspect.inspection.edge_support import EdgeSupportConfig, PartEdgeSupport
from arinspect.inspection.evidence import (
    FrameKey,
    LookCriteria,
    PartLook,
    depth_shares,
    frame_looks,
)
from arinspect.inspection.expected import ExpectedViewer, part_hulls_section
from arinspect.inspection.fusion import (
    FusionConfig,
    PartFinding,
    SupportIfMoved,
    at_place_by_depth,
    at_place_by_edges,
    common_pose_sigma_m,
    decide_all,
    detections_offset,
    edges_confirm_move,
    edges_show_it_moved_off_an_empty_place,
    judged_by_edges,
    mount_prior,
    stretched_offsets,
    suggests_a_move,
)
from arinspect.inspection.matching import Match, box_centre, match_frame
from arinspect.inspection.offset_refine import LookImage, OffsetRefineConfig, refine_offset
from arinspect.inspection.unexpected import UnexpectedCollector, UnexpectedObject
from arinspect.pose.backwards import FrameMotion, is_lost, track_backwards
from arinspect.pose.marker_detection import MarkerDetection, MarkerDetector
from arinspect.pose.refine_edges import gradient_pyramid
from arinspect.pose.track_recording import recording_motion
from arinspect.pose.tracker import FrameResult, PoseTracker, TrackerConfig
from arinspect.recording.bop import Recording
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray, UInt8Image


@dataclass(frozen=True)
class InspectionConfig:
    """Settings of an inspection.

    Attributes:
        tracker: Pose tracking.
        criteria: When a look at a part counts.
        fusion: Decision thresholds.
        visibility_scale: Resolution of the expected-view cast relative to the frames.
        max_move_m: Largest displacement still matched to its part (beyond: missing plus
            unexpected), metres.
        min_score: Detections below this score are dropped.
        edge_support: How much of a part's own edges a good look shows at its place.
        refine_offsets: Refine a misplaced part's offset by its own edges, and check by them
            a present part whose detections suggest a move (`suggests_a_move`).
        offset_refine: How.
        offset_refine_looks: In at most this many of its good looks (the best ones).
        judge_moves_by_depth: Put a misplaced part back at its place where depth, in the
            frames that have it, sees it there and not where its offset puts it
            (`fusion.at_place_by_depth`).
        track_backwards: Track the frames lost before a track (re)started backwards from it
            and judge them with that pose (`arinspect.pose.backwards`), once the pass is
            over (a live view, `on_frame`, still sees each frame as tracked forwards).
        read_ahead: Read the next frame, find its markers and detect its parts in a worker
            thread while the current one is tracked (off: one frame at a time in the
            calling thread, for processes that already share the cores out, as batch
            workers do).
    """

    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    criteria: LookCriteria = field(default_factory=LookCriteria)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    visibility_scale: float = 0.25
    max_move_m: float = 0.25
    min_score: float = 0.4
    edge_support: EdgeSupportConfig = field(default_factory=EdgeSupportConfig)
    refine_offsets: bool = True
    offset_refine: OffsetRefineConfig = field(default_factory=OffsetRefineConfig)
    offset_refine_looks: int = 6
    judge_moves_by_depth: bool = True
    read_ahead: bool = True
    track_backwards: bool = True


@dataclass(frozen=True)
class FrameRecord:
    """What the inspection kept of one frame (for the report).

    Attributes:
        im_id: Frame.
        pose_status: Tracker status.
        pose_quality: Tracker quality, 0-1.
        T_cam_section: (4, 4) pose, metres, or None.
        detections: The frame's detections.
        matches: Detections assigned to parts.
        pass_index: The pass (recording) the frame belongs to.
    """

    im_id: int
    pose_status: str
    pose_quality: float
    T_cam_section: FloatArray | None
    detections: list[Detection]
    matches: list[Match]
    pass_index: int = 0

    @property
    def frame(self) -> FrameKey:
        """(pass index, frame id)."""
        return (self.pass_index, self.im_id)


@dataclass
class InspectionResult:
    """Findings of one recording, or of several passes over the section.

    Attributes:
        section: The section.
        camera: Camera of the frames.
        findings: One per part, in section order.
        unexpected: Detected objects matching no part.
        frames: Per-frame records, pass after pass.
        stage_times_s: Wall time per stage over the whole recording, seconds.
        wall_s: Total wall time, seconds.
    """

    section: Section
    camera: CameraModel
    findings: list[PartFinding]
    unexpected: list[UnexpectedObject]
    frames: list[FrameRecord]
    stage_times_s: dict[str, float]
    wall_s: float

    def counts(self) -> dict[str, int]:
        """Number of parts per status, plus ``unexpected``."""
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.status] = counts.get(finding.status, 0) + 1
        counts["unexpected"] = len(self.unexpected)
        return counts


class Inspector:
    """Inspects recordings of one section with one camera (detector and scenes built once).

    Args:
        section: The section as drawn.
        camera: Intrinsics of the frames.
        detector: The part detector.
        config: Settings.
    """

    def __init__(
        self,
        section: Section,
        camera: CameraModel,
        detector: PartDetector,
        config: InspectionConfig = InspectionConfig(),
    ) -> None:
        self.section = section
        self.camera = camera
        self.detector = detector
        self.config = config
        scene = SectionScene(section)
        self.viewer = ExpectedViewer(scene, camera, config.visibility_scale)
        self.label_of_part = {lab.id: lab.index for lab in scene.labels if lab.kind == "part"}
        self.parts_by_id = {part.id: part for part in section.parts}
        hulls = part_hulls_section(section)
        self.drawn_boxes = [
            (part.class_name, hulls[part.id].min(axis=0), hulls[part.id].max(axis=0))
            for part in section.parts
        ]
        catalog = load_catalog()
        self.mounts = {name: entry.mount for name, entry in catalog.classes.items()}
        self.edge_support = PartEdgeSupport(
            section, scene, camera, config.edge_support, self.mounts
        )

    def inspect(
        self,
        recording: Recording,
        progress: Callable[[int, int], None] | None = None,
        on_frame: Callable[[FrameRecord, UInt8Image], None] | None = None,
    ) -> InspectionResult:
        """Run pose, detection and evidence over every frame, then decide every part.

        Args:
            recording: The frames, in order.
            progress: Called with (frames done, frames in all) after each frame.
            on_frame: Called after each frame with its record (tracked ``T_cam_section``)
                and its BGR image, before the next frame is processed (a headset acting
                live). It sees the frame as tracked forwards: a ``lost`` frame's record has
                no matches yet, and the result may hold another one for it
                (`InspectionConfig.track_backwards`).
        """
        return self.inspect_passes([recording], progress, on_frame)

    def inspect_passes(
        self,
        recordings: Sequence[Recording],
        progress: Callable[[int, int], None] | None = None,
        on_frame: Callable[[FrameRecord, UInt8Image], None] | None = None,
    ) -> InspectionResult:
        """Inspect several passes over the section (recordings of this camera) as one.

        Each pass is tracked on its own, from its first frame; the looks of all of them
        decide every part (a part one pass could not see well, another may), and the poses'
        common error and the correlation of consecutive looks are counted pass by pass.

        Args:
            recordings: The passes, each with its frames in order.
            progress: Called with (frames done, frames in all passes) after each frame.
            on_frame: As for `inspect`; the record's ``pass_index`` says which pass.

        Raises:
            ValueError: no recordings.
        """
        if not recordings:
            raise ValueError("no recordings to inspect")
        started = time.perf_counter()
        times: dict[str, float] = {}
        looks: dict[str, list[PartLook]] = {}
        unexpected = UnexpectedCollector()
        records: list[FrameRecord] = []
        total = sum(len(recording.frame_ids) for recording in recordings)
        for pass_index, recording in enumerate(recordings):
            done_before = len(records)

            def pass_progress(done: int, _: int, before: int = done_before) -> None:
                if progress:
                    progress(before + done, total)

            self._track_pass(
                pass_index, recording, looks, unexpected, records, times, pass_progress, on_frame
            )
        clock = time.perf_counter()
        poses = {r.frame: r.T_cam_section for r in records if r.T_cam_section is not None}

        # The parts judged again share their frames; read each once (up to 32 frames:
        # about 80 MB of gradients and 40 MB of depth at 640x480).
        @functools.lru_cache(maxsize=32)
        def frame_gradient(frame: FrameKey) -> tuple[FloatArray, FloatArray]:
            pass_index, im_id = frame
            return gradient_pyramid(recordings[pass_index].bgr(im_id), 1)[0]

        def support_if_moved(
            part: Part, offset_m: FloatArray, frames: Sequence[FrameKey]
        ) -> list[float]:
            """Edge support of a misplaced part where its detections put it (frames re-read)."""
            shown = []
            for frame in frames:
                value = self.edge_support.support(
                    frame_gradient(frame), poses[frame], part, offset_m
                )
                if value is not None:
                    shown.append(value)
            return shown

        findings = decide_all(
            self.section.parts, self.mounts, looks, self.config.fusion, support_if_moved
        )
        if self.config.refine_offsets:
            findings = [
                self._judged_by_its_edges(
                    finding, looks.get(finding.part_id, []), frame_gradient, poses, support_if_moved
                )
                for finding in findings
            ]

        @functools.lru_cache(maxsize=32)
        def frame_depth(frame: FrameKey) -> np.ndarray | None:
            pass_index, im_id = frame
            return recordings[pass_index].depth_m(im_id)

        if self.config.judge_moves_by_depth:
            findings = [
                self._judged_by_depth(finding, looks.get(finding.part_id, []), frame_depth, poses)
                for finding in findings
            ]
        _lap(times, "fuse", clock)
        return InspectionResult(
            self.section,
            self.camera,
            findings,
            unexpected.reported(self.drawn_boxes),
            records,
            times,
            time.perf_counter() - started,
        )

    def _track_pass(
        self,
        pass_index: int,
        recording: Recording,
        looks: dict[str, list[PartLook]],
        unexpected: UnexpectedCollector,
        records: list[FrameRecord],
        times: dict[str, float],
        progress: Callable[[int, int], None],
        on_frame: Callable[[FrameRecord, UInt8Image], None] | None,
    ) -> None:
        """Track one pass frame by frame; gather its looks, unexpected objects and records.

        With `InspectionConfig.track_backwards`, a ``lost`` frame's evidence waits until
        the pass is over: the frames lost before a track started or restarted are then
        tracked backwards from it (`arinspect.pose.backwards`), and each such frame counts
        with its backward pose where that is trusted, else with its forward one.
        `on_frame` sees every frame as it was tracked forwards.
        """
        tracker = PoseTracker(self.section, self.camera, self.config.tracker)
        motion = recording_motion(recording)
        ids = recording.frame_ids
        poses: list[FrameResult] = []
        pass_records: list[FrameRecord] = []
        waiting: list[int] = []  # lost frames whose evidence waits for the backward pass
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-detect") as worker:
            read = worker.submit if self.config.read_ahead else _done
            markers = tracker.detector  # used by the worker alone until the pass is over
            upcoming = read(self._read_and_detect, recording, ids[0], markers) if ids else None
            for k, im_id in enumerate(ids, start=1):
                clock = time.perf_counter()
                frame = upcoming.result()
                _lap(times, "frame_wait", clock)
                if k < len(ids):
                    upcoming = read(self._read_and_detect, recording, ids[k], markers)
                for stage, seconds in frame.stage_s.items():
                    times[stage] = times.get(stage, 0.0) + seconds
                pose = tracker.process(
                    im_id, frame.image, frame.depth_m, *motion(k - 1), markers=frame.markers
                )
                _add_pose_times(times, pose)
                poses.append(pose)
                if self.config.track_backwards and pose.status == "lost":
                    waiting.append(k - 1)
                    matches = []
                else:
                    matches = self._posed_evidence(
                        (pass_index, im_id), frame, pose, looks, unexpected, times
                    )
                record = FrameRecord(
                    im_id,
                    pose.status,
                    pose.quality,
                    pose.T_cam_section,
                    frame.detections,
                    matches,
                    pass_index,
                )
                pass_records.append(record)
                if on_frame:
                    on_frame(record, frame.image)
                progress(k, len(ids))
        if waiting:
            self._evidence_of_lost_frames(
                pass_index,
                recording,
                motion,
                tracker,
                poses,
                waiting,
                pass_records,
                looks,
                unexpected,
                times,
            )
        records.extend(pass_records)

    def _evidence_of_lost_frames(
        self,
        pass_index: int,
        recording: Recording,
        motion: FrameMotion,
        tracker: PoseTracker,
        poses: list[FrameResult],
        waiting: list[int],
        pass_records: list[FrameRecord],
        looks: dict[str, list[PartLook]],
        unexpected: UnexpectedCollector,
        times: dict[str, float],
    ) -> None:
        """Track the pass's lost frames backwards; gather their evidence with the better pose.

        `waiting` holds the indices (into `poses` and `pass_records`) of the lost frames,
        whose records are replaced. Their evidence is gathered after the rest of the pass's,
        so a part's looks are not in frame order (nothing downstream needs them to be).
        """
        ids = recording.frame_ids

        def images(index: int) -> tuple[UInt8Image, np.ndarray | None]:
            clock = time.perf_counter()
            image, depth = recording.bgr(ids[index]), recording.depth_m(ids[index])
            _lap(times, "read", clock)
            return image, depth

        backwards = track_backwards(tracker, poses, motion, images, is_lost)
        for index in waiting:
            pose = backwards.get(index, poses[index])
            if index in backwards:
                _add_pose_times(times, pose)
            matches = []
            if self._usable(pose):  # read the frame again only when it can give evidence
                # tracked already: its markers and stage times are not needed again
                frame = _FrameInputs(*images(index), pass_records[index].detections, [], {})
                matches = self._posed_evidence(
                    (pass_index, ids[index]), frame, pose, looks, unexpected, times
                )
            pass_records[index] = replace(
                pass_records[index],
                pose_status=pose.status,
                pose_quality=pose.quality,
                T_cam_section=pose.T_cam_section,
                matches=matches,
            )

    def _usable(self, pose: FrameResult) -> bool:
        """Whether a frame's pose is good enough for evidence (`LookCriteria.max_pose_bound_m`)."""
        return (
            pose.T_cam_section is not None
            and pose.bound95_m <= self.config.criteria.max_pose_bound_m
        )

    def _posed_evidence(
        self,
        frame_key: FrameKey,
        frame: _FrameInputs,
        pose: FrameResult,
        looks: dict[str, list[PartLook]],
        unexpected: UnexpectedCollector,
        times: dict[str, float],
    ) -> list[Match]:
        """A frame's evidence when its pose is good enough (`_usable`)."""
        if not self._usable(pose):
            return []
        return self._frame_evidence(
            frame_key,
            frame.image,
            pose.T_cam_section,
            pose.quality,
            pose.bound95_m,
            frame.detections,
            frame.depth_m,
            looks,
            unexpected,
            times,
        )

    def _read_and_detect(
        self, recording: Recording, im_id: int, markers: MarkerDetector
    ) -> _FrameInputs:
        """Read a frame, find its markers and detect its parts (above `min_score`).

        What needs only the image is done here, in the reader thread when reading ahead
        (`InspectionConfig.read_ahead`): ``read``, ``detect`` and the markers' search,
        counted as the tracker's ``pose_detect`` stage.
        """
        clock = time.perf_counter()
        image = recording.bgr(im_id)
        depth = recording.depth_m(im_id)
        read_s = time.perf_counter() - clock
        clock = time.perf_counter()
        found = markers.detect(image)
        markers_s = time.perf_counter() - clock
        clock = time.perf_counter()
        detections = [d for d in self.detector.detect(image) if d.score >= self.config.min_score]
        stage_s = {
            "read": read_s,
            "pose_detect": markers_s,
            "detect": time.perf_counter() - clock,
        }
        return _FrameInputs(image, depth, detections, found, stage_s)

    def _judged_by_its_edges(
        self,
        finding: PartFinding,
        looks: Sequence[PartLook],
        frame_gradient: Callable[[FrameKey], tuple[FloatArray, FloatArray]],
        poses: dict[FrameKey, FloatArray],
        support_if_moved: SupportIfMoved,
    ) -> PartFinding:
        """A finding judged once more by the part's own edges, where a move is in question.

        A ``misplaced`` part's offset is refined by its edges (`_refined`); it is
        ``present`` after all where its best good looks show clearly more of its edges at
        its drawn place than at that offset (`at_place_by_edges`). A ``present`` part whose
        detections suggest a move (`suggests_a_move`), and a ``missing`` one whose place
        was seen empty although it was detected in most good looks (`_detected_yet_missing`),
        are ``misplaced`` where the edges confirm the move (`_move_confirmed_by_edges`).
        Other findings stand.
        """
        part = self.parts_by_id[finding.part_id]
        if finding.status == "misplaced":
            refined = self._refined(finding, looks, frame_gradient, poses)
            if refined.status != "misplaced" or refined.offset_m is None:
                return refined
            # judged in the looks the refinement read: their images are at hand
            measured = [
                (look.frame, look.edge_support)
                for look in self._best_good_looks(looks)
                if look.edge_support is not None
            ]
            there = support_if_moved(part, refined.offset_m, [frame for frame, _ in measured])
            drawn = [shown for _, shown in measured]
            return at_place_by_edges(refined, drawn, there, self.config.fusion)
        if suggests_a_move(part, finding, self.config.fusion):
            candidate = replace(finding, status="misplaced")
        elif (candidate := self._detected_yet_missing(part, finding, looks)) is None:
            return finding
        confirmed = self._move_confirmed_by_edges(
            part,
            candidate,
            looks,
            frame_gradient,
            poses,
            support_if_moved,
            place_seen_empty=finding.status == "missing",
        )
        return finding if confirmed is None else confirmed

    def _detected_yet_missing(
        self, part: Part, finding: PartFinding, looks: Sequence[PartLook]
    ) -> PartFinding | None:
        """A ``missing`` part detected in most good looks, as a candidate move, or None.

        Depth or the image's edges saw its place empty, so its detections were taken for
        something else there (`fusion.decide`); but a part moved a few centimetres is
        boxed near its place, its box lagging behind it, while its place is seen empty:
        on the inspection benchmark (2026-12-02) four moves of 4-9 cm (two brackets, a
        clamp, a sleeve), each detected in most good looks, had been ``missing`` so. The
        candidate is ``misplaced`` at the detections' offset (`detections_offset`), for
        the edges to confirm or not.
        """
        fusion = self.config.fusion
        if finding.status != "missing" or finding.detected_looks < max(
            1, fusion.present_rate * finding.good_looks
        ):
            return None
        mount = self.mounts[part.class_name]
        offset = detections_offset(part, mount, looks, fusion)
        if offset is None:
            return None
        return replace(finding, status="misplaced", offset_m=offset[0], offset_sigma_m=offset[1])

    def _move_confirmed_by_edges(
        self,
        part: Part,
        candidate: PartFinding,
        looks: Sequence[PartLook],
        frame_gradient: Callable[[FrameKey], tuple[FloatArray, FloatArray]],
        poses: dict[FrameKey, FloatArray],
        support_if_moved: SupportIfMoved,
        place_seen_empty: bool,
    ) -> PartFinding | None:
        """A candidate move confirmed by the part's edges, or None.

        The offset is refined by the edges, searched for also beyond the detections'
        offset as their boxes lag (`_refined`); it must be a move (`judged_by_edges`) no
        longer than `FusionConfig.max_offset_m` (searched for from a neighbour's
        detections, the edges put four removed brackets 22-29 cm away on the benchmark).
        The image must show clearly more of the part's edges there than at its drawn
        place (`edges_confirm_move`), or, where its place was seen empty, more than at its
        place and than a removed part's place shows
        (`edges_show_it_moved_off_an_empty_place`). Without that test the refinement,
        which starts from the detections' offset, "confirmed" ten parts in place on the
        inspection benchmark (docs/inspection.md).
        """
        good = [look for look in looks if look.good]
        at_place = [look.edge_support for look in good if look.edge_support is not None]
        if len(at_place) < self.config.fusion.edge_min_looks:
            return None  # too few looks measured its edges at its place for either test
        refined = self._refined(candidate, looks, frame_gradient, poses, lagging=True)
        if (
            refined.status != "misplaced"
            or refined.offset_mm > self.config.fusion.max_offset_m * 1000
        ):
            return None
        there = support_if_moved(part, refined.offset_m, [look.frame for look in good])
        confirms = (
            edges_show_it_moved_off_an_empty_place(at_place, there, self.config.fusion)
            if place_seen_empty
            else edges_confirm_move(at_place, there, self.config.fusion)
        )
        if not confirms:
            return None
        shown = f"{float(np.median(there)):.0%} of its edges there against"
        return replace(
            refined,
            reason=f"{refined.reason}; the image shows {shown}"
            f" {float(np.median(at_place)):.0%} at its place",
        )

    def _judged_by_depth(
        self,
        finding: PartFinding,
        looks: Sequence[PartLook],
        frame_depth: Callable[[FrameKey], np.ndarray | None],
        poses: dict[FrameKey, FloatArray],
    ) -> PartFinding:
        """A ``misplaced`` finding judged once more by depth, where the frames have depth.

        In the part's best `InspectionConfig.offset_refine_looks` good looks with depth
        (read again; the passes of an inspection may differ), the share of its telling
        depth pixels that see it at its drawn place is compared with the share where its
        offset puts it, cast the same way (`ExpectedViewer.part_pixels`); depth that
        sees it at its place and not there puts it back (`at_place_by_depth`). Other
        findings stand.
        """
        if finding.status != "misplaced" or finding.offset_m is None:
            return finding
        with_depth = (
            (look, observed)
            for look in self._good_looks_by_worth(looks)
            if (observed := frame_depth(look.frame)) is not None
        )
        at_place, where_moved = [], []
        for look, observed in itertools.islice(with_depth, self.config.offset_refine_looks):
            seen = [
                self._depth_seen(finding.part_id, poses[look.frame], observed, offset)
                for offset in (np.zeros(3), finding.offset_m)
            ]
            if None not in seen:
                at_place.append(seen[0])
                where_moved.append(seen[1])
        return at_place_by_depth(finding, at_place, where_moved, self.config.fusion)

    def _depth_seen(
        self, part_id: str, T_cam_section: FloatArray, observed_m: np.ndarray, offset_m: FloatArray
    ) -> float | None:
        """Share of a part's telling depth pixels that see it moved by `offset_m` (metres)."""
        pixels = self.viewer.part_pixels(T_cam_section, part_id, offset_m)
        seen, _ = depth_shares(
            pixels.depth_m,
            pixels.depth_behind_m,
            observed_m[pixels.rows, pixels.cols],
            self.config.criteria.depth_noise_m,
        )
        return seen

    def _refined(
        self,
        finding: PartFinding,
        looks: Sequence[PartLook],
        frame_gradient: Callable[[FrameKey], tuple[FloatArray, FloatArray]],
        poses: dict[FrameKey, FloatArray],
        lagging: bool = False,
    ) -> PartFinding:
        """A misplaced part's offset refined by its own edges in its best good looks.

        `lagging`: the boxes put the part barely away, as a box lagging far behind a moved
        part does; the search may then also start from their offset stretched along the
        mount (`stretched_offsets`). A part the boxes already put clearly away
        is searched for from their offset alone: stretched starts took some of those onto
        repeated edges beyond them on the inspection benchmark (offset error p90 41 -> 58
        mm over eight sets).
        """
        part = self.parts_by_id[finding.part_id]
        mount = self.mounts[part.class_name]
        images = [
            LookImage(poses[look.frame], frame_gradient(look.frame))
            for look in self._best_good_looks(looks)
        ]
        sigma = max(finding.offset_sigma_m, 0.01) * self.config.offset_refine.prior_scale
        prior = np.eye(3) / sigma**2 + mount_prior(part, mount, self.config.fusion.mount_sigma_m)
        refined = refine_offset(
            self.edge_support,
            part,
            images,
            finding.offset_m,
            prior,
            self.config.offset_refine,
            stretched_offsets(part, mount, finding.offset_m, self.config.fusion) if lagging else (),
        )
        if refined is None:
            return finding
        # The poses of one pass err together: their common error is added once.
        good = [look for look in looks if look.good]
        pose_sigma = common_pose_sigma_m(good, self.config.fusion)
        covariance = refined.covariance + np.eye(3) * pose_sigma**2
        return judged_by_edges(part, finding, refined.offset_m, covariance, self.config.fusion)

    def _best_good_looks(self, looks: Sequence[PartLook]) -> list[PartLook]:
        """The `InspectionConfig.offset_refine_looks` good looks of a part worth the most."""
        return self._good_looks_by_worth(looks)[: self.config.offset_refine_looks]

    @staticmethod
    def _good_looks_by_worth(looks: Sequence[PartLook]) -> list[PartLook]:
        """A part's good looks, the most worth first (`PartLook.weight`)."""
        return sorted((look for look in looks if look.good), key=lambda look: -look.weight)

    def _frame_evidence(
        self,
        frame_key: FrameKey,
        image: UInt8Image,
        T_cam_section: FloatArray,
        pose_quality: float,
        pose_bound95_m: float,
        detections: list[Detection],
        depth: np.ndarray | None,
        looks: dict[str, list[PartLook]],
        unexpected: UnexpectedCollector,
        times: dict[str, float],
    ) -> list[Match]:
        pass_index, im_id = frame_key
        clock = time.perf_counter()
        view = self.viewer.view(T_cam_section)
        _lap(times, "expected_view", clock)
        clock = time.perf_counter()
        expected = list(view.parts.values())
        matches, unmatched = match_frame(
            expected, detections, float(self.camera.K[0, 0]), self.config.max_move_m
        )
        edge_seconds_before = times.get("edge_support", 0.0)

        def edge_support(part_ids: list[str]) -> list[float | None]:
            since = time.perf_counter()
            shown = self.edge_support.supports(
                gradient_pyramid(image, 1)[0],
                T_cam_section,
                [self.parts_by_id[part_id] for part_id in part_ids],
            )
            _lap(times, "edge_support", since)
            return shown

        frame = frame_looks(
            im_id,
            view,
            self.label_of_part,
            matches,
            [d.score for d in detections],
            [d.box_xyxy_px for d in detections],
            self.camera,
            T_cam_section,
            pose_quality,
            pose_bound95_m,
            depth,
            self.config.criteria,
            edge_support,
            lambda part_id: self.viewer.part_pixels(T_cam_section, part_id),
            pass_index,
        )
        for part_id, look in frame.items():
            looks.setdefault(part_id, []).append(look)
        for i in unmatched:
            det = detections[i]
            u, v = box_centre(det.box_xyxy_px)
            unexpected.add(
                im_id, det.class_name, det.score, det.box_xyxy_px, view.point_at(u, v), pass_index
            )
        _lap(times, "match_evidence", clock)
        # edge_support is timed on its own: keep it out of the matching's time
        times["match_evidence"] -= times.get("edge_support", 0.0) - edge_seconds_before
        return matches


@dataclass(frozen=True)
class _FrameInputs:
    """A frame as read, its part detections and markers, and the seconds per stage."""

    image: UInt8Image
    depth_m: np.ndarray | None
    detections: list[Detection]
    markers: list[MarkerDetection]
    stage_s: dict[str, float]


def _done(function: Callable[..., _FrameInputs], *args: object) -> Future[_FrameInputs]:
    """`function(*args)` run now, in this thread, as a finished future."""
    future: Future[_FrameInputs] = Future()
    try:
        future.set_result(function(*args))
    except Exception as exc:  # re-raised by result(), as from a worker thread
        future.set_exception(exc)
    return future


def _add_pose_times(times: dict[str, float], pose: FrameResult) -> None:
    """Add a frame's tracking stage times to `times` (as ``pose_<stage>``)."""
    for stage, seconds in pose.stage_times_s.items():
        times[f"pose_{stage}"] = times.get(f"pose_{stage}", 0.0) + seconds


def _lap(times: dict[str, float], stage: str, since: float) -> None:
    times[stage] = times.get(stage, 0.0) + time.perf_counter() - since
