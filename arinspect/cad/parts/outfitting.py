"""Outfitting supports welded to a plate surface: the cable tray hanger.

"surface" part: origin at the centre of the base plate on the plate surface, +z out of
the surface, the part in z >= 0 with min z = 0. Lengths are in metres.
"""

from __future__ import annotations

import trimesh
from shapely.geometry import box

from arinspect.cad.parts.shapes import (
    FUSE_M,
    angle_section,
    prism,
    rounded_rectangle,
    strip,
    union,
)

HANGER_BASE_SIZE_M = 0.15
HANGER_BASE_THICKNESS_M = 0.012
HANGER_ANGLE_LEG_M = 0.05
HANGER_ANGLE_THICKNESS_M = 0.006
"""Post and arm are 50 x 50 x 6 mm equal angles."""
HANGER_TOP_M = 0.35
"""Height of the arm's top face (the tray seat) above the surface."""
HANGER_ARM_LENGTH_M = 0.35
HANGER_BRACE_WIDTH_M = 0.04
HANGER_BRACE_THICKNESS_M = 0.006
HANGER_BRACE_FOOT = (0.0, 0.12)
"""(x, z) of the centre of the brace's lower end, on the post."""
HANGER_BRACE_HEAD = (0.24, 0.325)
"""(x, z) of the centre of the brace's upper end, on the arm."""

TRAY_LENGTH_M = 0.30
TRAY_X_M = (0.13, 0.33)
"""x range of the ladder tray's outside faces; the tray is centred on y = 0."""
TRAY_RAIL_HEIGHT_M = 0.06
TRAY_RAIL_LIP_M = 0.02
TRAY_SHEET_M = 0.003
TRAY_RUNG_WIDTH_M = 0.03
TRAY_RUNG_HEIGHT_M = 0.015
TRAY_RUNG_Y_M = (-0.10, 0.0, 0.10)


def cable_tray_hanger() -> trimesh.Trimesh:
    """Build an inverted-L cable tray hanger carrying a short length of ladder tray.

    Frame: origin at the centre of the base plate's underside on the surface, +z up. A
    50 x 50 x 6 angle post rises from a 150 x 150 x 12 base plate to z = 0.35, where a
    50 x 50 x 6 angle arm cantilevers 350 mm along +x, braced by a 40 x 6 flat bar. A
    300 mm length of 200 x 60 mm ladder tray (two lipped side rails, three rungs) runs
    along y on top of the arm.

    Returns:
        The hanger; bbox x -0.075..0.350, y -0.150..0.150, z 0..0.410.
    """
    half_leg = HANGER_ANGLE_LEG_M / 2.0
    half_base = HANGER_BASE_SIZE_M / 2.0
    base = rounded_rectangle(-half_base, -half_base, half_base, half_base, radius=0.01)
    # Post: heel at (-x, -y) so one leg faces -y (brace side) and one faces -x.
    leg, t = HANGER_ANGLE_LEG_M, HANGER_ANGLE_THICKNESS_M
    post = angle_section((-half_leg, -half_leg), leg, leg, t)
    # Arm: horizontal leg on top (the tray seat), vertical leg hanging on the -y side.
    arm = angle_section((-half_leg, HANGER_TOP_M), leg, -leg, t)
    # Brace: flat bar against the inner faces of the -y legs of post and arm.
    brace_y0 = -half_leg + t - FUSE_M
    brace = strip(HANGER_BRACE_FOOT, HANGER_BRACE_HEAD, HANGER_BRACE_WIDTH_M)

    seat = HANGER_TOP_M - FUSE_M
    x0, x1 = TRAY_X_M
    # Side rails: a web up from the seat with a lip along the tray bottom, facing inwards.
    rail_height = FUSE_M + TRAY_RAIL_HEIGHT_M
    rails = [
        angle_section((x0, seat), TRAY_RAIL_LIP_M, rail_height, TRAY_SHEET_M),
        angle_section((x1, seat), -TRAY_RAIL_LIP_M, rail_height, TRAY_SHEET_M),
    ]
    rung = box(
        x0 + TRAY_SHEET_M - FUSE_M, seat, x1 - TRAY_SHEET_M + FUSE_M, seat + TRAY_RUNG_HEIGHT_M
    )
    half_rung = TRAY_RUNG_WIDTH_M / 2.0
    half_tray = TRAY_LENGTH_M / 2.0
    return union(
        [
            prism(base, "xy", 0.0, HANGER_BASE_THICKNESS_M),
            prism(post, "xy", HANGER_BASE_THICKNESS_M - FUSE_M, HANGER_TOP_M),
            prism(arm, "yz", -half_leg, HANGER_ARM_LENGTH_M),
            prism(brace, "xz", brace_y0, brace_y0 + HANGER_BRACE_THICKNESS_M + FUSE_M),
            *[prism(rail, "xz", -half_tray, half_tray) for rail in rails],
            *[prism(rung, "xz", y - half_rung, y + half_rung) for y in TRAY_RUNG_Y_M],
        ]
    )
