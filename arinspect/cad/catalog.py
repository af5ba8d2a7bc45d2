"""The part catalog: which component classes exist, their meshes and default tolerances.

The bundled catalog lives in ``models/catalog`` (``catalog.json`` + ``meshes/*.ply``) and
is rebuilt from the parametric builders in `arinspect.cad.parts` by `build_catalog`
(``arinspect catalog build``). Building is deterministic, so the files in the repository
can be checked against a fresh build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import trimesh

from arinspect import __version__
from arinspect.cad.mesh import load_mesh
from arinspect.jsonfile import read_json
from arinspect.resources import CATALOG_DIR
from arinspect.schema_check import check_document

CATALOG_FILE = "catalog.json"


@dataclass(frozen=True)
class CatalogClass:
    """One class of component.

    Attributes:
        name: Class id used in section files (``class``).
        title: Human-readable name.
        description: One sentence on what it is and where it goes.
        mesh_path: Absolute path of the class mesh (part frame, metres).
        mount: ``surface`` (origin on the mounting surface, +z out of it) or ``inline``
            (origin on the pipe axis, +x along it).
        default_tolerance_mm: Position tolerance given to new parts, millimetres.
        default_tolerance_deg: Orientation tolerance given to new parts, degrees.
    """

    name: str
    title: str
    description: str
    mesh_path: Path
    mount: str
    default_tolerance_mm: float
    default_tolerance_deg: float

    def mesh(self) -> trimesh.Trimesh:
        """The class mesh in the part frame, metres (cached; do not modify)."""
        return load_mesh(self.mesh_path)


@dataclass(frozen=True)
class Catalog:
    """A loaded catalog: classes by name, in file order."""

    folder: Path
    classes: dict[str, CatalogClass]

    def __getitem__(self, name: str) -> CatalogClass:
        """The class called `name`.

        Raises:
            KeyError: unknown class; the message lists the known ones.
        """
        if name not in self.classes:
            raise KeyError(f"unknown part class {name!r}; known: {', '.join(self.classes)}")
        return self.classes[name]


def load_catalog(folder: str | Path = CATALOG_DIR) -> Catalog:
    """Read ``catalog.json`` from `folder` (the bundled catalog by default).

    Raises:
        DataFormatError: missing or malformed file, or a schema violation.
    """
    folder = Path(folder)
    path = folder / CATALOG_FILE
    doc = read_json(path, "catalog not found (rebuild it with `arinspect catalog build`)")
    check_document(doc, "catalog", path)
    classes = {
        item["class"]: CatalogClass(
            name=item["class"],
            title=item["title"],
            description=item.get("description", ""),
            mesh_path=(folder / item["mesh"]).resolve(),
            mount=item["mount"],
            default_tolerance_mm=float(item["default_tolerance_mm"]),
            default_tolerance_deg=float(item["default_tolerance_deg"]),
        )
        for item in doc["classes"]
    }
    return Catalog(folder.resolve(), classes)


def build_catalog(out_dir: str | Path = CATALOG_DIR) -> Path:
    """Build every class mesh from its parametric builder and write the catalog.

    Writes ``OUT/meshes/<class>.ply`` (binary PLY, metres, part frame) and
    ``OUT/catalog.json``. Returns the path of ``catalog.json``.
    """
    from arinspect.cad.parts import PART_CLASSES

    out_dir = Path(out_dir)
    (out_dir / "meshes").mkdir(parents=True, exist_ok=True)
    entries = []
    for part_class in PART_CLASSES.values():
        mesh = part_class.build()
        relative = f"meshes/{part_class.name}.ply"
        (out_dir / relative).write_bytes(mesh.export(file_type="ply", encoding="binary"))
        entries.append(
            {
                "class": part_class.name,
                "title": part_class.title,
                "description": part_class.description,
                "mesh": relative,
                "mount": part_class.mount,
                "default_tolerance_mm": part_class.default_tolerance_mm,
                "default_tolerance_deg": part_class.default_tolerance_deg,
                "extents_m": [round(float(v), 4) for v in mesh.extents],
                "triangles": len(mesh.faces),
            }
        )
    doc = {
        "schema_version": 1,
        "units": "m",
        "classes": entries,
        "provenance": {"tool": f"arinspect {__version__}", "command": "arinspect catalog build"},
    }
    path = out_dir / CATALOG_FILE
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path
