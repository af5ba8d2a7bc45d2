"""Validation of a section folder: every problem, with its file and field.

`validate_section` never raises on bad content: it returns the list of problems so that
``arinspect section validate`` can report all of them at once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arinspect.cad.mesh import load_mesh
from arinspect.cad.section import SECTION_FILE, read_section_json
from arinspect.errors import ArInspectError, DataFormatError
from arinspect.geometry import rigidity_error
from arinspect.schema_check import field_name, validator

MIN_CONTROL_MARKERS = 3
"""Control markers needed to register a section (a warning below that)."""


@dataclass(frozen=True)
class Problem:
    """One finding of the validator.

    Attributes:
        file: The file the problem is in.
        field: Where in it, e.g. ``parts[3].T_section_part`` (empty for the whole file).
        message: What is wrong.
        severity: ``error`` (the section cannot be used) or ``warning``.
    """

    file: Path
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}" + (f": {self.field}" if self.field else "")
        return f"{self.severity}: {where}: {self.message}"


def validate_section(folder: str | Path, catalog_classes: set[str] | None = None) -> list[Problem]:
    """Check a section folder and return every problem found (empty list: valid).

    Args:
        folder: The section folder.
        catalog_classes: Accepted part classes; the bundled catalog's classes by default.
    """
    folder = Path(folder)
    json_path = folder / SECTION_FILE
    try:
        doc = read_section_json(folder)
    except DataFormatError as exc:
        return [Problem(exc.path, exc.field, exc.message)]
    problems = [
        Problem(json_path, field_name(error.absolute_path), _short(error.message))
        for error in sorted(
            validator("section").iter_errors(doc), key=lambda e: list(e.absolute_path).__repr__()
        )
    ]
    if catalog_classes is None:
        from arinspect.cad.catalog import load_catalog

        catalog_classes = set(load_catalog().classes)
    problems += _check_ids(doc, json_path)
    problems += _check_elements(doc, folder, json_path, catalog_classes)
    problems += _check_markers(doc, json_path)
    return problems


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names))


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _items(doc: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = doc.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _check_ids(doc: dict[str, Any], json_path: Path) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for key in ("structure", "parts"):
        for i, item in _items(doc, key):
            element_id = item.get("id")
            if not isinstance(element_id, str):
                continue
            if element_id in seen:
                problems.append(
                    Problem(
                        json_path,
                        f"{key}[{i}].id",
                        f"duplicate id {element_id!r} (first at {seen[element_id]})",
                    )
                )
            else:
                seen[element_id] = f"{key}[{i}]"
    structure_ids = {item.get("id") for _, item in _items(doc, "structure")}
    for key in ("parts", "markers"):
        for i, item in _items(doc, key):
            mounted_on = item.get("mounted_on")
            if isinstance(mounted_on, str) and mounted_on not in structure_ids:
                problems.append(
                    Problem(
                        json_path, f"{key}[{i}].mounted_on", f"no structure element {mounted_on!r}"
                    )
                )
    return problems


def _check_transform(value: Any, json_path: Path, field: str) -> list[Problem]:
    try:
        error = rigidity_error(value)
    except (TypeError, ValueError, IndexError):
        return []  # shape problems are reported by the schema
    if not error <= 1e-6:
        return [
            Problem(
                json_path,
                field,
                "not a rigid transform (rotation not orthonormal or last row not 0 0 0 1;"
                f" error {error:.2g})",
            )
        ]
    return []


def _check_elements(
    doc: dict[str, Any], folder: Path, json_path: Path, catalog_classes: set[str]
) -> list[Problem]:
    problems = []
    for key in ("structure", "parts"):
        for i, item in _items(doc, key):
            if "T_section_part" in item:
                problems += _check_transform(
                    item["T_section_part"], json_path, f"{key}[{i}].T_section_part"
                )
            mesh = item.get("mesh")
            if isinstance(mesh, str) and mesh:
                problems += _check_mesh(folder, mesh, json_path, f"{key}[{i}].mesh")
            if (
                key == "parts"
                and isinstance(item.get("class"), str)
                and item["class"] not in catalog_classes
            ):
                problems.append(
                    Problem(
                        json_path,
                        f"parts[{i}].class",
                        f"unknown class {item['class']!r}; known: {_names(catalog_classes)}",
                    )
                )
    return problems


def _check_mesh(folder: Path, mesh: str, json_path: Path, field: str) -> list[Problem]:
    """Mesh paths must be relative; outside the folder is allowed but not portable; it must load."""
    if Path(mesh).is_absolute():
        return [Problem(json_path, field, f"{mesh}: must be a path relative to the section folder")]
    problems = []
    if not (folder / mesh).resolve().is_relative_to(folder.resolve()):
        message = f"{mesh}: outside the section folder, so the folder is not self-contained"
        problems.append(Problem(json_path, field, message, "warning"))
    try:
        load_mesh(folder / mesh)
    except ArInspectError as exc:
        message = exc.message if isinstance(exc, DataFormatError) else str(exc)
        problems.append(Problem(json_path, field, f"{mesh}: {message}"))
    return problems


def _check_markers(doc: dict[str, Any], json_path: Path) -> list[Problem]:
    from arinspect.markers import dictionary_size, known_families

    families = set(known_families())
    problems = []
    keys = Counter()
    for i, item in _items(doc, "markers"):
        field = f"markers[{i}]"
        if "T_section_marker" in item:
            problems += _check_transform(
                item["T_section_marker"], json_path, f"{field}.T_section_marker"
            )
        family, marker_id = item.get("family"), item.get("id")
        if not isinstance(family, str):
            continue
        if family not in families:
            problems.append(
                Problem(
                    json_path,
                    f"{field}.family",
                    f"unknown marker family {family!r} (an OpenCV DICT_* name or apriltag_36h11)",
                )
            )
            continue
        if isinstance(marker_id, int) and not isinstance(marker_id, bool):
            size = dictionary_size(family)
            if not 0 <= marker_id < size:
                problems.append(
                    Problem(
                        json_path,
                        f"{field}.id",
                        f"id {marker_id} is outside {family} (0..{size - 1})",
                    )
                )
            keys[(family, marker_id)] += 1
            if keys[(family, marker_id)] == 2:
                problems.append(
                    Problem(json_path, f"{field}.id", f"duplicate marker {family} id {marker_id}")
                )
    n_control = sum(1 for _, item in _items(doc, "markers") if item.get("control") is True)
    if n_control < MIN_CONTROL_MARKERS:
        problems.append(
            Problem(
                json_path,
                "markers",
                f"only {n_control} control marker(s); registration needs {MIN_CONTROL_MARKERS}",
                "warning",
            )
        )
    return problems
