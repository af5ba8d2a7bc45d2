"""Per-part inspection statuses read from an inspection ``report.json`` document.

The report (``arinspect inspect``, or the one stored with a server run) lists one object
per part with ``id`` (or ``part_id``), ``status`` (``present``, ``missing``,
``misplaced``, ``not_verified`` ...) and ``offset_mm`` (millimetres, or null). Exports
(glTF, BCF) colour and describe parts from it; parts it does not name are
`NOT_INSPECTED`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arinspect.errors import DataFormatError
from arinspect.jsonfile import read_json

NOT_INSPECTED = "not_inspected"


@dataclass(frozen=True)
class PartStatuses:
    """The outcome of one inspection run, per part.

    Attributes:
        statuses: Status of each named part, by part id.
        offsets_mm: Measured position offset of each part that has one, millimetres.
        section: The section the report names (its ``section`` field), if any.
        run_id: Id of the server run the report belongs to, if known.
    """

    statuses: dict[str, str] = field(default_factory=dict)
    offsets_mm: dict[str, float] = field(default_factory=dict)
    section: str | None = None
    run_id: str | None = None


def statuses_from_report(doc: Any, where: str | Path, run_id: str | None = None) -> PartStatuses:
    """Read the per-part statuses of a parsed ``report.json`` document.

    Args:
        doc: The parsed JSON document.
        where: The file (or server run) it came from, named in errors.
        run_id: The server run id; by default the document's own ``run_id`` if any.

    Raises:
        DataFormatError: the document is not an object, ``parts`` is not a list, or a
            part entry lacks a string id and status or has a non-numeric ``offset_mm``
            (the message names the entry's index).
    """
    if not isinstance(doc, dict):
        raise DataFormatError(where, "the report must be a JSON object")
    parts = doc.get("parts", [])
    if not isinstance(parts, list):
        raise DataFormatError(where, "must be a list", field="parts")
    statuses: dict[str, str] = {}
    offsets: dict[str, float] = {}
    for index, entry in enumerate(parts):
        entry = entry if isinstance(entry, dict) else {}
        part_id = entry.get("id", entry.get("part_id"))
        status = entry.get("status")
        if not isinstance(part_id, str) or not isinstance(status, str) or not status:
            raise DataFormatError(where, "needs a string id and status", field=f"parts[{index}]")
        if part_id in statuses:
            raise DataFormatError(where, f"part {part_id!r} listed twice", field=f"parts[{index}]")
        statuses[part_id] = status
        offset = entry.get("offset_mm")
        if offset is None:
            continue
        if (
            isinstance(offset, bool)
            or not isinstance(offset, int | float)
            or not math.isfinite(offset)
        ):
            raise DataFormatError(
                where, f"must be a finite number or null, got {offset!r}",
                field=f"parts[{index}].offset_mm",
            )  # fmt: skip
        offsets[part_id] = float(offset)
    section = doc.get("section")
    own_run = doc.get("run_id")
    return PartStatuses(
        statuses=statuses,
        offsets_mm=offsets,
        section=section if isinstance(section, str) else None,
        run_id=run_id or (own_run if isinstance(own_run, str) else None),
    )


def read_report(path: str | Path) -> PartStatuses:
    """Read the per-part statuses of an inspection ``report.json`` file.

    Raises:
        DataFormatError: the file is missing, not UTF-8 JSON (with line and column), or
            malformed (see `statuses_from_report`).
    """
    path = Path(path)
    return statuses_from_report(read_json(path, "report file not found"), path)
