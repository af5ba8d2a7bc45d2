"""Primitive solids and boolean wrappers shared by the part builders.

Every length is in metres. Unless a docstring says otherwise, points and axes are given
in the frame of the part being built (right-handed), and every returned mesh is a closed
volume with outward normals, ready for the manifold boolean engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import trimesh
from numpy.typing import ArrayLike
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from arinspect.typed import FloatArray

Plane = Literal["xy", "yz", "xz"]
"""Plane a 2-D outline is drawn in: "xy" (u=x, v=y), "yz" (u=y, v=z) or "xz" (u=x, v=z)."""

ROUND_SECTIONS = 32
"""Segments of a full circle on large round features (rings, flanges, tubes)."""
SMALL_SECTIONS = 24
"""Segments of a full circle on medium round features (bonnets, stems, hubs)."""
BOLT_SECTIONS = 8
"""Segments of a full circle on bolts, studs, bolt holes and spokes."""
FUSE_M = 0.001
"""Depth one solid sinks into another it is welded or clamped to, so a union fuses them
into one body instead of leaving two solids that only touch along a face."""

# Rotation taking the local (u, v, w) extrusion frame of each plane to the part frame;
# all three are proper rotations, so the outward normals of the extrusion are kept.
_PLANE_ROTATIONS: dict[Plane, FloatArray] = {
    "xy": np.eye(3),
    "yz": np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    "xz": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),
}


def circle(centre: tuple[float, float], radius: float, sections: int = ROUND_SECTIONS) -> Polygon:
    """Return a regular polygon approximating a circle.

    Args:
        centre: (u, v) of the centre in the drawing plane, metres.
        radius: Circumscribed radius, metres.
        sections: Number of polygon edges (a multiple of 4).

    Returns:
        The circle as a shapely polygon.
    """
    return Point(centre).buffer(radius, quad_segs=max(sections // 4, 1))


def rounded_rectangle(
    u0: float, v0: float, u1: float, v1: float, radius: float, sections: int = ROUND_SECTIONS
) -> Polygon:
    """Return the rectangle [u0, u1] x [v0, v1] with all four corners rounded.

    Args:
        u0: Lower u bound, metres.
        v0: Lower v bound, metres.
        u1: Upper u bound, metres.
        v1: Upper v bound, metres.
        radius: Corner radius, metres (less than half the shorter side).
        sections: Edges a full circle would have; each corner gets a quarter of them.

    Returns:
        The rounded rectangle as a shapely polygon whose bounds are exactly the rectangle.
    """
    return box(u0 + radius, v0 + radius, u1 - radius, v1 - radius).buffer(
        radius, quad_segs=max(sections // 4, 1)
    )


def strip(
    start: tuple[float, float], end: tuple[float, float], width: float, extend: float = 0.0
) -> Polygon:
    """Return a straight bar outline of constant width between two points, square ends.

    Args:
        start: (u, v) of the centre of the first end, metres.
        end: (u, v) of the centre of the second end, metres.
        width: Bar width across its centre line, metres.
        extend: Length added beyond both ends along the centre line, metres (negative
            trims both ends).

    Returns:
        The bar outline as a shapely polygon.
    """
    p0 = np.asarray(start, dtype=np.float64)
    p1 = np.asarray(end, dtype=np.float64)
    direction = (p1 - p0) / np.linalg.norm(p1 - p0)
    line = LineString([p0 - extend * direction, p1 + extend * direction])
    return line.buffer(width / 2.0, cap_style="flat")


def angle_section(
    heel: tuple[float, float], leg_u: float, leg_v: float, thickness: float
) -> Polygon:
    """Return an L-shaped (angle bar) section outline.

    Args:
        heel: (u, v) of the outside corner where the two legs meet, metres.
        leg_u: Signed length of the leg along u from the heel, metres (its sign sets the
            side the leg points to).
        leg_v: Signed length of the leg along v from the heel, metres.
        thickness: Thickness of both legs, metres; they grow from the outside faces
            through the heel towards the legs' sides.

    Returns:
        The L outline as a shapely polygon.
    """
    u0, v0 = heel
    t_u = np.copysign(thickness, leg_u)
    t_v = np.copysign(thickness, leg_v)
    along_u = box(*_corners(u0, v0, u0 + leg_u, v0 + t_v))
    along_v = box(*_corners(u0, v0, u0 + t_u, v0 + leg_v))
    return along_u.union(along_v)


def _corners(u0: float, v0: float, u1: float, v1: float) -> tuple[float, float, float, float]:
    """Return (min u, min v, max u, max v) of two opposite rectangle corners."""
    return min(u0, u1), min(v0, v1), max(u0, u1), max(v0, v1)


def bolt_circle(radius: float, count: int, phase: float | None = None) -> FloatArray:
    """Return evenly spaced points on a circle around the origin of a drawing plane.

    Args:
        radius: Pitch-circle radius, metres.
        count: Number of points.
        phase: Angle of the first point, radians; by default half a pitch, which keeps the
            points off the plane's axes as flange bolt holes are.

    Returns:
        (count, 2) float64 (u, v) coordinates, metres.
    """
    start = np.pi / count if phase is None else phase
    angles = start + 2.0 * np.pi * np.arange(count) / count
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def prism(outline: Polygon | MultiPolygon, plane: Plane, lo: float, hi: float) -> trimesh.Trimesh:
    """Extrude a planar outline into a prism.

    The outline is drawn in (u, v) coordinates of `plane` and extruded along the remaining
    axis between `lo` and `hi`: along z for "xy", along x for "yz" and along y for "xz".

    Args:
        outline: Outline in the drawing plane, metres; may have holes, or be several
            disjoint pieces (each becomes its own closed shell).
        plane: Drawing plane of the outline.
        lo: Lower bound along the extrusion axis, metres.
        hi: Upper bound along the extrusion axis, metres (greater than `lo`).

    Returns:
        The prism in the part frame.
    """
    rotation = np.eye(4)
    rotation[:3, :3] = _PLANE_ROTATIONS[plane]
    # "xz" maps local +w to part -y, so local w runs from -hi to -lo.
    w0 = -hi if plane == "xz" else lo
    transform = rotation @ trimesh.transformations.translation_matrix((0.0, 0.0, w0))
    pieces = outline.geoms if isinstance(outline, MultiPolygon) else [outline]
    return trimesh.util.concatenate(
        [trimesh.creation.extrude_polygon(piece, hi - lo, transform=transform) for piece in pieces]
    )


def _axis_frame(start: ArrayLike, end: ArrayLike) -> FloatArray:
    """Return the 4x4 transform taking the origin to `start` and +z along start -> end."""
    p0 = np.asarray(start, dtype=np.float64)
    axis = np.asarray(end, dtype=np.float64) - p0
    frame = trimesh.geometry.align_vectors([0.0, 0.0, 1.0], axis / np.linalg.norm(axis))
    frame[:3, 3] = p0
    return frame


def revolve(
    profile: Sequence[tuple[float, float]],
    start: ArrayLike,
    end: ArrayLike,
    sections: int = ROUND_SECTIONS,
) -> trimesh.Trimesh:
    """Revolve a closed (radius, distance) profile about an axis into a solid of revolution.

    Args:
        profile: Closed outline as (radius, distance along the axis) pairs, metres; the
            first point is not repeated at the end. Radii are positive for a body with a
            bore, and may touch zero for a full body.
        start: Axis point where distance = 0, part frame, metres.
        end: Any further point on the axis (sets its direction), part frame, metres.
        sections: Segments around the axis.

    Returns:
        The solid in the part frame.
    """
    frame = _axis_frame(start, end)
    ring = np.asarray([*profile, profile[0]], dtype=np.float64)
    mesh = trimesh.creation.revolve(ring, sections=sections, transform=frame)
    if mesh.volume < 0.0:
        mesh.invert()
    return mesh


def cylinder(
    radius: float, start: ArrayLike, end: ArrayLike, sections: int = SMALL_SECTIONS
) -> trimesh.Trimesh:
    """Return a solid cylinder (or a regular prism for small `sections`) between two points.

    Args:
        radius: Circumscribed radius, metres.
        start: Centre of one end face, part frame, metres.
        end: Centre of the other end face, part frame, metres.
        sections: Segments around the axis (6 gives a hexagonal prism).

    Returns:
        The cylinder in the part frame.
    """
    return trimesh.creation.cylinder(radius, sections=sections, segment=[start, end])


def torus(
    major_radius: float,
    minor_radius: float,
    centre: ArrayLike,
    normal: ArrayLike,
    sections: int = ROUND_SECTIONS,
    tube_sections: int = BOLT_SECTIONS,
) -> trimesh.Trimesh:
    """Return a torus, e.g. a handwheel rim.

    Args:
        major_radius: Radius of the centre circle of the tube, metres.
        minor_radius: Radius of the tube cross-section, metres.
        centre: Centre of the torus, part frame, metres.
        normal: Axis of the torus (normal of its mid-plane), part frame.
        sections: Segments along the centre circle.
        tube_sections: Segments around the tube cross-section.

    Returns:
        The torus in the part frame.
    """
    frame = _axis_frame(centre, np.asarray(centre, dtype=np.float64) + np.asarray(normal))
    return trimesh.creation.torus(
        major_radius, minor_radius, sections, tube_sections, transform=frame
    )


def hex_prism(across_flats: float, start: ArrayLike, end: ArrayLike) -> trimesh.Trimesh:
    """Return a hexagonal prism, the shape of a bolt head or a nut.

    Args:
        across_flats: Width across the flats (the spanner size), metres.
        start: Centre of one end face, part frame, metres.
        end: Centre of the other end face, part frame, metres.

    Returns:
        The prism in the part frame.
    """
    return cylinder(across_flats / np.sqrt(3.0), start, end, sections=6)


def bolt_with_nut(
    head_face: ArrayLike, nut_face: ArrayLike, diameter: float, embed: float = FUSE_M
) -> list[trimesh.Trimesh]:
    """Return a hex bolt clamping a joint, with its head and nut (ISO 4014/4032 proportions).

    The head sits on `head_face` and the nut on `nut_face`, both facing away from the joint;
    the shank runs through and sticks out past the nut by a third of the diameter.

    Args:
        head_face: Point on the clamped surface under the head, on the bolt axis, metres.
        nut_face: Point on the clamped surface under the nut, on the bolt axis, metres.
        diameter: Nominal thread diameter, metres (0.016 for M16).
        embed: Depth the head and nut sink into the clamped surfaces, metres, so that a
            union fuses them into one body.

    Returns:
        [shank, head, nut] in the part frame; union them with the joint.
    """
    p_head = np.asarray(head_face, dtype=np.float64)
    p_nut = np.asarray(nut_face, dtype=np.float64)
    axis = (p_nut - p_head) / np.linalg.norm(p_nut - p_head)
    across_flats = 1.5 * diameter
    head_height = 0.65 * diameter
    nut_height = 0.85 * diameter
    head_top = p_head - head_height * axis
    nut_top = p_nut + nut_height * axis
    return [
        cylinder(
            diameter / 2.0,
            head_top + embed * axis,
            nut_top + diameter / 3.0 * axis,
            sections=BOLT_SECTIONS,
        ),
        hex_prism(across_flats, head_top, p_head + embed * axis),
        hex_prism(across_flats, p_nut - embed * axis, nut_top),
    ]


def union(meshes: Sequence[trimesh.Trimesh]) -> trimesh.Trimesh:
    """Return the boolean union of closed meshes, computed with manifold.

    Args:
        meshes: Closed volumes in a common frame.

    Returns:
        One closed volume with outward normals.
    """
    return trimesh.boolean.union(list(meshes), engine="manifold")


def difference(base: trimesh.Trimesh, cutters: Sequence[trimesh.Trimesh]) -> trimesh.Trimesh:
    """Return `base` with every cutter subtracted, computed with manifold.

    Args:
        base: Closed volume to cut.
        cutters: Closed volumes to remove from it, in the same frame.

    Returns:
        One closed volume with outward normals.
    """
    return trimesh.boolean.difference([base, *cutters], engine="manifold")
