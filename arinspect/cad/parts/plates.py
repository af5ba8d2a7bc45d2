"""Plate-type parts welded to a plate surface: brackets, collar plates, lugs and frames.

All four are "surface" parts: the origin is the mounting point on the plate surface the
part is welded to, +z points out of that surface, and the part lies in z >= 0 with
min z = 0. Lengths are in metres.
"""

from __future__ import annotations

import numpy as np
import trimesh
from shapely.geometry import MultiPoint, Polygon, box

from arinspect.cad.parts.shapes import (
    BOLT_SECTIONS,
    FUSE_M,
    circle,
    cylinder,
    hex_prism,
    prism,
    rounded_rectangle,
    strip,
    union,
)
from arinspect.cad.standard_sizes import (
    SLOT_CLEARANCE_M,
    STIFFENER_FLANGE_THICKNESS_M,
    STIFFENER_FLANGE_WIDTH_M,
    STIFFENER_WEB_HEIGHT_M,
    STIFFENER_WEB_THICKNESS_M,
)

BRACKET_LEG_M = 0.30
BRACKET_THICKNESS_M = 0.012
BRACKET_SNIPE_M = 0.035
BRACKET_TOE_M = 0.02
"""Straight toe at the end of each leg, square to the leg, before the free edge starts."""
FACE_FLAT_WIDTH_M = 0.075
FACE_FLAT_THICKNESS_M = 0.012

COLLAR_THICKNESS_M = 0.012
COLLAR_SIDE_MARGIN_M = 0.08
COLLAR_TOP_MARGIN_M = 0.06
COLLAR_CORNER_RADIUS_M = 0.015

LUG_THICKNESS_M = 0.025
LUG_LENGTH_M = 0.25
LUG_HEIGHT_M = 0.20
"""Height of the lug plate above its base pad."""
LUG_TOP_RADIUS_M = 0.075
LUG_HOLE_DIAMETER_M = 0.055
LUG_CHEEK_DIAMETER_M = 0.13
LUG_CHEEK_THICKNESS_M = 0.015
LUG_PAD_LENGTH_M = 0.30
LUG_PAD_WIDTH_M = 0.10
LUG_PAD_THICKNESS_M = 0.015

HANDHOLE_LENGTH_M = 0.40
HANDHOLE_WIDTH_M = 0.30
HANDHOLE_CORNER_RADIUS_M = 0.05
HANDHOLE_RING_WIDTH_M = 0.06
HANDHOLE_RING_THICKNESS_M = 0.02
HANDHOLE_STUD_DIAMETER_M = 0.016
HANDHOLE_STUD_PITCH_M = 0.10
HANDHOLE_NUT_HEIGHT_M = 0.013
HANDHOLE_STUD_PROTRUSION_M = 0.006


def tripping_bracket() -> trimesh.Trimesh:
    """Build a flanged tripping bracket in the corner between a plate and a web frame.

    Frame: origin at the corner where the horizontal plate (z = 0) meets the vertical web
    frame (x = 0); the bracket web lies in the x-z plane with its 12 mm thickness centred
    on y = 0, one 300 mm leg along +x on the plate and one along +z up the web frame. A
    35 mm snipe is cut off the corner where the two welds meet. The straight free edge
    carries a 75 x 12 mm face flat, trimmed to stay inside the legs' reach.

    Returns:
        The bracket; bbox x 0..0.300, y -0.0375..0.0375, z 0..0.300.
    """
    leg, toe, snipe = BRACKET_LEG_M, BRACKET_TOE_M, BRACKET_SNIPE_M
    web = Polygon([(snipe, 0.0), (leg, 0.0), (leg, toe), (toe, leg), (0.0, leg), (0.0, snipe)])
    half_t = BRACKET_THICKNESS_M / 2.0
    # Face flat: a bar on the free edge from (leg, toe) to (toe, leg), sunk FUSE_M into the
    # web and standing FACE_FLAT_THICKNESS_M proud of it along the edge's outward normal.
    normal = np.array([1.0, 1.0]) / np.sqrt(2.0)
    offset = (FACE_FLAT_THICKNESS_M - FUSE_M) / 2.0 * normal
    # Trimming each end by the flat's thickness keeps its outer corners at x, z <= leg.
    flat = strip(
        tuple(np.array([leg, toe]) + offset),
        tuple(np.array([toe, leg]) + offset),
        FACE_FLAT_THICKNESS_M + FUSE_M,
        extend=-(FACE_FLAT_THICKNESS_M + FUSE_M),
    )
    return union(
        [
            prism(web, "xz", -half_t, half_t),
            prism(flat, "xz", -FACE_FLAT_WIDTH_M / 2.0, FACE_FLAT_WIDTH_M / 2.0),
        ]
    )


def collar_plate() -> trimesh.Trimesh:
    """Build a lug-type collar plate closing a web frame's slot around a T-bar longitudinal.

    Frame: the plate lies flat on the web frame face, z 0..0.012; origin on that face at
    the root of the stiffener (where its web meets the shell plate); +y up the stiffener
    web; +x across the stiffener. An inverted-T notch, the T-bar's section plus
    SLOT_CLEARANCE_M, lets the longitudinal pass; the plate wraps both sides of its web
    and bridges over its flange. Convex corners are rounded (r = 15 mm).

    Returns:
        The collar plate; bbox x -0.130..0.130, y 0..0.310, z 0..0.012.
    """
    half_width = STIFFENER_FLANGE_WIDTH_M / 2.0 + COLLAR_SIDE_MARGIN_M
    height = STIFFENER_WEB_HEIGHT_M + COLLAR_TOP_MARGIN_M
    half_gap = SLOT_CLEARANCE_M / 2.0
    web_half = STIFFENER_WEB_THICKNESS_M / 2.0 + half_gap
    flange_half = STIFFENER_FLANGE_WIDTH_M / 2.0 + half_gap
    flange_top = STIFFENER_WEB_HEIGHT_M + STIFFENER_FLANGE_THICKNESS_M
    notch = box(-web_half, -1.0, web_half, STIFFENER_WEB_HEIGHT_M).union(
        box(-flange_half, STIFFENER_WEB_HEIGHT_M - half_gap, flange_half, flange_top + half_gap)
    )
    outline = box(-half_width, 0.0, half_width, height).difference(notch)
    r = COLLAR_CORNER_RADIUS_M
    rounded = outline.buffer(-r, join_style="mitre").buffer(r, quad_segs=4)
    return prism(rounded, "xy", 0.0, COLLAR_THICKNESS_M)


def lifting_lug() -> trimesh.Trimesh:
    """Build a padeye lifting lug with cheek plates, welded on a doubler pad.

    Frame: origin at the centre of the pad's underside on the plate surface; the 25 mm lug
    plate lies in the x-z plane, thickness centred on y = 0, length along x. The lug has a
    semicircular top (r = 75 mm) around a 55 mm shackle hole, with a 130 mm cheek ring
    15 mm thick on both faces; the pad (300 x 100 x 15 mm) is its base footprint.

    Returns:
        The lug; bbox x -0.150..0.150, y -0.050..0.050, z 0..0.215. Genus 1 (the hole).
    """
    pad_top = LUG_PAD_THICKNESS_M
    hole_z = pad_top + LUG_HEIGHT_M - LUG_TOP_RADIUS_M
    half_len = LUG_LENGTH_M / 2.0
    hole = circle((0.0, hole_z), LUG_HOLE_DIAMETER_M / 2.0)
    plate_outline = MultiPoint(
        [
            *circle((0.0, hole_z), LUG_TOP_RADIUS_M).exterior.coords,
            (-half_len, pad_top / 2.0),
            (half_len, pad_top / 2.0),
        ]
    ).convex_hull.difference(hole)
    cheek = circle((0.0, hole_z), LUG_CHEEK_DIAMETER_M / 2.0).difference(hole)
    face = LUG_THICKNESS_M / 2.0
    pad = rounded_rectangle(
        -LUG_PAD_LENGTH_M / 2.0,
        -LUG_PAD_WIDTH_M / 2.0,
        LUG_PAD_LENGTH_M / 2.0,
        LUG_PAD_WIDTH_M / 2.0,
        radius=0.02,
    )
    return union(
        [
            prism(pad, "xy", 0.0, pad_top),
            prism(plate_outline, "xz", -face, face),
            prism(cheek, "xz", face - FUSE_M, face + LUG_CHEEK_THICKNESS_M),
            prism(cheek, "xz", -face - LUG_CHEEK_THICKNESS_M, -face + FUSE_M),
        ]
    )


def _handhole_stud_positions() -> list[tuple[float, float]]:
    """Return the stud (x, y) positions on the centre line of the handhole ring, metres.

    Studs are spaced HANDHOLE_STUD_PITCH_M along the straight sides, plus one at 45 deg in
    each rounded corner: 4 per long side, 2 per short side, 4 corners = 16 studs.
    """
    mid_offset = HANDHOLE_RING_WIDTH_M / 2.0
    mid_x = HANDHOLE_LENGTH_M / 2.0 + mid_offset
    mid_y = HANDHOLE_WIDTH_M / 2.0 + mid_offset
    corner_r = HANDHOLE_CORNER_RADIUS_M + mid_offset
    pitch = HANDHOLE_STUD_PITCH_M
    long_side = [(-1.5 + k) * pitch for k in range(4)]
    short_side = [-pitch / 2.0, pitch / 2.0]
    corner = corner_r / np.sqrt(2.0)
    positions = [(x, sy * mid_y) for sy in (-1.0, 1.0) for x in long_side]
    positions += [(sx * mid_x, y) for sx in (-1.0, 1.0) for y in short_side]
    positions += [
        (sx * (mid_x - corner_r + corner), sy * (mid_y - corner_r + corner))
        for sx in (-1.0, 1.0)
        for sy in (-1.0, 1.0)
    ]
    return positions


def handhole_frame() -> trimesh.Trimesh:
    """Build a handhole frame: a flat-bar ring with 16 M16 studs and nuts, cover removed.

    Frame: origin at the centre of the opening on the plate face, +z out of the plate,
    the 400 mm side of the opening along x and the 300 mm side along y. The ring is 60 mm
    wide, 20 mm proud, with corner radius 50 mm at the opening; each stud carries a hex
    nut (24 mm across flats) seated on the ring.

    Returns:
        The frame; bbox x -0.260..0.260, y -0.210..0.210, z 0..0.039. Genus 1 (the opening).
    """
    half_l = HANDHOLE_LENGTH_M / 2.0
    half_w = HANDHOLE_WIDTH_M / 2.0
    opening = rounded_rectangle(-half_l, -half_w, half_l, half_w, HANDHOLE_CORNER_RADIUS_M)
    ring = opening.buffer(HANDHOLE_RING_WIDTH_M, quad_segs=8).difference(opening)
    top = HANDHOLE_RING_THICKNESS_M
    nut_top = top + HANDHOLE_NUT_HEIGHT_M
    studs = []
    for x, y in _handhole_stud_positions():
        studs.append(
            cylinder(
                HANDHOLE_STUD_DIAMETER_M / 2.0,
                (x, y, top / 2.0),
                (x, y, nut_top + HANDHOLE_STUD_PROTRUSION_M),
                sections=BOLT_SECTIONS,
            )
        )
        studs.append(
            hex_prism(1.5 * HANDHOLE_STUD_DIAMETER_M, (x, y, top - FUSE_M), (x, y, nut_top))
        )
    return union([prism(ring, "xy", 0.0, top), *studs])
