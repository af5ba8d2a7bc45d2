"""glTF 2.0 (GLB) export of a section: parts coloured by inspection status, annotations as nodes.

The exported scene (node names in quotes) has one root, ``"section"``, whose matrix
`T_GLTF_SECTION` turns the section frame (z up, metres) into glTF's y-up frame; its extras
are ``{"frame": "section", "units": "m", "up": "z"}``. Everything below it is in the
section frame, metres:

- ``"structure"``: one node per hull element, named by its id, extras ``{structure_id, kind}``;
- ``"parts"``: one node per part, named by its part id and placed by ``T_section_part``,
  extras ``{part_id, class, status, offset_mm}``; one material per status, named by the
  status (missing parts semi-transparent, ``alphaMode`` BLEND, at their CAD place);
- ``"annotations"``: one node per annotation, without mesh, named by its id, at the anchor
  point with its +Y axis along the anchor normal; extras hold the annotation's data.

The scene's extras name the section, the export time, the arinspect version and the
inspection run. trimesh writes the file (meshes shared between parts of one mesh file and
status); only the asset's ``generator`` is set afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

from arinspect import __version__
from arinspect.cad.section import Part, Section, StructureElement
from arinspect.errors import ArInspectError
from arinspect.exchange.inspection_status import NOT_INSPECTED
from arinspect.typed import FloatArray

# Section frame (z up) -> glTF frame (y up): x stays, z becomes y, y becomes -z.
T_GLTF_SECTION = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
ROOT_EXTRAS = {"frame": "section", "units": "m", "up": "z"}
GROUPS = ("section", "structure", "parts", "annotations")
TRIMESH_BASE_FRAME = "world"  # the graph's own root, not written to the file

# sRGB colours and opacity per status, as in the HTML inspection report.
STATUS_COLOURS = {
    "present": ("#28aa3c", 1.0),
    "missing": ("#e62828", 0.35),
    "misplaced": ("#ffaa00", 1.0),
    "not_verified": ("#969696", 1.0),
    NOT_INSPECTED: ("#6e8cc8", 1.0),
}
OTHER_STATUS_COLOUR = ("#c85adc", 1.0)  # a status this module does not know
STRUCTURE_MATERIAL = "structure"
STRUCTURE_COLOUR = ("#b4b9be", 1.0)

ANNOTATION_FIELDS = (
    "id", "section_id", "part_id", "finding_id", "kind", "status", "title", "description",
    "priority", "assignee", "labels", "created_by", "created_at", "modified_by",
    "modified_at", "version", "anchor", "viewpoint",
)  # fmt: skip


def section_glb(
    section: Section,
    statuses: Mapping[str, str] | None = None,
    annotations: Iterable[Mapping[str, Any]] = (),
    *,
    offsets_mm: Mapping[str, float] | None = None,
    run_id: str | None = None,
    exported_at: datetime | None = None,
) -> bytes:
    """Build the GLB of a section, its parts coloured by status, with annotation nodes.

    Called with the section alone it gives the plain geometry (every part
    `NOT_INSPECTED`) with nodes named by part id, for a viewer to recolour.

    Args:
        section: The loaded section; meshes in their part frames, metres.
        statuses: Status of each inspected part, by part id; other parts are
            ``not_inspected``.
        annotations: Annotations as the server gives them (``id``, ``part_id``, ``kind``,
            ``status``, ``title`` ..., ``anchor.point_section`` and ``normal_section`` in
            the section frame, metres).
        offsets_mm: Measured position offset per part id, millimetres.
        run_id: The inspection run the statuses come from, recorded in the scene extras.
        exported_at: Export time recorded in the scene extras; now by default.

    Returns:
        The GLB file's bytes.

    Raises:
        ArInspectError: a status or offset names a part the section does not have, an
            annotation lacks an id or a finite anchor point and non-zero normal, or two
            nodes would share a name.
    """
    statuses = dict(statuses or {})
    offsets_mm = dict(offsets_mm or {})
    _check_part_ids(section, set(statuses) | set(offsets_mm))
    annotations = list(annotations)
    T_section_nodes = [annotation_T_section_node(a, i) for i, a in enumerate(annotations)]
    _check_unique_names(section, [a["id"] for a in annotations])
    exported_at = exported_at or datetime.now(UTC)
    scene = trimesh.Scene(
        metadata={
            "section": section.name,
            "exported_utc": exported_at.replace(microsecond=0).isoformat(),
            "arinspect_version": __version__,
            "run_id": run_id,
        }
    )
    graph = scene.graph
    graph.update(
        frame_to="section", frame_from=graph.base_frame, matrix=T_GLTF_SECTION,
        metadata=dict(ROOT_EXTRAS),
    )  # fmt: skip
    for group in GROUPS[1:]:
        graph.update(frame_to=group, frame_from="section", matrix=np.eye(4))
    for element in section.structure:
        key = _add_geometry(scene, section, element, STRUCTURE_MATERIAL)
        graph.update(
            frame_to=element.id, frame_from="structure", matrix=element.T_section_part,
            geometry=key, metadata={"structure_id": element.id, "kind": element.kind},
        )  # fmt: skip
    for part in section.parts:
        status = statuses.get(part.id, NOT_INSPECTED)
        key = _add_geometry(scene, section, part, status)
        extras = {"part_id": part.id, "class": part.class_name, "status": status,
                  "offset_mm": offsets_mm.get(part.id)}  # fmt: skip
        graph.update(
            frame_to=part.id, frame_from="parts", matrix=part.T_section_part, geometry=key,
            metadata=extras,
        )  # fmt: skip
    for annotation, T_section_node in zip(annotations, T_section_nodes, strict=True):
        graph.update(
            frame_to=annotation["id"], frame_from="annotations", matrix=T_section_node,
            metadata={k: annotation[k] for k in ANNOTATION_FIELDS if k in annotation},
        )  # fmt: skip
    return scene.export(file_type="glb", include_normals=False, tree_postprocessor=_set_generator)


def annotation_T_section_node(annotation: Mapping[str, Any], index: int = 0) -> FloatArray:
    """(4, 4) pose of an annotation's node in the section frame, metres.

    The node sits at ``anchor.point_section`` and its +Y axis points along
    ``anchor.normal_section`` (the smallest rotation that does so).

    Raises:
        ArInspectError: no id, or the anchor point is not 3 finite numbers, or the normal
            not 3 finite numbers of non-zero length (the message names the annotation).
    """
    name = annotation.get("id") if isinstance(annotation, Mapping) else None
    where = f"annotations[{index}]" + (f" ({name})" if name else "")
    if not isinstance(name, str) or not name:
        raise ArInspectError(f"{where}: needs a string id")
    anchor = annotation.get("anchor")
    anchor = anchor if isinstance(anchor, Mapping) else {}
    point = _vector(anchor.get("point_section"), f"{where}: anchor.point_section")
    normal = _vector(anchor.get("normal_section"), f"{where}: anchor.normal_section")
    length = float(np.linalg.norm(normal))
    if length < 1e-9:
        raise ArInspectError(f"{where}: anchor.normal_section has zero length")
    T_section_node = np.eye(4)
    T_section_node[:3, :3] = _rotation_y_to(normal / length)
    T_section_node[:3, 3] = point
    return T_section_node


def _vector(value: Any, where: str) -> FloatArray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.empty(0)
    if array.shape != (3,) or not np.isfinite(array).all():
        raise ArInspectError(f"{where}: needs 3 finite numbers, got {value!r}")
    return array


def _rotation_y_to(direction: FloatArray) -> FloatArray:
    """(3, 3) smallest rotation taking +Y to the unit vector `direction`."""
    y = np.array([0.0, 1.0, 0.0])
    axis = np.cross(y, direction)
    sin, cos = float(np.linalg.norm(axis)), float(y @ direction)
    if sin < 1e-12:
        return np.eye(3) if cos > 0 else np.diag([1.0, -1.0, -1.0])  # half turn about x
    k = axis / sin
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + sin * K + (1.0 - cos) * (K @ K)


def _material(name: str) -> PBRMaterial:
    if name == STRUCTURE_MATERIAL:
        hex_colour, alpha = STRUCTURE_COLOUR
    else:
        hex_colour, alpha = STATUS_COLOURS.get(name, OTHER_STATUS_COLOUR)
    srgb = np.array([int(hex_colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5)])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return PBRMaterial(
        name=name,
        baseColorFactor=[*linear.tolist(), alpha],
        metallicFactor=0.0,
        roughnessFactor=0.8,
        alphaMode="BLEND" if alpha < 1.0 else "OPAQUE",
    )


def _add_geometry(
    scene: trimesh.Scene, section: Section, element: StructureElement | Part, material: str
) -> str:
    """Add the element's mesh with `material` once per (mesh file, material); its key."""
    key = f"{element.mesh}#{material}"
    if key not in scene.geometry:
        mesh = section.mesh(element)
        scene.geometry[key] = trimesh.Trimesh(
            vertices=mesh.vertices,
            faces=mesh.faces,
            visual=trimesh.visual.TextureVisuals(material=_material(material)),
            process=False,
        )
    return key


def _check_part_ids(section: Section, part_ids: set[str]) -> None:
    unknown = sorted(part_ids - {p.id for p in section.parts})
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise ArInspectError(
            f"section {section.name!r} has no part(s) {shown} named by the inspection statuses"
        )


def _check_unique_names(section: Section, annotation_ids: list[str]) -> None:
    names = [TRIMESH_BASE_FRAME, *GROUPS, *(e.id for e in section.elements()), *annotation_ids]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ArInspectError(f"two glTF nodes would be named {name!r} in {section.name!r}")
        seen.add(name)


def _set_generator(tree: dict[str, Any]) -> None:
    tree["asset"]["generator"] = f"arinspect {__version__} (trimesh {trimesh.__version__})"
