"""What one frame says about each part it should show: seen or not, where, and depth support.

A frame's look at a part is *good* when enough of the part is in view, large enough for
the detector, and the pose is good enough *for that part*: its 95 % translation bound,
projected at the part's depth, is a small share of the part's projected height (a pose
known to 3 cm puts a 60 px tall part 4 m away within 5 px of its place, which is plenty to
say whether it is there, though far too little to measure a misplacement); only good
looks can argue that a part is missing. Depth, where the frame has it, is compared on
the part's expected pixels with the part's expected depth: pixels at the part's depth
support "present"; pixels seen *behind* where the part's surface should be say "the steel
behind it is seen through" (absent); holes are no evidence at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from arinspect.camera import CameraModel
from arinspect.inspection.expected import ExpectedView, PartPixels
from arinspect.inspection.matching import Match
from arinspect.pose.covariance import CHI2_3DOF_95
from arinspect.typed import FloatArray

FrameKey = tuple[int, int]
"""A frame of an inspection of one or more passes: (pass index, frame id within the pass)."""


@dataclass(frozen=True)
class LookCriteria:
    """When a frame's look at a part counts.

    Attributes:
        min_visible_ratio: Share of the part in view for a good look.
        min_height_px: Projected height for a good look (640x480 frame; scaled with the
            frame height). The detector is scored on parts at least 20 px tall.
        max_pose_bound_m: Largest 95 % translation bound of the frame's pose
            (`FrameResult.bound95_m`) for a good look, metres: beyond it a pose may be wrong
            by more than its covariance says (one or two far markers).
        max_pose_shift_ratio: Largest share of the part's projected height that the pose's
            95 % bound may move it in the image for a good look.
        min_offset_ratio: Share in view for a match in a good look to be used to measure
            an offset (a partly hidden part's box centre is biased). The pose's noise enters
            the offset's weight (`PartLook.pose_sigma_px`, `PartLook.pose_sigma_m`).
        depth_noise_m: Depth noise (one sigma) at 1 m, growing with z^2.
    """

    min_visible_ratio: float = 0.5
    min_height_px: float = 24.0
    max_pose_bound_m: float = 0.05
    max_pose_shift_ratio: float = 0.25
    min_offset_ratio: float = 0.7
    depth_noise_m: float = 0.003


@dataclass(frozen=True)
class PartLook:
    """One frame's evidence about one part.

    Attributes:
        im_id: Frame.
        good: Whether the look can argue presence or absence.
        visible_ratio: Share of the part in view.
        height_px: Projected height, pixels.
        pose_quality: Quality of the frame's pose.
        detection: Index of the matched detection in the frame, or None.
        score: Score of the matched detection (0 without one).
        shift_px: (2,) detection centre minus projected centre, pixels (None without one).
        jacobian: (2, 3) pixel motion of the part's centre per metre of section-frame
            translation (None without a match usable for offsets).
        depth_present: Share of valid depth pixels at the part's expected depth (None
            without depth or valid pixels).
        depth_through: Share of valid depth pixels seen behind the part's surface.
        depth_offset_m: (3,) offset of the detected part from its place measured by depth,
            section frame, metres (None without depth or a usable match).
        pose_sigma_px: Standard deviation of the part's image position from the pose's
            uncertainty alone (its largest translation sigma, at the part's depth), pixels.
        pose_sigma_m: The frame pose's largest translation standard deviation, metres.
        edge_support: Share of the part's own drawn edges that the image shows at its place
            (`inspection.edge_support`); None when not measured (not a good look, too few
            edges in view).
        area_ratio: Area of the matched detection's box over the part's expected visible
            box (`Match.area_ratio`; None without one).
        pass_index: The pass (recording) the frame belongs to, when one inspection fuses
            several passes over the section (0 for the first or only one).
    """

    im_id: int
    good: bool
    visible_ratio: float
    height_px: float
    pose_quality: float
    detection: int | None
    score: float
    shift_px: tuple[float, float] | None
    jacobian: FloatArray | None
    depth_present: float | None
    depth_through: float | None
    depth_offset_m: FloatArray | None = None
    pose_sigma_px: float = 0.0
    pose_sigma_m: float = 0.0
    edge_support: float | None = None
    area_ratio: float | None = None
    pass_index: int = 0

    @property
    def frame(self) -> FrameKey:
        """The look's frame: (pass index, frame id)."""
        return (self.pass_index, self.im_id)

    @property
    def weight(self) -> float:
        """How much this look is worth for choosing the best frame of a part."""
        return view_worth(self.visible_ratio, self.height_px) * self.pose_quality


def view_worth(visible_ratio: float, height_px: float) -> float:
    """How well a view shows a part: the share in view, times its height up to 100 px."""
    return visible_ratio * min(height_px / 100.0, 1.0)


def centre_jacobian(
    camera: CameraModel, T_cam_section: FloatArray, point_section: FloatArray
) -> FloatArray:
    """(2, 3) d(pixel) / d(section-frame translation of the point), pinhole approximation."""
    p = T_cam_section[:3, :3] @ point_section + T_cam_section[:3, 3]
    x, y, z = p
    fx, fy = camera.K[0, 0], camera.K[1, 1]
    d_pixel_d_cam = np.array([[fx / z, 0.0, -fx * x / z**2], [0.0, fy / z, -fy * y / z**2]])
    return d_pixel_d_cam @ T_cam_section[:3, :3]


def _depth_margin(noise_at_1m: float, depth_m: np.ndarray, extra_m: float) -> np.ndarray:
    """Depth difference that counts as real: 3 sigmas of noise growing with z^2, plus `extra_m`."""
    return 3.0 * noise_at_1m * depth_m**2 + extra_m


def depth_evidence(
    view: ExpectedView,
    label_index: int,
    observed_depth_m: np.ndarray,
    noise_at_1m: float,
) -> tuple[float | None, float | None]:
    """Shares of the part's telling depth pixels that see it, and that see through it.

    The part's pixels of the reduced-resolution view; observed depth is sampled at the
    full-resolution pixel nearest each (see `depth_shares`).
    """
    rows, cols = np.nonzero(view.label_map == label_index)
    if rows.size == 0:
        return None, None
    observed = observed_depth_m[view.full_res_pixels(rows, cols, observed_depth_m.shape)]
    part = view.depth_m[rows, cols].astype(np.float64)
    behind = view.depth_behind_m[rows, cols].astype(np.float64)
    behind = np.where(behind > 0, behind, np.inf)  # nothing behind: open space
    return depth_shares(part, behind, observed, noise_at_1m)


def depth_shares(
    part_depth_m: FloatArray,
    behind_m: FloatArray,
    observed_m: FloatArray,
    noise_at_1m: float,
) -> tuple[float | None, float | None]:
    """Shares of a part's telling depth pixels that see it, and that see through it.

    A pixel tells only where the part's surface and the steel behind it are far enough
    apart (3 noise sigmas plus 5 mm): a collar plate lying flat on its web frame cannot be
    told from the bare web by depth, only through its slot. Returns (None, None) with
    fewer than 5 telling pixels with valid depth.

    Args:
        part_depth_m: (N,) the part's expected z-depth at its pixels, metres.
        behind_m: (N,) z-depth of the section without its parts there (inf: nothing).
        observed_m: (N,) observed z-depth there (0 = none).
        noise_at_1m: Depth noise (one sigma) at 1 m, growing with z^2.
    """
    margin = _depth_margin(noise_at_1m, part_depth_m, 0.005)
    telling = (observed_m > 0) & (behind_m - part_depth_m > 2.0 * margin)
    if telling.sum() < 5:
        return None, None
    near_part = np.abs(observed_m[telling] - part_depth_m[telling]) <= margin[telling]
    beyond = observed_m[telling] > part_depth_m[telling] + margin[telling]
    return float(np.mean(near_part)), float(np.mean(beyond))


def depth_offset(
    view: ExpectedView,
    label_index: int,
    box_xyxy_px: tuple[float, float, float, float],
    observed_depth_m: np.ndarray,
    noise_at_1m: float,
    min_pixels: int = 8,
) -> FloatArray | None:
    """(3,) offset of a detected part from its drawn place measured by depth, or None.

    Inside the detection box, pixels whose observed depth lies clearly (3 noise sigmas
    plus 1 cm) in front of the section without parts, and that are not another part seen
    at its own place, are the detected part's surface; their mean section-frame point is
    compared with the mean point of the part's expected visible surface selected the same
    way (so that dropping the part's edge against the steel biases neither side).
    """
    behind_all = np.where(view.depth_behind_m > 0, view.depth_behind_m, np.inf)
    expected_margin = _depth_margin(noise_at_1m, view.depth_m.astype(np.float64), 0.01)
    # The same selection on both sides: part surface standing clear of the steel behind it.
    own = (view.label_map == label_index) & (view.depth_m < behind_all - expected_margin)
    if own.sum() < min_pixels:
        return None
    h, w = view.label_map.shape
    x0, y0, x1, y1 = box_xyxy_px
    col_edges = (np.arange(w) + 0.5) / view.scale  # reduced pixel centres, full-res edge coords
    row_edges = (np.arange(h) + 0.5) / view.scale
    cols = np.flatnonzero((col_edges >= x0) & (col_edges <= x1))
    rows = np.flatnonzero((row_edges >= y0) & (row_edges <= y1))
    if cols.size == 0 or rows.size == 0:
        return None
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    grid_rows, grid_cols = grid_rows.ravel(), grid_cols.ravel()
    observed = observed_depth_m[view.full_res_pixels(grid_rows, grid_cols, observed_depth_m.shape)]
    expected = view.depth_m[grid_rows, grid_cols].astype(np.float64)
    behind = view.depth_behind_m[grid_rows, grid_cols].astype(np.float64)
    behind = np.where(behind > 0, behind, np.inf)
    margin = _depth_margin(noise_at_1m, np.maximum(observed, 0.3), 0.01)
    label = view.label_map[grid_rows, grid_cols]
    other_part_in_place = (label != label_index) & (label > 0) & (expected < behind - margin)
    other_part_in_place &= np.abs(observed - expected) <= margin
    foreground = (observed > 0) & (observed < behind - margin) & ~other_part_in_place
    if foreground.sum() < min_pixels:
        return None
    rays = view.rays_cam[grid_rows[foreground], grid_cols[foreground]]
    points_cam = rays * observed[foreground, None]
    points = points_cam @ view.T_section_cam[:3, :3].T + view.T_section_cam[:3, 3]
    return points.mean(axis=0) - view.points_section[own].mean(axis=0)


def frame_looks(
    im_id: int,
    view: ExpectedView,
    label_of_part: dict[str, int],
    matches: list[Match],
    scores: list[float],
    boxes: list[tuple[float, float, float, float]],
    camera: CameraModel,
    T_cam_section: FloatArray,
    pose_quality: float,
    pose_bound95_m: float,
    observed_depth_m: np.ndarray | None,
    criteria: LookCriteria = LookCriteria(),
    edge_support: Callable[[list[str]], list[float | None]] | None = None,
    part_pixels: Callable[[str], PartPixels] | None = None,
    pass_index: int = 0,
) -> dict[str, PartLook]:
    """Evidence of one frame about every part of its expected view.

    Args:
        im_id: The frame.
        view: What the frame should show at its pose.
        label_of_part: Label index of each part in `view`'s label map.
        matches: The frame's detections assigned to parts.
        scores: Score of every detection of the frame.
        boxes: xyxy box of every detection, pixels.
        camera: Intrinsics of the frame.
        T_cam_section: The frame's pose, metres.
        pose_quality: The frame's `FrameResult.quality` (weighs the choice of a best frame).
        pose_bound95_m: 95 % translation bound of the frame's pose, metres.
        observed_depth_m: (H, W) registered depth, metres (0 = none), or None.
        criteria: When a look counts.
        edge_support: The shares of the given parts' own edges the frame shows at their
            places (asked once, for the good looks).
        part_pixels: A part's pixels cast at full resolution (`ExpectedViewer.part_pixels`):
            with depth, asked for a good look whose reduced-resolution pixels are too few
            to tell by depth.
        pass_index: The pass the frame belongs to (`PartLook.pass_index`).
    """
    by_part = {m.part_id: m for m in matches}
    height_scale = camera.height / 480.0
    focal_px = float(camera.K[0, 0])
    pose_shift_px = {
        part_id: focal_px * pose_bound95_m / max(part.depth_m, 0.1)
        for part_id, part in view.parts.items()
    }
    good_ids = [
        part_id
        for part_id, part in view.parts.items()
        if part.visible_ratio >= criteria.min_visible_ratio
        and part.height_px >= criteria.min_height_px * height_scale
        and pose_bound95_m <= criteria.max_pose_bound_m
        and pose_shift_px[part_id] <= criteria.max_pose_shift_ratio * part.height_px
    ]
    edges_shown = (
        dict(zip(good_ids, edge_support(good_ids), strict=True))
        if edge_support is not None and good_ids
        else {}
    )
    looks = {}
    for part_id, part in view.parts.items():
        match = by_part.get(part_id)
        good = part_id in good_ids
        jacobian, offset = None, None
        measurable = match is not None and good and part.visible_ratio >= criteria.min_offset_ratio
        if measurable:
            jacobian = centre_jacobian(camera, T_cam_section, part.centre_section)
        present, through = (None, None)
        if observed_depth_m is not None:
            label = label_of_part[part_id]
            present, through = depth_evidence(view, label, observed_depth_m, criteria.depth_noise_m)
            if present is None and good and part_pixels is not None:
                pixels = part_pixels(part_id)
                present, through = depth_shares(
                    pixels.depth_m,
                    pixels.depth_behind_m,
                    observed_depth_m[pixels.rows, pixels.cols],
                    criteria.depth_noise_m,
                )
            if measurable:
                box = boxes[match.detection]
                offset = depth_offset(view, label, box, observed_depth_m, criteria.depth_noise_m)
        looks[part_id] = PartLook(
            im_id=im_id,
            good=good,
            visible_ratio=part.visible_ratio,
            height_px=part.height_px,
            pose_quality=pose_quality,
            detection=None if match is None else match.detection,
            score=0.0 if match is None else scores[match.detection],
            shift_px=None if match is None else match.shift_px,
            jacobian=jacobian,
            depth_present=present,
            depth_through=through,
            depth_offset_m=offset,
            pose_sigma_px=pose_shift_px[part_id] / np.sqrt(CHI2_3DOF_95),
            pose_sigma_m=pose_bound95_m / np.sqrt(CHI2_3DOF_95),
            edge_support=edges_shown.get(part_id),
            area_ratio=None if match is None else match.area_ratio,
            pass_index=pass_index,
        )
    return looks
