"""Seeded defects for synthetic inspection recordings: parts removed, parts moved.

Defects are drawn among the parts a trajectory actually shows well (checked on the
nominal CAD with the inspection's own expected view), so that a recording tests
detection rather than luck. Moves are realistic: surface parts slide along their mounting
surface (their x-y plane), inline parts along their pipe (their x axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arinspect.cad.catalog import load_catalog
from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.inspection.expected import ExpectedViewer
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class Defects:
    """Parts to leave out and parts to move.

    Attributes:
        removed: Ids of removed parts.
        moved: Section-frame displacement of each moved part, metres.
    """

    removed: list[str]
    moved: dict[str, tuple[float, float, float]]


def well_seen_parts(
    section: Section,
    camera: CameraModel,
    poses: Sequence[FloatArray],
    min_looks: int = 4,
    min_ratio: float = 0.7,
    min_height_px: float = 30.0,
) -> list[str]:
    """Ids of parts at least `min_looks` poses show mostly unhidden and large enough."""
    viewer = ExpectedViewer(SectionScene(section), camera)
    looks: dict[str, int] = {}
    for T_cam_section in poses:
        for part in viewer.view(T_cam_section).parts.values():
            if part.visible_ratio >= min_ratio and part.height_px >= min_height_px:
                looks[part.part_id] = looks.get(part.part_id, 0) + 1
    return [p.id for p in section.parts if looks.get(p.id, 0) >= min_looks]


def move_along_mount(
    T_section_part: FloatArray, mount: str, distance_m: float, rng: np.random.Generator
) -> tuple[float, float, float]:
    """A displacement of `distance_m` along the mounting surface or the pipe axis."""
    R = np.asarray(T_section_part)[:3, :3]
    if mount == "inline":
        direction = R[:, 0] * rng.choice([-1.0, 1.0])
    else:
        angle = rng.uniform(0.0, 2 * np.pi)
        direction = R[:, 0] * np.cos(angle) + R[:, 1] * np.sin(angle)
    return tuple(float(v) for v in direction * distance_m)  # type: ignore[return-value]


def pick_defects(
    section: Section,
    candidates: Sequence[str],
    n_removed: int,
    n_moved: int,
    move_range_m: tuple[float, float],
    rng: np.random.Generator,
) -> Defects:
    """Draw removed and moved parts among `candidates` (fewer if there are not enough)."""
    chosen = [str(c) for c in rng.permutation(list(candidates))]
    removed = chosen[:n_removed]
    mounts = {name: entry.mount for name, entry in load_catalog().classes.items()}
    moved = {}
    for part_id in chosen[n_removed : n_removed + n_moved]:
        part = section.part(part_id)
        distance = rng.uniform(*move_range_m)
        moved[part_id] = move_along_mount(
            part.T_section_part, mounts[part.class_name], distance, rng
        )
    return Defects(removed, moved)
