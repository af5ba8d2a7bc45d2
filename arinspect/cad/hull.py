"""Meshes of the hull steel of a generated panel block: plate, longitudinals, web frames, pipes.

Section frame of a generated block: x along the longitudinals (fore-aft), y across them,
z normal to the shell plate, pointing into the structure; the plate's inner surface is
z = 0. Every mesh here is built directly in a frame whose placement is returned with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from arinspect.cad import standard_sizes as sz
from arinspect.cad.parts.shapes import circle, cylinder, prism, rounded_rectangle

LIGHTENING_HOLE_WH_M = (0.40, 0.30)
"""Width (along y) and height (along z) of a web frame's lightening holes; fits a handhole frame."""
LIGHTENING_HOLE_CENTRE_Z_M = 0.66
"""Height of the lightening holes' centres above the shell plate."""
PENETRATION_HOLE_DIAMETER_M = 0.17
"""Diameter of the hole cut in a web frame where a pipe passes (takes the sleeve)."""
FACE_FLAT_WIDTH_M = 0.15
FACE_FLAT_THICKNESS_M = 0.015


@dataclass(frozen=True)
class WebFrameLayout:
    """Where openings are cut in a transverse web frame (all in the section's y-z plane, metres).

    Attributes:
        width_m: Extent along y (the block's breadth).
        height_m: Height of the web above the shell plate (without the face flat).
        slot_y_m: y of each longitudinal passing through a slot.
        lightening_hole_y_m: y of the centre of each lightening hole.
        penetration_y_m: y of each pipe penetration (axis at PIPE_AXIS_HEIGHT_M).
    """

    width_m: float
    height_m: float
    slot_y_m: tuple[float, ...]
    lightening_hole_y_m: tuple[float, ...]
    penetration_y_m: tuple[float, ...]


def shell_plate_mesh(length_m: float, width_m: float) -> trimesh.Trimesh:
    """Shell plate occupying x in [0, L], y in [0, W], z in [-t, 0], section frame."""
    return trimesh.creation.box(
        bounds=[[0.0, 0.0, -sz.PLATE_THICKNESS_M], [length_m, width_m, 0.0]]
    )


def longitudinal_profile() -> Polygon:
    """T-bar cross-section in the (y, z) plane, web centred on y = 0, foot on z = 0."""
    h, tw = sz.STIFFENER_WEB_HEIGHT_M, sz.STIFFENER_WEB_THICKNESS_M
    bf, tf = sz.STIFFENER_FLANGE_WIDTH_M, sz.STIFFENER_FLANGE_THICKNESS_M
    return unary_union([box(-tw / 2, 0.0, tw / 2, h + 0.001), box(-bf / 2, h, bf / 2, h + tf)])


def longitudinal_mesh(length_m: float) -> trimesh.Trimesh:
    """T-bar longitudinal along x from 0 to `length_m`, web centred on y = 0, standing on z = 0."""
    return prism(longitudinal_profile(), "yz", 0.0, length_m)


def web_frame_outline(layout: WebFrameLayout) -> Polygon:
    """Outline of a web frame plate in the (y, z) plane with its slots and holes cut out."""
    plate = box(0.0, 0.0, layout.width_m, layout.height_m)
    clearance = sz.SLOT_CLEARANCE_M
    slot_half_width = sz.STIFFENER_FLANGE_WIDTH_M / 2 + clearance
    slot_top = sz.STIFFENER_WEB_HEIGHT_M + sz.STIFFENER_FLANGE_THICKNESS_M + clearance
    cuts = [
        rounded_rectangle(y - slot_half_width, -0.01, y + slot_half_width, slot_top, 0.02)
        for y in layout.slot_y_m
    ]
    hole_w, hole_h = LIGHTENING_HOLE_WH_M
    zc = LIGHTENING_HOLE_CENTRE_Z_M
    cuts += [
        rounded_rectangle(y - hole_w / 2, zc - hole_h / 2, y + hole_w / 2, zc + hole_h / 2, 0.08)
        for y in layout.lightening_hole_y_m
    ]
    cuts += [
        circle((y, sz.PIPE_AXIS_HEIGHT_M), PENETRATION_HOLE_DIAMETER_M / 2)
        for y in layout.penetration_y_m
    ]
    return plate.difference(unary_union(cuts))


def web_frame_mesh(layout: WebFrameLayout) -> trimesh.Trimesh:
    """Web frame plate with its face flat, centred on x = 0 (thickness along x), section axes."""
    t = sz.WEB_FRAME_THICKNESS_M
    web = prism(web_frame_outline(layout), "yz", -t / 2, t / 2)
    face_flat = trimesh.creation.box(
        bounds=[
            [-FACE_FLAT_WIDTH_M / 2, 0.0, layout.height_m],
            [FACE_FLAT_WIDTH_M / 2, layout.width_m, layout.height_m + FACE_FLAT_THICKNESS_M],
        ]
    )
    return trimesh.util.concatenate([web, face_flat])


def pipe_mesh(length_m: float) -> trimesh.Trimesh:
    """DN100 pipe along x from 0 to `length_m`, axis on the x axis."""
    return cylinder(sz.PIPE_OD_M / 2, [0.0, 0.0, 0.0], [length_m, 0.0, 0.0], sections=32)


def translation(x: float, y: float, z: float) -> np.ndarray:
    """(4, 4) pure translation, metres."""
    T = np.eye(4)
    T[:3, 3] = (x, y, z)
    return T
