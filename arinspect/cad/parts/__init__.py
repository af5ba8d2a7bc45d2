"""Catalog of the outfitting and small structural part classes, with parametric meshes.

Each class builds a real-size, watertight triangle mesh in its own part frame (metres,
right-handed):

- "surface" parts: origin at the mounting point on the surface the part is welded or
  bolted to, +z out of that surface; the part lies in z >= 0 with min z = 0.
- "inline" parts: origin on the pipe axis at the part's centre, +x along the pipe axis,
  +z up (the stem direction).

The x axis of each surface part is stated in its builder's docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import trimesh

from arinspect.cad.parts.outfitting import cable_tray_hanger
from arinspect.cad.parts.pipework import (
    flange_pair,
    flanged_valve,
    pipe_clamp,
    pipe_penetration_sleeve,
)
from arinspect.cad.parts.plates import collar_plate, handhole_frame, lifting_lug, tripping_bracket
from arinspect.errors import ConfigError

__all__ = ["PART_CLASSES", "PartClass", "build_part_mesh"]


@dataclass(frozen=True, slots=True)
class PartClass:
    """One class of part the detector learns and the inspection checks.

    Attributes:
        name: Class id, e.g. "flanged_valve".
        title: Human-readable name.
        description: One sentence on what the part is.
        mount: "surface" (welded or bolted to a plate surface) or "inline" (on a pipe axis);
            says which frame convention the mesh follows.
        default_tolerance_mm: Allowed position deviation from the CAD model, millimetres.
        default_tolerance_deg: Allowed orientation deviation from the CAD model, degrees.
        build: Returns a new mesh of the part in its part frame, metres.
    """

    name: str
    title: str
    description: str
    mount: str
    default_tolerance_mm: float
    default_tolerance_deg: float
    build: Callable[[], trimesh.Trimesh]


PART_CLASSES: dict[str, PartClass] = {
    part.name: part
    for part in (
        PartClass(
            name="tripping_bracket",
            title="Tripping bracket",
            description="Flanged triangular bracket with a sniped heel, stiffening the corner "
            "between a plate and a web frame.",
            mount="surface",
            default_tolerance_mm=5.0,
            default_tolerance_deg=2.0,
            build=tripping_bracket,
        ),
        PartClass(
            name="collar_plate",
            title="Collar plate",
            description="Lug-type plate closing a web frame's slot around a T-bar longitudinal.",
            mount="surface",
            default_tolerance_mm=3.0,
            default_tolerance_deg=2.0,
            build=collar_plate,
        ),
        PartClass(
            name="lifting_lug",
            title="Lifting lug",
            description="Padeye with a shackle hole and cheek plates, welded on a doubler pad.",
            mount="surface",
            default_tolerance_mm=3.0,
            default_tolerance_deg=1.0,
            build=lifting_lug,
        ),
        PartClass(
            name="handhole_frame",
            title="Handhole frame",
            description="Flat-bar ring around a rounded-rectangle access opening, with studs "
            "and nuts for its cover.",
            mount="surface",
            default_tolerance_mm=5.0,
            default_tolerance_deg=2.0,
            build=handhole_frame,
        ),
        PartClass(
            name="pipe_clamp",
            title="Pipe clamp with support",
            description="Base plate and gusseted post carrying a bolted two-half clamp around "
            "a DN100 pipe.",
            mount="surface",
            default_tolerance_mm=10.0,
            default_tolerance_deg=3.0,
            build=pipe_clamp,
        ),
        PartClass(
            name="flanged_valve",
            title="Flanged gate valve",
            description="DN100 flanged gate valve with bonnet, stem and handwheel.",
            mount="inline",
            default_tolerance_mm=5.0,
            default_tolerance_deg=3.0,
            build=flanged_valve,
        ),
        PartClass(
            name="flange_pair",
            title="Bolted flange pair",
            description="Two DN100 welding-neck flanges bolted face to face with eight M16 bolts.",
            mount="inline",
            default_tolerance_mm=5.0,
            default_tolerance_deg=3.0,
            build=flange_pair,
        ),
        PartClass(
            name="pipe_penetration_sleeve",
            title="Pipe penetration sleeve",
            description="Sleeve tube with doubler ring and gussets where a pipe passes through "
            "a web plate.",
            mount="surface",
            default_tolerance_mm=5.0,
            default_tolerance_deg=2.0,
            build=pipe_penetration_sleeve,
        ),
        PartClass(
            name="cable_tray_hanger",
            title="Cable tray hanger",
            description="Braced angle-bar hanger carrying a short length of ladder cable tray.",
            mount="surface",
            default_tolerance_mm=10.0,
            default_tolerance_deg=3.0,
            build=cable_tray_hanger,
        ),
    )
}
"""Every part class by name, in catalog order."""


def build_part_mesh(class_name: str) -> trimesh.Trimesh:
    """Build the mesh of one part class in its part frame.

    Args:
        class_name: A key of PART_CLASSES.

    Returns:
        A new watertight mesh, metres, in the frame stated by the class's mount.

    Raises:
        ConfigError: If `class_name` is not a known part class.
    """
    part = PART_CLASSES.get(class_name)
    if part is None:
        raise ConfigError(f"unknown part class {class_name!r}; known: {', '.join(PART_CLASSES)}")
    return part.build()
