"""Where to look from to verify a part the inspection could not: a suggested viewpoint.

A part is ``not_verified`` when no pass saw it well: hidden behind a web from where the
worker walked, too far, or always at the edge of the frame. For each such part, camera
positions around it are tried with the expected view (`ExpectedViewer.part_in_view`):
directions on the side its mounting surface faces (all around the pipe for a part on a
pipe), at a few distances, from eye heights a worker can reach. The one that shows the
part best, in full view and large in the frame, is suggested, so that the next pass
(`Inspector.inspect_passes`) can settle it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from arinspect.cad.section import Part, Section
from arinspect.geometry import look_at_T_cam_world
from arinspect.inspection.evidence import view_worth
from arinspect.inspection.expected import ExpectedViewer
from arinspect.recording.trajectory import section_bounds
from arinspect.typed import FloatArray

UP = np.array([0.0, 0.0, 1.0])
"""Section-frame up: the image's up in a suggested view."""


@dataclass(frozen=True)
class ViewSearch:
    """Which viewpoints are tried.

    Attributes:
        distances_m: Distances from the part's centre, metres.
        directions: Directions tried per distance, spread evenly over the sphere before
            those the part cannot be seen from are dropped.
        min_facing: Smallest cosine between the viewing direction and a surface part's
            mounting normal (the side it is mounted on); for a part on a pipe, the largest
            cosine with the pipe axis is 1 - this.
        eye_height_m: Lowest and highest eye above the bottom of the structure, metres
            (crouching at a plate to standing on it).
        beside_m: How far outside the structure's footprint the eye may be, metres.
        min_visible_ratio: Share of the part in view for a suggestion (enough to measure an
            offset: `LookCriteria.min_offset_ratio`).
        min_height_px: Projected height for a suggestion, pixels of the camera's frame
            (well above the detector's 24 px).
    """

    distances_m: tuple[float, ...] = (1.0, 1.6, 2.5)
    directions: int = 48
    min_facing: float = 0.25
    eye_height_m: tuple[float, float] = (0.4, 1.8)
    beside_m: float = 1.0
    min_visible_ratio: float = 0.7
    min_height_px: float = 40.0


@dataclass(frozen=True)
class SuggestedView:
    """A viewpoint from which a part shows well.

    Attributes:
        part_id: The part.
        eye_section_m: (3,) camera centre, section frame, metres.
        target_section_m: (3,) the point to look at (the part's centre), section frame.
        visible_ratio: Share of the part in view from there.
        height_px: Its projected height there, pixels.
    """

    part_id: str
    eye_section_m: FloatArray
    target_section_m: FloatArray
    visible_ratio: float
    height_px: float

    @property
    def T_cam_section(self) -> FloatArray:
        """(4, 4) pose of the suggested view, metres (image up = section up)."""
        return look_at_T_cam_world(self.eye_section_m, self.target_section_m, UP)

    @property
    def distance_m(self) -> float:
        """Distance from the eye to the part's centre, metres."""
        return float(np.linalg.norm(self.target_section_m - self.eye_section_m))


def suggest_views(
    viewer: ExpectedViewer,
    section: Section,
    mounts: Mapping[str, str],
    part_ids: Iterable[str],
    search: ViewSearch = ViewSearch(),
) -> dict[str, SuggestedView | None]:
    """The best viewpoint of each part (None where none tried shows it well).

    Args:
        viewer: Expected views of the section with the camera the worker will use.
        section: The section.
        mounts: Mount (``surface`` or ``inline``) of each class.
        part_ids: The parts to find viewpoints of.
        search: Which viewpoints are tried.
    """
    parts = {part.id: part for part in section.parts}
    lo, hi = section_bounds(section)
    directions = _sphere(search.directions)
    suggestions: dict[str, SuggestedView | None] = {}
    for part_id in part_ids:
        part = parts[part_id]
        centre = viewer.part_centre(part_id)
        facing = _facing(part, mounts.get(part.class_name, "surface"), directions, search)
        best: SuggestedView | None = None
        for distance in search.distances_m:
            for eye in centre + distance * directions[facing]:
                if not _reachable(eye, lo, hi, search):
                    continue
                T = look_at_T_cam_world(eye, centre, UP)
                ratio, height = viewer.part_in_view(T, part_id)
                if ratio < search.min_visible_ratio or height < search.min_height_px:
                    continue
                view = SuggestedView(part_id, eye, centre, ratio, height)
                if best is None or view_worth(ratio, height) > view_worth(
                    best.visible_ratio, best.height_px
                ):
                    best = view
        suggestions[part_id] = best
    return suggestions


def _sphere(n: int) -> FloatArray:
    """(n, 3) unit vectors spread evenly over the sphere (Fibonacci lattice)."""
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    angle = np.pi * (1.0 + np.sqrt(5.0)) * k
    r = np.sqrt(1.0 - z**2)
    return np.stack([r * np.cos(angle), r * np.sin(angle), z], axis=1)


def _facing(part: Part, mount: str, directions: FloatArray, search: ViewSearch) -> np.ndarray:
    """Which directions (from the part to the eye) can show the part (bool mask).

    The side its mounting surface faces, for a surface part; across its pipe, for an
    inline part. Straight up or down is dropped (the image's up would be undefined).
    """
    R = part.T_section_part[:3, :3]
    if mount == "inline":
        side = np.abs(directions @ R[:, 0]) <= 1.0 - search.min_facing
    else:
        side = directions @ R[:, 2] >= search.min_facing
    return side & (np.abs(directions @ UP) < 0.95)


def _reachable(eye: FloatArray, lo: FloatArray, hi: FloatArray, search: ViewSearch) -> bool:
    """Whether a worker's eye can be there.

    Above the bottom of the structure by `ViewSearch.eye_height_m`, and over or beside
    its footprint by `ViewSearch.beside_m`.
    """
    low, high = search.eye_height_m
    inside = (eye[:2] >= lo[:2] - search.beside_m).all() and (
        eye[:2] <= hi[:2] + search.beside_m
    ).all()
    return bool(inside and lo[2] + low <= eye[2] <= lo[2] + high)
