"""Camera paths past a section for synthetic recordings: a worker's walk-past and an orbit.

Poses are returned as T_cam_section (4, 4), metres, for an OpenCV camera (x right, y
down, z forward) looking at the structure side of the section (+z of the section frame
is "up" in the image).
"""

from __future__ import annotations

import numpy as np

from arinspect.cad.section import Section
from arinspect.errors import ConfigError
from arinspect.geometry import look_at_T_cam_world, rotation_from_rotvec, transform_points
from arinspect.typed import FloatArray

TRAJECTORIES = ("walk", "orbit")


def section_bounds(section: Section) -> FloatArray:
    """(2, 3) axis-aligned bounds [min, max] of the section's structure, section frame, metres."""
    corners = []
    for element in section.structure:
        lo, hi = section.mesh(element).bounds
        box = np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        corners.append(transform_points(element.T_section_part, box))
    pts = np.concatenate(corners)
    return np.stack([pts.min(axis=0), pts.max(axis=0)])


def _jitter(
    T_cam_section: FloatArray, rng: np.random.Generator, position_m: float, angle_rad: float
) -> FloatArray:
    """Perturb a camera pose by a small random head motion (camera frame)."""
    T = np.eye(4)
    T[:3, :3] = rotation_from_rotvec(rng.normal(0.0, angle_rad, 3))
    T[:3, 3] = rng.normal(0.0, position_m, 3)
    return T @ T_cam_section


def walk(section: Section, n_frames: int, rng: np.random.Generator) -> list[FloatArray]:
    """A worker walking along the block's side at head height, looking across at the structure.

    The eye moves along x from one end to the other 0.6 m beside the block, 2.2 - 2.8 m
    above the plate, looking at points 1.2 m ahead on the block's centre line, with a
    little head bob: viewing distances of about 2 - 4 m.
    """
    (x0, y0, _), (x1, y1, _) = section_bounds(section)
    side = rng.choice([-1.0, 1.0])
    eye_y = (y1 + 0.6) if side > 0 else (y0 - 0.6)
    height = rng.uniform(2.5, 3.0)
    xs = np.linspace(x0 - 1.0, x1 - 2.5, n_frames)
    poses = []
    for x in xs:
        eye = np.array([x, eye_y, height])
        target = np.array([x + 1.8, (y0 + y1) / 2 - side * 0.2, 0.3])
        poses.append(
            _jitter(look_at_T_cam_world(eye, target, [0.0, 0.0, 1.0]), rng, 0.02, np.deg2rad(1.0))
        )
    return poses


def orbit(section: Section, n_frames: int, rng: np.random.Generator) -> list[FloatArray]:
    """A circle around the block's centre, 1 m outside it, 2.4 - 3.0 m up, looking at the centre."""
    lo, hi = section_bounds(section)
    centre = (lo + hi) / 2
    radius = max(hi[0] - lo[0], hi[1] - lo[1]) / 2 + 1.0
    height = rng.uniform(2.4, 3.0)
    start = rng.uniform(0.0, 2 * np.pi)
    poses = []
    for angle in start + np.linspace(0.0, 2 * np.pi, n_frames, endpoint=False):
        eye = centre + np.array([radius * np.cos(angle), radius * np.sin(angle), 0.0])
        eye[2] = height
        target = np.array([centre[0], centre[1], 0.3])
        poses.append(
            _jitter(look_at_T_cam_world(eye, target, [0.0, 0.0, 1.0]), rng, 0.02, np.deg2rad(1.0))
        )
    return poses


def make_trajectory(
    name: str, section: Section, n_frames: int, rng: np.random.Generator
) -> list[FloatArray]:
    """T_cam_section of each frame of the named trajectory (``walk`` or ``orbit``)."""
    if name == "walk":
        return walk(section, n_frames, rng)
    if name == "orbit":
        return orbit(section, n_frames, rng)
    raise ConfigError(f"unknown trajectory {name!r}; known: {', '.join(TRAJECTORIES)}")
