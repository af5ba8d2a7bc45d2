"""Parts on the DN100 pipe runs: clamp support, valve, flanged joint and deck sleeve.

"inline" parts (flanged_valve, flange_pair): origin on the pipe axis at the part's centre,
+x along the pipe axis, +z up (the valve stem direction). "surface" parts (pipe_clamp,
pipe_penetration_sleeve): origin on the plate surface, +z out of it, part in z >= 0.
Lengths are in metres; flanges follow EN 1092-1 DN100 PN16 (OD 220, 8 x M16 on PCD 180).
"""

from __future__ import annotations

import numpy as np
import trimesh
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from arinspect.cad.parts.shapes import (
    BOLT_SECTIONS,
    FUSE_M,
    SMALL_SECTIONS,
    bolt_circle,
    bolt_with_nut,
    circle,
    cylinder,
    difference,
    prism,
    revolve,
    rounded_rectangle,
    torus,
    union,
)
from arinspect.cad.standard_sizes import PIPE_AXIS_HEIGHT_M, PIPE_OD_M

PIPE_RADIUS_M = PIPE_OD_M / 2.0
PIPE_BORE_RADIUS_M = 0.1023 / 2.0
"""Bore of the DN100 schedule 40 pipe (wall 6.02 mm)."""

FLANGE_RADIUS_M = 0.22 / 2.0
FLANGE_THICKNESS_M = 0.02
FLANGE_PCD_RADIUS_M = 0.18 / 2.0
FLANGE_BOLTS = 8
FLANGE_BOLT_DIAMETER_M = 0.016
FLANGE_HOLE_DIAMETER_M = 0.018
FLANGE_HUB_RADIUS_M = 0.066
"""Hub radius at the back of a welding-neck flange."""

CLAMP_BASE_LENGTH_M = 0.20
CLAMP_BASE_WIDTH_M = 0.15
CLAMP_BASE_THICKNESS_M = 0.012
CLAMP_SUPPORT_WIDTH_M = 0.10
CLAMP_SUPPORT_THICKNESS_M = 0.012
CLAMP_GUSSET_LENGTH_M = 0.085
CLAMP_GUSSET_HEIGHT_M = 0.15
CLAMP_GUSSET_THICKNESS_M = 0.010
CLAMP_BAND_THICKNESS_M = 0.008
CLAMP_BAND_WIDTH_M = 0.05
CLAMP_SPLIT_GAP_M = 0.004
CLAMP_LUG_REACH_M = 0.035
"""How far the bolt lugs stand out past the clamp band, metres."""
CLAMP_LUG_THICKNESS_M = 0.012
CLAMP_BOLT_DIAMETER_M = 0.012

VALVE_FACE_TO_FACE_M = 0.25
VALVE_BORE_RADIUS_M = 0.05
VALVE_BODY_RADIUS_M = 0.095
VALVE_NECK_RADIUS_M = 0.066
VALVE_BONNET_RADIUS_M = 0.05
VALVE_BONNET_BASE_Z_M = 0.06
"""Bottom of the bonnet, sunk into the body above its bore."""
VALVE_BONNET_FLANGE_RADIUS_M = 0.075
VALVE_BONNET_FLANGE_Z_M = (0.085, 0.103)
VALVE_BONNET_TOP_Z_M = 0.22
VALVE_STEM_RADIUS_M = 0.012
VALVE_STEM_TOP_Z_M = 0.43
VALVE_WHEEL_Z_M = 0.40
VALVE_WHEEL_RADIUS_M = 0.115
"""Radius of the handwheel rim's centre circle (rim outer diameter 250 mm)."""
VALVE_WHEEL_RIM_RADIUS_M = 0.01
VALVE_WHEEL_HUB_RADIUS_M = 0.025
VALVE_WHEEL_HUB_HALF_HEIGHT_M = 0.015
VALVE_WHEEL_SPOKES = 4
VALVE_WHEEL_SPOKE_RADIUS_M = 0.007

FLANGE_PAIR_LENGTH_M = 0.20
FLANGE_PAIR_STRAIGHT_NECK_M = 0.015
"""Straight pipe-size end of each welding neck, where the butt weld goes."""
FLANGE_RAISED_FACE_RADIUS_M = 0.158 / 2.0
FLANGE_RAISED_FACE_HEIGHT_M = 0.002
FLANGE_GASKET_THICKNESS_M = 0.003

SLEEVE_OUTER_RADIUS_M = 0.1683 / 2.0
SLEEVE_WALL_M = 0.008
SLEEVE_LENGTH_M = 0.15
SLEEVE_DOUBLER_RADIUS_M = 0.28 / 2.0
SLEEVE_DOUBLER_THICKNESS_M = 0.012
SLEEVE_GUSSETS = 4
SLEEVE_GUSSET_HEIGHT_M = 0.06
SLEEVE_GUSSET_THICKNESS_M = 0.010


def pipe_clamp() -> trimesh.Trimesh:
    """Build a pipe support: base plate, gusseted flat-bar post and a bolted two-half clamp.

    Frame: origin at the centre of the base plate's underside on the surface, +z up; the
    clamped pipe (not included) runs along +x with its axis at z = PIPE_AXIS_HEIGHT_M.
    The clamp band's bore is PIPE_OD_M; the upper and lower halves are split 4 mm apart at
    axis height and pulled together by an M12 bolt through the lugs on each side (+-y).

    Returns:
        The support; bbox x -0.100..0.100, y -0.100..0.100, z 0..0.515.
    """
    axis_z = PIPE_AXIS_HEIGHT_M
    r_out = PIPE_RADIUS_M + CLAMP_BAND_THICKNESS_M
    half_gap = CLAMP_SPLIT_GAP_M / 2.0
    lug_out = r_out + CLAMP_LUG_REACH_M
    lug_in = PIPE_RADIUS_M + FUSE_M
    bore = circle((0.0, axis_z), PIPE_RADIUS_M)
    lugs = [
        box(side * lug_in, z0, side * lug_out, z0 + CLAMP_LUG_THICKNESS_M)
        for side in (-1.0, 1.0)
        for z0 in (axis_z - half_gap - CLAMP_LUG_THICKNESS_M, axis_z + half_gap)
    ]
    band = (
        unary_union([circle((0.0, axis_z), r_out), *lugs])
        .difference(bore)
        .difference(box(-1.0, axis_z - half_gap, 1.0, axis_z + half_gap))
    )
    base_top = CLAMP_BASE_THICKNESS_M
    post = box(
        -CLAMP_SUPPORT_WIDTH_M / 2.0,
        base_top - FUSE_M,
        CLAMP_SUPPORT_WIDTH_M / 2.0,
        axis_z - half_gap,
    ).difference(bore)
    gusset = Polygon(
        [
            (CLAMP_SUPPORT_THICKNESS_M / 2.0 - FUSE_M, base_top - FUSE_M),
            (CLAMP_SUPPORT_THICKNESS_M / 2.0 + CLAMP_GUSSET_LENGTH_M, base_top - FUSE_M),
            (CLAMP_SUPPORT_THICKNESS_M / 2.0 - FUSE_M, base_top + CLAMP_GUSSET_HEIGHT_M),
        ]
    )
    mirrored_gusset = Polygon([(-x, z) for x, z in gusset.exterior.coords])
    half_gusset_t = CLAMP_GUSSET_THICKNESS_M / 2.0
    bolt_y = r_out + CLAMP_LUG_REACH_M / 2.0
    lug_top = axis_z + half_gap + CLAMP_LUG_THICKNESS_M
    lug_bottom = axis_z - half_gap - CLAMP_LUG_THICKNESS_M
    bolts = [
        solid
        for side in (-1.0, 1.0)
        for solid in bolt_with_nut(
            (0.0, side * bolt_y, lug_top), (0.0, side * bolt_y, lug_bottom), CLAMP_BOLT_DIAMETER_M
        )
    ]
    base = rounded_rectangle(
        -CLAMP_BASE_LENGTH_M / 2.0,
        -CLAMP_BASE_WIDTH_M / 2.0,
        CLAMP_BASE_LENGTH_M / 2.0,
        CLAMP_BASE_WIDTH_M / 2.0,
        radius=0.015,
    )
    half_post_t = CLAMP_SUPPORT_THICKNESS_M / 2.0
    return union(
        [
            prism(base, "xy", 0.0, base_top),
            prism(post, "yz", -half_post_t, half_post_t),
            prism(gusset, "xz", -half_gusset_t, half_gusset_t),
            prism(mirrored_gusset, "xz", -half_gusset_t, half_gusset_t),
            prism(band, "yz", -CLAMP_BAND_WIDTH_M / 2.0, CLAMP_BAND_WIDTH_M / 2.0),
            *bolts,
        ]
    )


def _flange_bolt_axes(x0: float, x1: float) -> list[tuple[tuple[float, float, float], ...]]:
    """Return the (start, end) points of the DN100 bolt axes between x0 and x1, metres.

    Bolts lie on the pitch circle around the x axis, straddling the vertical centre line.
    """
    return [
        ((x0, float(y), float(z)), (x1, float(y), float(z)))
        for y, z in bolt_circle(FLANGE_PCD_RADIUS_M, FLANGE_BOLTS)
    ]


def _sphere_arc(radius: float, x0: float, x1: float, points: int) -> list[tuple[float, float]]:
    """Return (radius, x) profile points of a sphere about the origin between x0 and x1."""
    xs = np.linspace(x0, x1, points)
    return [(float(np.sqrt(radius**2 - x**2)), float(x)) for x in xs]


def flanged_valve() -> trimesh.Trimesh:
    """Build a DN100 flanged gate valve with bonnet, rising stem and handwheel.

    Frame ("inline"): origin on the pipe axis at the valve centre, +x along the pipe,
    +z up the stem. A spherical cast body (r = 95 mm) with a 100 mm bore carries two
    220 x 20 mm end flanges (8 x 18 mm bolt holes on PCD 180), 250 mm face to face; a
    flanged bonnet rises to z = 0.22, the stem to z = 0.43, and a 250 mm handwheel (rim,
    4 spokes, hub) sits at z = 0.40.

    Returns:
        The valve; bbox x -0.125..0.125, y -0.125..0.125, z -0.110..0.430.
    """
    half = VALVE_FACE_TO_FACE_M / 2.0
    back = half - FLANGE_THICKNESS_M
    neck_x = float(np.sqrt(VALVE_BODY_RADIUS_M**2 - VALVE_NECK_RADIUS_M**2))
    body_profile = [
        (VALVE_BORE_RADIUS_M, -half),
        (FLANGE_RADIUS_M, -half),
        (FLANGE_RADIUS_M, -back),
        (VALVE_NECK_RADIUS_M, -back),
        *_sphere_arc(VALVE_BODY_RADIUS_M, -neck_x, neck_x, 7),
        (VALVE_NECK_RADIUS_M, back),
        (FLANGE_RADIUS_M, back),
        (FLANGE_RADIUS_M, half),
        (VALVE_BORE_RADIUS_M, half),
    ]
    body = revolve(body_profile, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    holes = [
        cylinder(FLANGE_HOLE_DIAMETER_M / 2.0, start, end, sections=BOLT_SECTIONS)
        for x0, x1 in ((-half - FUSE_M, -back + FUSE_M), (back - FUSE_M, half + FUSE_M))
        for start, end in _flange_bolt_axes(x0, x1)
    ]
    flange_lo, flange_hi = VALVE_BONNET_FLANGE_Z_M
    bonnet = revolve(
        [
            (0.0, VALVE_BONNET_BASE_Z_M),
            (VALVE_BONNET_RADIUS_M, VALVE_BONNET_BASE_Z_M),
            (VALVE_BONNET_RADIUS_M, flange_lo),
            (VALVE_BONNET_FLANGE_RADIUS_M, flange_lo),
            (VALVE_BONNET_FLANGE_RADIUS_M, flange_hi),
            (VALVE_BONNET_RADIUS_M, flange_hi),
            (0.6 * VALVE_BONNET_RADIUS_M, VALVE_BONNET_TOP_Z_M),
            (0.0, VALVE_BONNET_TOP_Z_M),
        ],
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 1.0),
        sections=SMALL_SECTIONS,
    )
    wheel_z = VALVE_WHEEL_Z_M
    spokes = [
        cylinder(
            VALVE_WHEEL_SPOKE_RADIUS_M,
            (0.5 * VALVE_WHEEL_HUB_RADIUS_M * c, 0.5 * VALVE_WHEEL_HUB_RADIUS_M * s, wheel_z),
            (VALVE_WHEEL_RADIUS_M * c, VALVE_WHEEL_RADIUS_M * s, wheel_z),
            sections=BOLT_SECTIONS,
        )
        for c, s in bolt_circle(1.0, VALVE_WHEEL_SPOKES, phase=0.0)
    ]
    hub_half = VALVE_WHEEL_HUB_HALF_HEIGHT_M
    return union(
        [
            difference(body, holes),
            bonnet,
            cylinder(
                VALVE_STEM_RADIUS_M,
                (0.0, 0.0, VALVE_BONNET_TOP_Z_M - FUSE_M),
                (0.0, 0.0, VALVE_STEM_TOP_Z_M),
            ),
            cylinder(
                VALVE_WHEEL_HUB_RADIUS_M,
                (0.0, 0.0, wheel_z - hub_half),
                (0.0, 0.0, wheel_z + hub_half),
            ),
            torus(VALVE_WHEEL_RADIUS_M, VALVE_WHEEL_RIM_RADIUS_M, (0.0, 0.0, wheel_z), (0, 0, 1)),
            *spokes,
        ]
    )


def flange_pair() -> trimesh.Trimesh:
    """Build two DN100 welding-neck flanges bolted face to face, with gasket.

    Frame ("inline"): origin on the pipe axis at the joint (mid-gasket), +x along the
    pipe. Each flange is a 220 x 20 mm disc with a 2 mm raised face (158 mm) towards the
    3 mm gasket and a neck tapering from the 132 mm hub to PIPE_OD_M, ending 100 mm from
    the joint. Eight M16 hex bolts (heads on -x, nuts on +x) pass through both flanges.

    Returns:
        The joint; bbox x -0.100..0.100, y -0.110..0.110, z -0.110..0.110. Genus 1 (bore).
    """
    end = FLANGE_PAIR_LENGTH_M / 2.0
    face = FLANGE_GASKET_THICKNESS_M / 2.0 + FLANGE_RAISED_FACE_HEIGHT_M
    back = face + FLANGE_THICKNESS_M
    # One closed (radius, x) profile for both flanges and the gasket: from the gasket rim
    # out along the +x flange and neck, back along the bore, then the same mirrored to -x.
    plus_side = [
        (FLANGE_RAISED_FACE_RADIUS_M, face),
        (FLANGE_RADIUS_M, face),
        (FLANGE_RADIUS_M, back),
        (FLANGE_HUB_RADIUS_M, back),
        (PIPE_RADIUS_M, end - FLANGE_PAIR_STRAIGHT_NECK_M),
        (PIPE_RADIUS_M, end),
        (PIPE_BORE_RADIUS_M, end),
    ]
    profile = [*plus_side, *[(r, -x) for r, x in plus_side[::-1]]]
    joint = revolve(profile, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    bolts = [
        solid
        for start, stop in _flange_bolt_axes(-back, back)
        for solid in bolt_with_nut(start, stop, FLANGE_BOLT_DIAMETER_M)
    ]
    return union([joint, *bolts])


def pipe_penetration_sleeve() -> trimesh.Trimesh:
    """Build a pipe penetration sleeve through a web plate, with doubler ring and gussets.

    Frame: origin at the centre of the penetration on the web face, +z along the sleeve
    out of the face; only the half on this side of the plate is modelled. The sleeve is a
    168.3 x 8 mm tube (bore 152.3 mm, clear for PIPE_OD_M) 150 mm long, welded to a
    280 x 12 mm doubler ring, braced by four 60 mm triangular gussets at 45 deg.

    Returns:
        The sleeve; bbox x -0.140..0.140, y -0.140..0.140, z 0..0.150. Genus 1 (bore).
    """
    r_in = SLEEVE_OUTER_RADIUS_M - SLEEVE_WALL_M
    r_out = SLEEVE_OUTER_RADIUS_M
    doubler_top = SLEEVE_DOUBLER_THICKNESS_M
    sleeve = revolve(
        [
            (r_in, 0.0),
            (SLEEVE_DOUBLER_RADIUS_M, 0.0),
            (SLEEVE_DOUBLER_RADIUS_M, doubler_top),
            (r_out, doubler_top),
            (r_out, SLEEVE_LENGTH_M),
            (r_in, SLEEVE_LENGTH_M),
        ],
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 1.0),
    )
    gusset_outline = Polygon(
        [
            (r_out - FUSE_M, doubler_top - FUSE_M),
            (SLEEVE_DOUBLER_RADIUS_M - 0.015, doubler_top - FUSE_M),
            (r_out - FUSE_M, doubler_top + SLEEVE_GUSSET_HEIGHT_M),
        ]
    )
    half_t = SLEEVE_GUSSET_THICKNESS_M / 2.0
    gusset = prism(gusset_outline, "xz", -half_t, half_t)
    gussets = [
        gusset.copy().apply_transform(
            trimesh.transformations.rotation_matrix(angle, (0.0, 0.0, 1.0))
        )
        for angle in np.pi / 4.0 + 2.0 * np.pi * np.arange(SLEEVE_GUSSETS) / SLEEVE_GUSSETS
    ]
    return union([sleeve, *gussets])
