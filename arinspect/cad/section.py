"""The section model: a folder with ``section.json`` and mesh files.

``section.json`` (schema: ``arinspect/schemas/section.schema.json``) lists, in the section
frame and in metres:

- ``structure``: hull steel that is always there (shell plate, longitudinals, web frames,
  pipes), used for pose and occlusion, never inspected;
- ``parts``: the components to inspect, each with its catalog class and tolerances;
- ``markers``: the printed fiducials, ``control`` ones surveyed.

Mesh paths are relative to the section folder. Every element's mesh is in its own frame
and placed by ``T_section_part`` (``p_section = T_section_part @ p_part``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from arinspect.atomic_write import write_atomic
from arinspect.cad.mesh import load_mesh
from arinspect.errors import DataFormatError
from arinspect.jsonfile import read_json
from arinspect.typed import FloatArray

SECTION_FILE = "section.json"
SCHEMA_VERSION = 1


def _frozen(matrix: Any) -> FloatArray:
    array = np.array(matrix, dtype=np.float64)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class StructureElement:
    """Hull steel (or another fixed occluder) that is never inspected.

    Attributes:
        id: Unique id within the section.
        mesh: Mesh path relative to the section folder.
        T_section_part: (4, 4) pose of the element's mesh frame in the section frame, metres.
        kind: Free-form kind, e.g. ``shell_plate``, ``longitudinal``, ``web_frame``, ``pipe``.
    """

    id: str
    mesh: str
    T_section_part: FloatArray
    kind: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "T_section_part", _frozen(self.T_section_part))


@dataclass(frozen=True)
class Part:
    """A component to inspect.

    Attributes:
        id: Unique id within the section.
        class_name: Catalog class (``class`` in the file).
        mesh: Mesh path relative to the section folder.
        T_section_part: (4, 4) nominal pose of the part in the section frame, metres.
        tolerance_mm: Allowed position deviation, millimetres.
        tolerance_deg: Allowed orientation deviation, degrees.
        mounted_on: Id of the structure element the part is fixed to, if known.
    """

    id: str
    class_name: str
    mesh: str
    T_section_part: FloatArray
    tolerance_mm: float
    tolerance_deg: float
    mounted_on: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "T_section_part", _frozen(self.T_section_part))


@dataclass(frozen=True)
class Marker:
    """A printed fiducial fixed to the steel.

    Attributes:
        id: Marker id within its family's dictionary.
        family: OpenCV ArUco dictionary name or ``apriltag_36h11``.
        size_m: Side of the outer black square, metres.
        T_section_marker: (4, 4) marker pose in the section frame (marker z out of its face).
        control: True for surveyed reference markers.
        mounted_on: Id of the structure element the marker is stuck on, if known.
    """

    id: int
    family: str
    size_m: float
    T_section_marker: FloatArray
    control: bool
    mounted_on: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "T_section_marker", _frozen(self.T_section_marker))

    @property
    def key(self) -> tuple[str, int]:
        """(family, id): what identifies a marker in an image."""
        return (self.family, self.id)


@dataclass(frozen=True)
class Section:
    """A loaded ship section. Use `load_section` to read one and `save_section` to write it."""

    name: str
    folder: Path
    structure: tuple[StructureElement, ...]
    parts: tuple[Part, ...]
    markers: tuple[Marker, ...]
    description: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    def elements(self) -> Iterator[StructureElement | Part]:
        """Structure elements first, then parts: the order of labels in rendered id maps."""
        yield from self.structure
        yield from self.parts

    def part(self, part_id: str) -> Part:
        """The part with this id.

        Raises:
            KeyError: no such part (the message lists how many parts there are).
        """
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(f"section {self.name!r} has no part {part_id!r} ({len(self.parts)} parts)")

    def mesh_path(self, element: StructureElement | Part) -> Path:
        """Absolute path of an element's mesh file."""
        return self.folder / element.mesh

    def mesh(self, element: StructureElement | Part) -> trimesh.Trimesh:
        """The element's mesh in its own frame, metres (cached; do not modify)."""
        return load_mesh(self.mesh_path(element))

    def with_parts(self, parts: tuple[Part, ...]) -> Section:
        """A copy with another part list (e.g. with removed or moved parts)."""
        return replace(self, parts=parts)

    def to_dict(self) -> dict[str, Any]:
        """The ``section.json`` document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "units": "m",
            "description": self.description,
            "structure": [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "mesh": s.mesh,
                    "T_section_part": s.T_section_part.tolist(),
                }
                for s in self.structure
            ],
            "parts": [_part_dict(p) for p in self.parts],
            "markers": [_marker_dict(m) for m in self.markers],
            "provenance": self.provenance,
        }


def _part_dict(part: Part) -> dict[str, Any]:
    doc = {
        "id": part.id,
        "class": part.class_name,
        "mesh": part.mesh,
        "T_section_part": part.T_section_part.tolist(),
        "tolerance_mm": part.tolerance_mm,
        "tolerance_deg": part.tolerance_deg,
    }
    if part.mounted_on:
        doc["mounted_on"] = part.mounted_on
    return doc


def _marker_dict(marker: Marker) -> dict[str, Any]:
    doc = {
        "id": marker.id,
        "family": marker.family,
        "size_m": marker.size_m,
        "T_section_marker": marker.T_section_marker.tolist(),
        "control": marker.control,
    }
    if marker.mounted_on:
        doc["mounted_on"] = marker.mounted_on
    return doc


def section_from_dict(doc: dict[str, Any], folder: Path) -> Section:
    """Build a Section from a ``section.json`` document that already passed validation."""
    return Section(
        name=doc["name"],
        folder=Path(folder),
        description=doc.get("description", ""),
        provenance=doc.get("provenance", {}),
        structure=tuple(
            StructureElement(s["id"], s["mesh"], s["T_section_part"], s.get("kind", ""))
            for s in doc["structure"]
        ),
        parts=tuple(
            Part(
                p["id"],
                p["class"],
                p["mesh"],
                p["T_section_part"],
                float(p["tolerance_mm"]),
                float(p["tolerance_deg"]),
                p.get("mounted_on"),
            )
            for p in doc["parts"]
        ),
        markers=tuple(
            Marker(
                int(m["id"]),
                m["family"],
                float(m["size_m"]),
                m["T_section_marker"],
                bool(m["control"]),
                m.get("mounted_on"),
            )
            for m in doc["markers"]
        ),
    )


def read_section_json(folder: str | Path) -> dict[str, Any]:
    """Parse ``FOLDER/section.json``.

    Raises:
        DataFormatError: the folder or file is missing, or the JSON is malformed (with line
            and column).
    """
    folder = Path(folder)
    path = folder / SECTION_FILE
    if not folder.is_dir():
        raise DataFormatError(folder, "section folder not found")
    doc = read_json(path, "section.json not found")
    if not isinstance(doc, dict):
        raise DataFormatError(path, "top level must be a JSON object")
    return doc


def load_section(folder: str | Path, catalog_classes: set[str] | None = None) -> Section:
    """Read and validate a section folder.

    Args:
        folder: The folder holding ``section.json``.
        catalog_classes: Part classes to accept; the bundled catalog's classes by default.

    Raises:
        DataFormatError: the section has errors; the message lists every one of them.
    """
    from arinspect.cad.validate import validate_section

    folder = Path(folder)
    errors = [p for p in validate_section(folder, catalog_classes) if p.severity == "error"]
    if errors:
        listed = "; ".join(f"{p.field or p.file.name}: {p.message}" for p in errors)
        hint = " (details: arinspect section validate)"
        raise DataFormatError(folder / SECTION_FILE, f"{len(errors)} problem(s): {listed}{hint}")
    return section_from_dict(read_section_json(folder), folder.resolve())


def save_section(section: Section, folder: str | Path) -> Path:
    """Write ``section.json`` into `folder` (meshes are not copied). Returns the file path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECTION_FILE
    return write_atomic(path, (json.dumps(section.to_dict(), indent=1) + "\n").encode())
