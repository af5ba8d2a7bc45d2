"""Deciding each part's status from all the looks of a recording.

- ``missing``: good looks at the part (enough in view, large enough, good pose) where
  the detector did not find it at its place, and depth (where there is depth) does not see
  it either. Looks of one pass are correlated, so at most `FusionConfig.independent_looks`
  of each pass count; an inspection may fuse several passes over the section (a second
  walk to see what the first could not), each bringing its own.
- ``present`` / ``misplaced``: the part was detected near its place. Its 3-D offset in the
  section frame is fused by least squares from the per-frame shifts of the detection
  against the projected part (each frame constrains two directions; different viewing
  directions constrain all three), with a prior that keeps it on its mounting surface
  (surface parts) or on its pipe axis (inline parts); offsets measured by depth join it
  where the box centres do not contradict them. It is ``misplaced`` when the offset
  exceeds the part's tolerance by more than `offset_sigmas` standard deviations and is at
  least `min_offset_m`: what the detector's box noise allows to be told apart.
  A fused offset beyond `FusionConfig.max_offset_m` by more than its uncertainty allows
  means the matched detections were another object (a neighbour of the same class), and
  the part is judged as if undetected; one beyond it but uncertain along a direction the
  views barely constrain (a sleeve seen down its pipe) leaves the part ``not_verified``.
- Depth, or the image's edges, overrule detections at the part's place: where depth sees
  the steel behind the place in the part's good looks, or the image shows almost none of
  the part's own drawn edges there (`inspection.edge_support`), detections that put the
  part there are of something else, and the part is ``missing`` (``not_verified`` when
  only depth sees the place empty and the views cannot tell where the detections put it);
  detections that measured a move stand (``misplaced``), unless the image shows no more of
  the part's edges where they put it than at its empty place, or, for weak detections, not
  clearly more: then they too are of something else (``missing``).
- The image's edges also put a part back: a ``misplaced`` part that shows clearly more of
  its edges at its drawn place than at its measured offset is ``present``
  (`at_place_by_edges`, applied once the offset is refined by the edges); so is one that
  depth sees at its drawn place and not at its measured offset (`at_place_by_depth`).
- ``not_verified``: never seen well enough, or the evidence disagrees (not detected in its
  good looks but detected at its place in partial views); never ``missing``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from arinspect.cad.section import Part
from arinspect.inspection.evidence import FrameKey, PartLook
from arinspect.typed import FloatArray

STATUSES = ("present", "missing", "misplaced", "not_verified")

UNCONSTRAINED_SIGMA_M = 1.0
"""Prior on every direction of an offset, metres: keeps a direction no look constrains
(one view along its line of sight) finite and large instead of singular."""

CHI2_3DOF_999 = 16.27
"""99.9 % quantile of the chi-square distribution with 3 degrees of freedom."""


@dataclass(frozen=True)
class FusionConfig:
    """Decision thresholds.

    Attributes:
        min_good_looks: Good looks needed to call a part missing.
        missing_rate: Largest detection rate over good looks that still means "missing".
        present_rate: Smallest detection rate over good looks that means "there".
        detector_recall: Probability the detector finds a present part in a good look
            (held-out renders), for the confidence of "missing".
        independent_looks: At most this many looks of one pass count as independent
            evidence (each pass brings its own).
        depth_present_min: Share of depth pixels at the part's depth that says "there".
        depth_absent_max: Largest median share of depth pixels at the part's depth, over
            its good looks with depth, that says "not there" ...
        depth_through_min: ... when the median share seen behind the part's surface (the
            steel it mounts on, through the place where it should be) is at least this.
            Detections at the place of a part that depth says is not there are of something
            else (a pipe through a bare hole taken for its sleeve): on the depth recordings
            of the inspection benchmark every part in its place had a median share at its
            depth of 0.6 or more, every removed one 0.1 or less.
        depth_min_looks: Fewest good looks with depth at both places for depth to put a
            ``misplaced`` part back at its drawn place (`at_place_by_depth`).
        edge_absent_max: Largest median share of the part's own drawn edges shown by the
            image, over its good looks, that says "not there" ...
        edge_min_looks: ... measured in at least this many good looks. Counting only the
            edges the structure does not make anyway, and none of flat parts' (see
            `inspection.edge_support`), the inspection benchmark's tuning recordings seen
            from their true poses gave removed parts medians of 0.00-0.15, parts in their
            place 0.21 or more (brackets; most classes 0.55 or more).
        edge_overrule_max: Largest median share that overrules detections at the part's
            place (which say it is there). Over the benchmark's three sets of recordings,
            parts detected at their place showed 0.00-0.03 of their edges when removed,
            0.14 or more when in place (handhole frames from tracked poses) or moved.
        edge_absent_max_by_class: Per class, a lower cap on both thresholds above, for
            classes whose own edges show little even when the part is there: a handhole
            frame's rim is a thin flat bar around a hole whose edge is the structure's.
            On the benchmark's first five sets (2026-12-01) removed handhole frames showed
            0.00-0.04, those in their place 0.08 or more (0.12-0.15 often, under
            `edge_absent_max`); 0.06 lies between. (Other classes: removed parts up to
            0.07-0.26, present ones from 0.16-0.51, class by class; docs/inspection.md.)
        edge_present_min: Smallest median share of the part's edges shown at its place
            (in at least `min_good_looks` good looks) that stops an undetected part from
            being called missing (a 25 px lifting lug the detector missed twice showed
            61-69 %; removed parts 0-15 %), and where weak detections put it that confirms
            it there, ...
        edge_gain: ... when that is at least this much more than at its drawn place: the
            part is then ``misplaced`` (the demo's clamp half hidden by its pipe, scored
            0.48: 0.80-0.92 where it was moved to, 0.29-0.55 at its place).
        pixel_sigma: Smallest noise of a detection's box centre, pixels.
        pixel_sigma_ratio: Noise of a detection's box centre as a share of the part's
            projected height (held-out renders: per-axis standard deviation 6-8 % of the
            box, median error 4 %); the larger of the two counts, and the fit's residual
            scatter scales it up when that is larger still.
        depth_sigma_m: Smallest noise of a depth-measured offset, metres.
        min_depth_looks: Fewest looks with a depth-measured offset (that the box centres
            do not contradict) for depth offsets to count: one look alone may have
            measured the wrong surface (a plate's edge against the steel behind it), and
            it would outweigh every box centre.
        pose_sigma_m: Floor of the offset uncertainty from the pose and the steel, metres;
            the median pose sigma of the measuring looks replaces it when larger.
        mount_sigma_m: Prior on motion off the mounting surface / pipe axis, metres.
        offset_sigmas: Standard deviations beyond the tolerance for ``misplaced``.
        min_offset_m: Smallest offset reported as ``misplaced``, metres.
        max_offset_m: Largest offset reported as ``misplaced``, metres; detections that
            imply more (by `offset_sigmas` standard deviations) are another object, and the
            part is judged as if undetected.
        partial_detections: Detections at its place in partial views (in view but not good
            looks) that stop a part undetected in its good looks from being called missing.
        min_offset_looks: Fewest looks that measured the offset (their box centre, and
            depth where there is some) for ``misplaced``: one or two box centres off by a
            fifth of the part's height are within what the detector does now and then.
            Fewer looks that put it that far are no proof that it is in its place either:
            the part is ``not_verified`` (on the inspection benchmark, a clamp moved 12 cm,
            measured 96 ± 22 mm off in two looks, had been ``present``).
        min_misplaced_score: Smallest median detector score of those looks for
            ``misplaced``; weaker, the detections may be of something else near the place
            (a bare pipe taken for the clamp removed from it, scored 0.4-0.6), and the part
            is ``not_verified``. On the inspection benchmark it keeps a correct collar plate
            (weak detections 49 mm off) and a removed one from ``misplaced`` (precision 0.96,
            0.89 without it); it also costs the demo's clamp moved 12 cm, half hidden by its
            pipe and scored 0.48 (reported ``not_verified``, 73 mm off).
        min_area_ratio: Median area of a part's detections at its place, over its expected
            visible box, below which they box something smaller than the part there (a bare
            hole, an open slot) and do not count as the part.
        area_min_looks: Fewest such detections to judge their size by.
        suggested_sigmas: A ``present`` part whose detections' offset exceeds its
            tolerance by this many standard deviations (and `min_offset_m` times
            `box_lag_ratio`) is checked again by its edges (`suggests_a_move`).
        box_lag_ratio: Share of a move that the box centres measure: a moved part's box
            lags behind it (median 0.84 of the move on the inspection benchmark,
            `inspection.offset_refine`), so a move of `min_offset_m` is boxed this much
            shorter; only for which parts the edges measure a move again.
        lag_stretches: Multiples of the boxes' offset along the mount where a part whose
            boxes lag behind it may be (`stretched_offsets`): a moved part's box centre
            moved 0.4-1.0 of the move on the benchmark. The edge refinement of a
            suggested move may start there.
        part_area_ratio: Median area of detections, over the part's expected visible box,
            from which they are the part's size (1 % of parts in place below it on the
            benchmark) and, away from a place depth sees empty, the part moved.
    """

    min_good_looks: int = 2
    missing_rate: float = 0.2
    present_rate: float = 0.4
    detector_recall: float = 0.85
    independent_looks: int = 8
    depth_present_min: float = 0.5
    depth_absent_max: float = 0.1
    depth_through_min: float = 0.8
    depth_min_looks: int = 3
    edge_absent_max: float = 0.15
    edge_overrule_max: float = 0.08
    edge_absent_max_by_class: Mapping[str, float] = field(
        default_factory=lambda: {"handhole_frame": 0.06}
    )
    edge_present_min: float = 0.5
    edge_gain: float = 0.2
    edge_min_looks: int = 3
    pixel_sigma: float = 1.5
    pixel_sigma_ratio: float = 0.05
    depth_sigma_m: float = 0.008
    min_depth_looks: int = 2
    pose_sigma_m: float = 0.003
    mount_sigma_m: float = 0.01
    offset_sigmas: float = 2.5
    min_offset_m: float = 0.03
    max_offset_m: float = 0.2
    partial_detections: int = 3
    min_offset_looks: int = 3
    min_misplaced_score: float = 0.6
    min_area_ratio: float = 0.6
    area_min_looks: int = 3
    suggested_sigmas: float = 1.5
    box_lag_ratio: float = 0.84
    lag_stretches: tuple[float, ...] = (1.25, 1.6, 2.0, 2.5)
    part_area_ratio: float = 0.8


@dataclass(frozen=True)
class PartFinding:
    """The decision about one part.

    Attributes:
        part_id: Part id.
        class_name: Catalog class.
        status: One of `STATUSES`.
        offset_m: (3,) fused offset from the drawing, section frame, metres (None when it
            could not be measured).
        offset_sigma_m: Standard deviation of the offset's length, metres.
        confidence: Confidence in the status, 0-1.
        frames_seen: Frames whose expected view shows the part.
        good_looks: Frames that looked at it well.
        detected_looks: Good looks in which the detector found it at its place.
        best_frame: Frame that shows it best (None if never in view).
        reason: Why, in words (for the report).
        best_pass: The pass (recording) `best_frame` belongs to.
    """

    part_id: str
    class_name: str
    status: str
    offset_m: FloatArray | None
    offset_sigma_m: float
    confidence: float
    frames_seen: int
    good_looks: int
    detected_looks: int
    best_frame: int | None
    reason: str
    best_pass: int = 0

    @property
    def offset_mm(self) -> float | None:
        """Length of the offset, millimetres."""
        return None if self.offset_m is None else float(np.linalg.norm(self.offset_m) * 1000.0)


def mount_prior(part: Part, mount: str, sigma_m: float) -> FloatArray:
    """(3, 3) information matrix keeping an offset on the mounting surface or pipe axis."""
    return (np.eye(3) - _along_mount_projector(part, mount)) / sigma_m**2


def along_mount(part: Part, mount: str, vector_m: FloatArray) -> FloatArray:
    """The part of a section-frame vector (metres) along the mounting surface or pipe axis."""
    return _along_mount_projector(part, mount) @ np.asarray(vector_m, dtype=np.float64)


def stretched_offsets(
    part: Part, mount: str, offset_m: FloatArray, config: FusionConfig
) -> list[FloatArray]:
    """Where a part would be if its boxes lagged behind it (section frame, metres).

    `offset_m` with its component along the mount stretched by each of
    `FusionConfig.lag_stretches`; the component off the mount, noise, is kept as it is.
    """
    offset = np.asarray(offset_m, dtype=np.float64)
    lagging = along_mount(part, mount, offset)
    return [offset + (stretch - 1.0) * lagging for stretch in config.lag_stretches]


def _along_mount_projector(part: Part, mount: str) -> FloatArray:
    """(3, 3) projector onto the directions a part can move in: its surface or pipe axis.

    Surface parts slide in their x-y plane (normal: their z axis), inline parts along their
    pipe (their x axis).
    """
    R = part.T_section_part[:3, :3]
    if mount == "inline":
        return np.outer(R[:, 0], R[:, 0])
    return np.eye(3) - np.outer(R[:, 2], R[:, 2])


def fuse_offset(
    looks: Sequence[PartLook], prior: FloatArray, config: FusionConfig
) -> tuple[FloatArray, FloatArray] | None:
    """Least-squares 3-D offset (section frame, m) and its covariance, or None without data.

    Each usable look contributes its pixel shift (two equations through its Jacobian),
    weighted by its own box-centre noise (`FusionConfig.pixel_sigma_ratio` of the part's
    height, at least `pixel_sigma`, with the pose's own noise at the part added), and, with
    depth, its measured 3-D offset (three equations). Each kind's noise is scaled up by the
    scatter of its residuals after a first solve when that is larger; looks beyond
    `independent_looks` of a pass inflate the covariance instead of shrinking it, and the
    poses' common error (`common_pose_sigma_m`) is added to it once.
    """
    pixel = [look for look in looks if look.jacobian is not None and look.shift_px is not None]
    depth = [look for look in looks if look.depth_offset_m is not None]
    prior = prior + np.eye(3) / UNCONSTRAINED_SIGMA_M**2
    noise = np.repeat([_box_centre_sigma_px(look, config) for look in pixel], 2)
    J = (
        np.concatenate([look.jacobian for look in pixel]) / noise[:, None]
        if pixel
        else np.zeros((0, 3))
    )
    shifts = (
        np.concatenate([np.asarray(look.shift_px) for look in pixel]) / noise
        if pixel
        else np.zeros(0)
    )
    if pixel and depth:
        depth = _depth_agreeing_with_pixels(depth, J, shifts, prior, config)
    if len(depth) < config.min_depth_looks:
        depth = []  # a single depth look may have measured the wrong surface
    if not pixel and not depth:
        return None
    D = np.concatenate([look.depth_offset_m for look in depth]) if depth else np.zeros(0)
    identity = np.tile(np.eye(3), (len(depth), 1))
    pixel_scale, sigma_depth = 1.0, config.depth_sigma_m
    for _ in range(2):
        information = J.T @ J / pixel_scale**2 + identity.T @ identity / sigma_depth**2 + prior
        vector = J.T @ shifts / pixel_scale**2 + identity.T @ D / sigma_depth**2
        covariance = np.linalg.inv(information)
        offset = covariance @ vector
        pixel_scale = max(_residual_rms(shifts - J @ offset), 1.0)
        sigma_depth = max(_residual_rms(D - identity @ offset), config.depth_sigma_m)
    measuring = pixel if len(pixel) >= len(depth) else depth
    correlation = len(measuring) / independent_looks(measuring, config)
    pose_sigma = common_pose_sigma_m([*pixel, *depth], config)
    covariance = covariance * correlation + np.eye(3) * pose_sigma**2
    return offset, covariance


def independent_looks(looks: Sequence[PartLook], config: FusionConfig) -> int:
    """How many of `looks` count as independent: at most `independent_looks` per pass."""
    per_pass = _by_pass(looks)
    return sum(min(len(group), config.independent_looks) for group in per_pass.values())


def detections_offset(
    part: Part, mount: str, looks: Sequence[PartLook], config: FusionConfig
) -> tuple[FloatArray, float] | None:
    """Where a part's detections in its good looks put it, however its place was judged.

    The fused offset of the good looks with a detection (`fuse_offset`, with the mount's
    prior; section frame, metres) and its standard deviation along it; None without one.
    """
    detected = [look for look in looks if look.good and look.detection is not None]
    fused = fuse_offset(detected, mount_prior(part, mount, config.mount_sigma_m), config)
    return None if fused is None else (fused[0], _length_and_sigma(fused)[1])


def common_pose_sigma_m(looks: Sequence[PartLook], config: FusionConfig) -> float:
    """Standard deviation (m) of the pose error that the looks share, pass by pass.

    The poses of one pass err together (the same markers, the same bias): averaging looks
    does not shrink their error, so it is added once, after the average (the looks' median
    pose sigma, at least `FusionConfig.pose_sigma_m`). Passes err independently of each
    other: with several, it is the error of the mean of their common errors. Without
    looks, the floor.
    """
    if not looks:
        return config.pose_sigma_m
    sigmas = [
        max(config.pose_sigma_m, float(np.median([look.pose_sigma_m for look in group])))
        for group in _by_pass(looks).values()
    ]
    return float(np.sqrt(np.sum(np.square(sigmas)))) / len(sigmas)


def _by_pass(looks: Sequence[PartLook]) -> dict[int, list[PartLook]]:
    """`looks` grouped by their pass."""
    groups: dict[int, list[PartLook]] = {}
    for look in looks:
        groups.setdefault(look.pass_index, []).append(look)
    return groups


def _box_centre_sigma_px(look: PartLook, config: FusionConfig) -> float:
    """Noise of a look's box-centre shift, pixels: the detector's and the pose's together."""
    box = max(config.pixel_sigma, config.pixel_sigma_ratio * look.height_px)
    return float(np.hypot(box, look.pose_sigma_px))


def _depth_agreeing_with_pixels(
    depth: Sequence[PartLook],
    J: FloatArray,
    shifts: FloatArray,
    prior: FloatArray,
    config: FusionConfig,
) -> list[PartLook]:
    """The depth looks whose measured offset the box centres do not contradict.

    One depth look weighs as much as dozens of box centres, so a depth offset taken on
    the wrong surface (a plate's edge seen against the steel behind it) would set the
    fused offset alone. The box centres' own estimate (whitened `J`, `shifts`, with the
    mount prior) is compared with each depth offset; beyond the 99.9 % chi-square bound
    of their joint uncertainty the depth look is not used.
    """
    covariance = np.linalg.inv(J.T @ J + prior)  # the prior holds every direction
    offset = covariance @ (J.T @ shifts)
    covariance = covariance * max(_residual_rms(shifts - J @ offset), 1.0) ** 2
    joint = covariance + np.eye(3) * config.depth_sigma_m**2
    agreeing = []
    for look in depth:
        difference = look.depth_offset_m - offset
        if difference @ np.linalg.solve(joint, difference) <= CHI2_3DOF_999:
            agreeing.append(look)
    return agreeing


def _residual_rms(residual: FloatArray) -> float:
    """RMS of residuals with 3 degrees of freedom taken by the fit (0 with too few)."""
    dof = len(residual) - 3
    return float(np.sqrt(residual @ residual / dof)) if dof > 0 else 0.0


SupportIfMoved = Callable[[Part, FloatArray, Sequence[FrameKey]], list[float]]
"""Share of a part's own edges the image shows with the part moved by an offset (section
frame, metres), in each of the given frames where enough of them are in view."""


def decide(
    part: Part,
    mount: str,
    looks: Sequence[PartLook],
    config: FusionConfig = FusionConfig(),
    support_if_moved: SupportIfMoved | None = None,
) -> PartFinding:
    """The status of `part` from its looks over the recording.

    Args:
        part: The part.
        mount: Its class's mount (``surface`` or ``inline``).
        looks: Its looks, in frame order.
        config: Thresholds.
        support_if_moved: Measures the image's edges where detections put a misplaced part
            (`SupportIfMoved`); without it a move rests on the detections alone.
    """
    good = [look for look in looks if look.good]
    detected = [look for look in good if look.detection is not None]
    best = _best_look(looks, prefer_detected=bool(detected))
    base = {
        "part_id": part.id,
        "class_name": part.class_name,
        "frames_seen": len(looks),
        "good_looks": len(good),
        "detected_looks": len(detected),
        "best_frame": None if best is None else best.im_id,
        "best_pass": 0 if best is None else best.pass_index,
    }
    depth_looks = [look for look in good if look.depth_present is not None]
    depth = [look.depth_present for look in depth_looks]
    depth_says_there = bool(depth) and float(np.median(depth)) >= config.depth_present_min
    through = [look.depth_through for look in good if look.depth_through is not None]
    depth_says_absent = (
        len(depth) >= config.min_good_looks
        and float(np.median(depth)) <= config.depth_absent_max
        and float(np.median(through)) >= config.depth_through_min
    )
    edge_looks = [look for look in good if look.edge_support is not None]
    edges = [look.edge_support for look in edge_looks]
    absent_max = _edge_max(config.edge_absent_max, part, config)
    edges_say_absent = len(edges) >= config.edge_min_looks and float(np.median(edges)) <= absent_max
    place_empty = depth_says_absent or edges_say_absent
    empty_because = ""  # why the place is seen empty, for the reason
    if depth_says_absent:
        empty_because = f"depth sees through its place in its {len(depth)} good looks with depth"
    elif edges_say_absent:
        empty_because = (
            f"the image shows {float(np.median(edges)):.0%} of its drawn edges in its"
            f" {len(edges)} good looks"
        )
    if len(good) < config.min_good_looks:
        if not looks:
            return PartFinding(
                **base,
                status="not_verified",
                offset_m=None,
                offset_sigma_m=math.nan,
                confidence=0.0,
                reason="never in view",
            )
        biggest = max(look.height_px for look in looks)
        most = max(look.visible_ratio for look in looks)
        return PartFinding(
            **base,
            status="not_verified",
            offset_m=None,
            offset_sigma_m=math.nan,
            confidence=0.0,
            reason=f"not seen well enough ({len(good)} good look(s); at best {most:.0%} in view,"
            f" {biggest:.0f} px tall)",
        )
    rate = len(detected) / len(good)
    independent = independent_looks(good, config)
    if rate <= config.missing_rate:
        partial = sum(1 for look in looks if not look.good and look.detection is not None)
        vetoed_by_partial = partial >= config.partial_detections and not place_empty
        edges_say_there = (
            len(edges) >= config.min_good_looks
            and float(np.median(edges)) >= config.edge_present_min
        )
        if depth_says_there or vetoed_by_partial or edges_say_there:
            if depth_says_there:
                seen_by = "depth sees a surface"
            elif vetoed_by_partial:
                seen_by = f"detected in {partial} partial view(s)"
            else:
                seen_by = f"the image shows {float(np.median(edges)):.0%} of its drawn edges"
            return PartFinding(
                **base,
                status="not_verified",
                offset_m=None,
                offset_sigma_m=math.nan,
                confidence=0.0,
                reason=f"not detected in {len(good) - len(detected)} of {len(good)} good looks,"
                f" but {seen_by} at its place",
            )
        misses = independent * (1.0 - rate)
        confidence = _confidence(misses, config)
        return PartFinding(
            **base,
            status="missing",
            offset_m=None,
            offset_sigma_m=math.nan,
            confidence=round(confidence, 3),
            reason=f"not detected in {len(good) - len(detected)} of {len(good)} good looks"
            + (f", and {empty_because}" if place_empty else ""),
        )
    if rate < config.present_rate and not (depth_says_there or place_empty):
        return PartFinding(
            **base,
            status="not_verified",
            offset_m=None,
            offset_sigma_m=math.nan,
            confidence=0.0,
            reason=f"detected in only {len(detected)} of {len(good)} good looks",
        )
    fused = fuse_offset(detected, mount_prior(part, mount, config.mount_sigma_m), config)
    if fused is not None and (far := _length_and_sigma(fused))[0] > config.max_offset_m:
        length, sigma = far
        if length - config.max_offset_m > config.offset_sigmas * sigma or place_empty:
            # What was matched lies farther than any plausible misplacement (or may, and the
            # part's place is seen empty): another object (a neighbour of the same class,
            # a false detection), or a move too large to call one; not this part here.
            finding = decide(
                part, mount, [_undetected(look) for look in looks], config, support_if_moved
            )
            reason = f"{finding.reason} (detections {length * 1000:.0f} mm away ignored)"
            return replace(finding, reason=reason)
        return PartFinding(
            **base,
            status="not_verified",
            offset_m=fused[0],
            offset_sigma_m=sigma,
            confidence=0.0,
            reason=f"detected {length * 1000:.0f} ± {sigma * 1000:.0f} mm from its place: another"
            " object, or a move these views cannot measure",
        )
    finding = _present_or_misplaced(part, detected, base, rate, fused, config)
    away = finding.status != "present" and finding.offset_m is not None
    if away and support_if_moved and (edges_say_absent or finding.status == "not_verified"):
        moved = support_if_moved(part, finding.offset_m, [look.frame for look in good])
        weak = finding.status == "not_verified"  # a move seen only by weak detections
        if edges_say_absent and _both_measured(edges, moved, config):
            no_more = float(np.median(moved)) <= float(np.median(edges))
            if no_more or (weak and not _clearly_more(moved, edges, config)):
                return _detections_of_something_else(finding, edge_looks, moved, config)
        if weak:
            finding = _checked_where_moved(part, finding, edges, moved, config)
    # Detections at the place argue for the part: the edges overrule them only when they
    # show almost none of it.
    overrule_max = _edge_max(config.edge_overrule_max, part, config)
    edges_overrule = edges_say_absent and float(np.median(edges)) <= overrule_max
    if finding.status == "present" and (depth_says_absent or edges_overrule):
        if depth_says_absent and (
            moved := _moved_off_an_empty_place(part, finding, detected, config)
        ):
            return moved
        seen_empty = independent_looks(depth_looks if depth_says_absent else edge_looks, config)
        return _contradicted_by_the_place(
            finding, empty_because, seen_empty, edges_overrule, config
        )
    if finding.status == "present" and (small := _boxed_smaller(detected, config)) is not None:
        finding = decide(
            part, mount, [_undetected(look) for look in looks], config, support_if_moved
        )
        return replace(
            finding,
            reason=f"{finding.reason} (the {len(detected)} detections at its place box a"
            f" median {small:.0%} of its area: something smaller, the bare hole or open slot"
            " it should close)",
        )
    return finding


def _edge_max(threshold: float, part: Part, config: FusionConfig) -> float:
    """An edge-share threshold that says "not there", capped for the part's class."""
    return min(threshold, config.edge_absent_max_by_class.get(part.class_name, threshold))


def _boxed_smaller(detected: Sequence[PartLook], config: FusionConfig) -> float | None:
    """Median area ratio of the part's detections when they box something smaller than it.

    The detector takes a bare hole for its sleeve or handhole frame, an open slot for its
    collar plate, but boxes only the hole: on the inspection benchmark the median box area
    of the detections matched to a present part was at least 0.67 of its expected visible
    box (1.00 typically), that of removed parts' places 0.55 typically. None when the
    detections are the part's size (`FusionConfig.min_area_ratio`) or too few to say
    (`FusionConfig.area_min_looks`).
    """
    median = _median_area_ratio(detected, config)
    return median if median is not None and median < config.min_area_ratio else None


def _median_area_ratio(detected: Sequence[PartLook], config: FusionConfig) -> float | None:
    """Median `PartLook.area_ratio` of the detections (None: fewer than area_min_looks)."""
    ratios = [look.area_ratio for look in detected if look.area_ratio is not None]
    return float(np.median(ratios)) if len(ratios) >= config.area_min_looks else None


def _checked_where_moved(
    part: Part,
    finding: PartFinding,
    at_place: Sequence[float],
    where_moved: Sequence[float],
    config: FusionConfig,
) -> PartFinding:
    """A move seen only by weak detections, checked by the part's edges in the image.

    Where the image shows clearly more of the part's edges where the detections put it
    than at its drawn place (`FusionConfig.edge_present_min`, `FusionConfig.edge_gain`),
    the part is ``misplaced`` after all. (Few edges there prove nothing: a thin or
    low-contrast part shows few of them even where it is.)
    """
    if not edges_confirm_move(at_place, where_moved, config):
        return finding
    moved, drawn = float(np.median(where_moved)), float(np.median(at_place))
    return _misplaced_instead(
        part,
        finding,
        f"detected only weakly, but the image shows {moved:.0%} of its edges there against"
        f" {drawn:.0%} at its place",
        config,
    )


def _both_measured(
    at_place: Sequence[float], where_moved: Sequence[float], config: FusionConfig
) -> bool:
    """Whether the part's edge support was measured in enough good looks at both places."""
    return min(len(at_place), len(where_moved)) >= config.edge_min_looks


def _clearly_more(shown: Sequence[float], than: Sequence[float], config: FusionConfig) -> bool:
    """Whether the image shows clearly more of a part's edges in `shown` than in `than`.

    Medians of the shares over good looks: at least `FusionConfig.edge_present_min` in
    `shown`, and `FusionConfig.edge_gain` more than in `than`.
    """
    more, less = float(np.median(shown)), float(np.median(than))
    return more >= config.edge_present_min and more - less >= config.edge_gain


def _detections_of_something_else(
    finding: PartFinding,
    edge_looks: Sequence[PartLook],
    where_moved: Sequence[float],
    config: FusionConfig,
) -> PartFinding:
    """``missing``: detections away from an empty place, showing the part no better than it.

    A part that moved shows its edges where it went, whatever its detector's score; a bare
    hole taken for its sleeve, or an open slot for its collar plate, does not. On the
    inspection benchmark the removed sleeve matched this way showed 3 % of its edges where
    its detections were, against 10 % at its place; the one moved part whose place is seen
    empty, a far handhole frame, 14 % where it went against 12 %. `edge_looks` are the
    good looks that measured the edges at its place.
    """
    drawn = float(np.median([look.edge_support for look in edge_looks]))
    moved = float(np.median(where_moved))
    return _missing_instead(
        finding,
        independent_looks(edge_looks, config),
        f"the image shows {drawn:.0%} of its drawn edges at its place in its"
        f" {len(edge_looks)} good looks, and {moved:.0%} where the {finding.detected_looks}"
        f" detection(s) {finding.offset_mm:.0f} mm away put it: they are of something else",
        config,
    )


def _missing_instead(
    finding: PartFinding, independent: int, reason: str, config: FusionConfig
) -> PartFinding:
    """`finding` turned ``missing``: its place seen empty in `independent` good looks."""
    return replace(
        finding,
        status="missing",
        offset_m=None,
        offset_sigma_m=math.nan,
        confidence=round(_confidence(independent, config), 3),
        reason=reason,
    )


def _moved_off_an_empty_place(
    part: Part, finding: PartFinding, detected: Sequence[PartLook], config: FusionConfig
) -> PartFinding | None:
    """``misplaced``: a place depth sees empty, and detections the part's size away from it.

    Depth seeing through the place rules out the part standing there; detections of its
    class and its size (median `Match.area_ratio` ≥ `FusionConfig.part_area_ratio`, where
    the bare hole or pipe left by a removed part is boxed at about half) that put it a
    measurable distance away (`suggests_a_move`, short of sure on their own) are then the
    part, moved: a handhole frame moved 9 cm, its lagging boxes 70 ± 27 mm off, was
    ``missing`` before (docs/inspection.md). Their size is judged on the detections that
    measured the offset (the part mostly in view: against the visible box of a part half
    hidden by another, a detector's box of the whole of something reads twice the size).
    None otherwise.
    """
    measuring = [look for look in detected if look.jacobian is not None]
    median = _median_area_ratio(measuring, config)
    if median is None or median < config.part_area_ratio:
        return None
    if not suggests_a_move(part, finding, config):
        return None
    return _misplaced_instead(
        part,
        finding,
        f"depth sees through its place, and {len(measuring)} detections of its size put it there",
        config,
    )


def _misplaced_instead(
    part: Part, finding: PartFinding, why: str, config: FusionConfig
) -> PartFinding:
    """`finding` turned ``misplaced`` at its detections' offset, and `why`."""
    z = _beyond_tolerance_sigmas(part, finding.offset_mm / 1000.0, finding.offset_sigma_m)
    sigma_mm = finding.offset_sigma_m * 1000.0
    return replace(
        finding,
        status="misplaced",
        confidence=_move_confidence(z, config),
        reason=f"{finding.offset_mm:.0f} ± {sigma_mm:.0f} mm from its place, {why}",
    )


def _contradicted_by_the_place(
    finding: PartFinding,
    seen: str,
    seen_empty: int,
    edges_overrule: bool,
    config: FusionConfig,
) -> PartFinding:
    """A part detected at its place while depth or the image's edges see the place empty.

    ``missing`` when the image shows almost none of the part's edges there
    (`edges_overrule`: `FusionConfig.edge_overrule_max`), or when the detections' offset
    was measured (they sit at the place, so they are of something else there);
    ``not_verified`` when only depth sees the place empty and the views could not measure
    the offset. `seen_empty`: the independent good looks that saw the place empty.
    """
    measured = finding.offset_m is not None and finding.offset_sigma_m <= config.min_offset_m
    if not (measured or edges_overrule):
        return replace(
            finding,
            status="not_verified",
            confidence=0.0,
            reason=f"{seen}, but detected near it ({finding.reason})",
        )
    return _missing_instead(
        finding,
        seen_empty,
        f"{seen}; the {finding.detected_looks} detection(s) at its place are of something else",
        config,
    )


def _confidence(looks: float, config: FusionConfig) -> float:
    """Confidence (0-1) from `looks` independent looks that agree.

    One minus the chance that a detector of recall `FusionConfig.detector_recall` would
    have been wrong in every one of them.
    """
    return 1.0 - (1.0 - config.detector_recall) ** looks


def _length_and_sigma(fused: tuple[FloatArray, FloatArray]) -> tuple[float, float]:
    """Length of a fused offset and its standard deviation along it, metres."""
    offset, covariance = fused
    length = float(np.linalg.norm(offset))
    direction = offset / length if length > 0 else np.array([1.0, 0.0, 0.0])
    return length, float(np.sqrt(direction @ covariance @ direction))


def _undetected(look: PartLook) -> PartLook:
    """The look with its match dropped."""
    return replace(
        look,
        detection=None,
        score=0.0,
        shift_px=None,
        jacobian=None,
        depth_offset_m=None,
        area_ratio=None,
    )


def _present_or_misplaced(
    part: Part,
    detected: Sequence[PartLook],
    base: dict,
    rate: float,
    fused: tuple[FloatArray, FloatArray] | None,
    config: FusionConfig,
) -> PartFinding:
    presence = _presence_confidence(len(detected), rate, config)
    if fused is None:
        return PartFinding(
            **base,
            status="present",
            offset_m=None,
            offset_sigma_m=math.nan,
            confidence=presence,
            reason="detected near its place; no look could measure its offset",
        )
    offset = fused[0]
    length, sigma = _length_and_sigma(fused)
    z = _beyond_tolerance_sigmas(part, length, sigma)
    measuring = [look.score for look in detected if look.jacobian is not None]
    if length >= config.min_offset_m and z >= config.offset_sigmas:
        doubt = ""
        if len(measuring) < config.min_offset_looks:
            doubt = (
                f"in only {len(measuring)} look(s) that measured it: too few to call it"
                " misplaced, or in its place"
            )
        elif (median_score := float(np.median(measuring))) < config.min_misplaced_score:
            doubt = (
                f"only weakly (median score {median_score:.2f}): this part moved, or"
                " something else there"
            )
        if doubt:
            return PartFinding(
                **base,
                status="not_verified",
                offset_m=offset,
                offset_sigma_m=sigma,
                confidence=0.0,
                reason=f"detected {length * 1000:.0f} ± {sigma * 1000:.0f} mm from its place,"
                f" but {doubt}",
            )
        return PartFinding(
            **base,
            status="misplaced",
            offset_m=offset,
            offset_sigma_m=sigma,
            confidence=_move_confidence(z, config),
            reason=f"{length * 1000:.0f} ± {sigma * 1000:.0f} mm from its place"
            f" (tolerance {part.tolerance_mm:.0f} mm)",
        )
    measured = f"{length * 1000:.0f} ± {sigma * 1000:.0f} mm"
    return PartFinding(
        **base,
        status="present",
        offset_m=offset,
        offset_sigma_m=sigma,
        confidence=presence,
        reason=f"detected at its place (offset {measured})"
        if sigma <= config.min_offset_m
        else f"detected at its place; these views cannot measure its offset ({measured})",
    )


def judged_by_edges(
    part: Part,
    finding: PartFinding,
    offset_m: FloatArray,
    covariance: FloatArray,
    config: FusionConfig,
) -> PartFinding:
    """A ``misplaced`` finding judged again with its offset measured by the part's edges.

    The edges' offset replaces the detections' (`inspection.offset_refine`); the part stays
    ``misplaced`` only if that offset, too, is at least `FusionConfig.min_offset_m` and
    exceeds the tolerance by `FusionConfig.offset_sigmas` standard deviations, else it is
    ``present`` (a handhole frame boxed 38 mm off, its edges 24 ± 15 mm off).

    Args:
        part: The part.
        finding: Its ``misplaced`` finding from the detections.
        offset_m: (3,) the edges' offset, section frame, metres.
        covariance: (3, 3) its covariance, metres^2.
        config: Thresholds.
    """
    length, sigma = _length_and_sigma((offset_m, covariance))
    z = _beyond_tolerance_sigmas(part, length, sigma)
    measured = f"{length * 1000:.0f} ± {sigma * 1000:.0f} mm"
    detections = (
        f"{finding.offset_mm:.0f} mm by its detections; tolerance {part.tolerance_mm:.0f} mm"
    )
    moved = length >= config.min_offset_m and z >= config.offset_sigmas
    rate = finding.detected_looks / max(finding.good_looks, 1)
    return replace(
        finding,
        status="misplaced" if moved else "present",
        offset_m=offset_m,
        offset_sigma_m=sigma,
        confidence=_move_confidence(z, config)
        if moved
        else _presence_confidence(finding.detected_looks, rate, config),
        reason=f"{measured} from its place by its edges ({detections})"
        if moved
        else f"at its place by its edges (offset {measured}; {detections})",
    )


def suggests_a_move(part: Part, finding: PartFinding, config: FusionConfig) -> bool:
    """Whether a ``present`` part's detections put it measurably, but not surely, away.

    The offset is at least `FusionConfig.min_offset_m` as the boxes measure it (times
    `FusionConfig.box_lag_ratio`) and exceeds the tolerance by
    `FusionConfig.suggested_sigmas` standard deviations, short of
    `FusionConfig.offset_sigmas`: the box of a moved part lags behind it and measures the
    move short. The pipeline then refines the offset by the part's own edges and calls the
    part ``misplaced`` only where they confirm it (`edges_confirm_move`).
    """
    if finding.status != "present" or finding.offset_m is None:
        return False
    length = finding.offset_mm / 1000.0
    z = _beyond_tolerance_sigmas(part, length, finding.offset_sigma_m)
    return length >= config.box_lag_ratio * config.min_offset_m and z >= config.suggested_sigmas


def edges_confirm_move(
    at_place: Sequence[float], where_moved: Sequence[float], config: FusionConfig
) -> bool:
    """Whether enough good looks show clearly more of a part's edges where it moved.

    Both measured in `FusionConfig.edge_min_looks` good looks or more, and the median
    where it moved at least `FusionConfig.edge_present_min` and `FusionConfig.edge_gain`
    above the median at its drawn place.
    """
    return _both_measured(at_place, where_moved, config) and _clearly_more(
        where_moved, at_place, config
    )


def edges_show_it_moved_off_an_empty_place(
    at_place: Sequence[float], where_moved: Sequence[float], config: FusionConfig
) -> bool:
    """Whether a part whose place was seen empty shows its edges where it moved.

    Depth or the image already saw its place empty, so it need not show clearly where it
    went (`edges_confirm_move`): both measured in `FusionConfig.edge_min_looks` good looks
    or more, and the median where it moved above what removed parts' places show
    (`FusionConfig.edge_absent_max`, for every class: the thin rim of a removed handhole
    frame's neighbour showed 7 % where edges were searched for it) and above the median
    at its place. On the inspection benchmark (2026-12-02) two brackets moved 4 cm, their
    places showing 3 % and 7 % of their edges, showed 43 % and 19 % where their edges put
    them.
    """
    if not _both_measured(at_place, where_moved, config):
        return False
    moved = float(np.median(where_moved))
    return moved > config.edge_absent_max and moved > float(np.median(at_place))


def edges_confirm_place(
    at_place: Sequence[float], where_moved: Sequence[float], config: FusionConfig
) -> bool:
    """Whether enough good looks show clearly more of a part's edges at its drawn place.

    The mirror of `edges_confirm_move`, with the same thresholds: both measured in
    `FusionConfig.edge_min_looks` good looks or more, and the median at its drawn place at
    least `FusionConfig.edge_present_min` and `FusionConfig.edge_gain` above the median
    where its offset puts it.
    """
    return _both_measured(at_place, where_moved, config) and _clearly_more(
        at_place, where_moved, config
    )


def at_place_by_edges(
    finding: PartFinding,
    at_place: Sequence[float],
    where_moved: Sequence[float],
    config: FusionConfig,
) -> PartFinding:
    """A ``misplaced`` finding that the part's edges put back at its drawn place.

    ``present`` without an offset where the image shows clearly more of the part's edges
    at its drawn place than where its measured offset puts it (`edges_confirm_place`): the
    detections (and the edges refined from them) measured something beside it. On the
    inspection benchmark's unseen set a cable-tray hanger in its place, boxed 48 mm off,
    showed 95 % of its edges at its place and 65 % there; over the benchmark's other four
    sets, no moved part found ``misplaced`` had a median (over all its good looks) of 50 %
    or more at its place without 12 % or more above it where it went. Other findings
    stand.
    """
    if finding.status != "misplaced" or not edges_confirm_place(at_place, where_moved, config):
        return finding
    drawn, moved = float(np.median(at_place)), float(np.median(where_moved))
    return _present_after_all(
        finding,
        f"at its place by its edges: the image shows {drawn:.0%} of them there against"
        f" {moved:.0%} where its detections put it",
        config,
    )


def at_place_by_depth(
    finding: PartFinding,
    at_place: Sequence[float],
    where_moved: Sequence[float],
    config: FusionConfig,
) -> PartFinding:
    """A ``misplaced`` finding that depth puts back at the part's drawn place.

    `at_place` and `where_moved` are, per good look with depth, the share of the part's
    telling depth pixels that see it (`evidence.depth_shares`) at its drawn place and
    where its measured offset puts it (`ExpectedViewer.part_pixels`). The part is
    ``present`` without an offset where, over `FusionConfig.depth_min_looks` such looks or
    more, the median says it is there (`FusionConfig.depth_present_min`) at its place and
    not there where it was said to have moved: its detections boxed it beside itself. On
    the inspection benchmark's depth recordings, tripping brackets in their place boxed
    47-68 mm off (and so measured by their edges) had medians of 1.0 at their place and
    0.24-0.44 there; of the moved parts found ``misplaced``, none had 0.5 or more at its
    place without 0.5 or more there (depth at a move's place sees the part where the move
    is shorter than the part, as a clamp moved along its pipe).
    """
    if (
        finding.status != "misplaced"
        or min(len(at_place), len(where_moved)) < config.depth_min_looks
    ):
        return finding
    drawn, moved = float(np.median(at_place)), float(np.median(where_moved))
    if drawn < config.depth_present_min or moved >= config.depth_present_min:
        return finding
    return _present_after_all(
        finding,
        f"at its place by depth: {drawn:.0%} of its pixels with depth see it there against"
        f" {moved:.0%} where its detections put it",
        config,
    )


def _present_after_all(finding: PartFinding, why: str, config: FusionConfig) -> PartFinding:
    """`finding` turned ``present``, without an offset, for the reason `why`."""
    rate = finding.detected_looks / max(finding.good_looks, 1)
    return replace(
        finding,
        status="present",
        offset_m=None,
        offset_sigma_m=math.nan,
        confidence=_presence_confidence(finding.detected_looks, rate, config),
        reason=f"{why} ({finding.reason})",
    )


def _beyond_tolerance_sigmas(part: Part, length_m: float, sigma_m: float) -> float:
    """How many standard deviations an offset of `length_m` (metres) exceeds the tolerance."""
    return (length_m - part.tolerance_mm / 1000.0) / max(sigma_m, 1e-9)


def _move_confidence(z: float, config: FusionConfig) -> float:
    """Confidence (0-1) in ``misplaced`` for an offset `z` sigmas beyond the tolerance."""
    return round(_normal_cdf(z - config.offset_sigmas / 2), 3)


def _presence_confidence(detected_looks: int, rate: float, config: FusionConfig) -> float:
    """Confidence (0-1) in ``present``: the detection rate times `_confidence` of the hits."""
    return round(min(rate, 1.0) * _confidence(detected_looks, config), 3)


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _best_look(looks: Sequence[PartLook], prefer_detected: bool) -> PartLook | None:
    pool = [look for look in looks if look.detection is not None] if prefer_detected else looks
    if not pool:
        return None
    return max(pool, key=lambda look: look.weight)


def decide_all(
    parts: Sequence[Part],
    mounts: Mapping[str, str],
    looks: Mapping[str, Sequence[PartLook]],
    config: FusionConfig = FusionConfig(),
    support_if_moved: SupportIfMoved | None = None,
) -> list[PartFinding]:
    """Findings for every part of the section, in section order (see `decide`)."""
    return [
        decide(
            p, mounts.get(p.class_name, "surface"), looks.get(p.id, ()), config, support_if_moved
        )
        for p in parts
    ]
