"""The batch manifest: which recordings to inspect, with their section and camera.

JSON: ``{"recordings": [{"recording": "walks/pass-001", "section": "...", "camera":
"...", "id": "..."}]}`` (or the bare list); CSV: a header row with ``recording`` and
optionally ``section``, ``camera``, ``id``. A unit's ``recording`` may name several passes
over one section, inspected together (`Inspector.inspect_passes`): a list of paths in
JSON, paths separated by ``;`` in CSV. Relative paths are resolved against the
manifest's folder. ``section`` defaults to the one the recording names
(``recording.json``), ``camera`` to the recording's own intrinsics, ``id`` (the name of
the output folder) to the (first) recording folder's name.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arinspect.errors import DataFormatError

FIELDS = ("recording", "section", "camera", "id")
UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class BatchUnit:
    """One recording to inspect: one unit of work.

    Attributes:
        unit_id: Unique name of the unit; its outputs go to ``OUT/<unit_id>/``.
        recording: Recording folder (BOP layout).
        section: Section folder, or None for the one the recording names.
        camera: Camera YAML, or None for the recording's own intrinsics.
        where: Manifest file and entry, for error messages.
        more_passes: Further recordings of the same section, inspected together with
            `recording` as passes.
    """

    unit_id: str
    recording: Path
    section: Path | None
    camera: Path | None
    where: str
    more_passes: tuple[Path, ...] = ()

    @property
    def passes(self) -> tuple[Path, ...]:
        """Every recording of the unit, `recording` first."""
        return (self.recording, *self.more_passes)


def load_manifest(path: str | Path) -> list[BatchUnit]:
    """Read a JSON or CSV manifest.

    Raises:
        DataFormatError: unreadable file, malformed JSON/CSV, a missing or unknown field,
            a bad or duplicate id (the message names the file and the entry).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(path, f"cannot read the manifest ({exc})") from exc
    rows = _csv_rows(path, text) if path.suffix.lower() == ".csv" else _json_rows(path, text)
    if not rows:
        raise DataFormatError(path, "the manifest lists no recordings")
    units, seen = [], {}
    for where, row in rows:
        unit = _unit(path, where, row)
        if unit.unit_id in seen:
            raise DataFormatError(
                path, f"id {unit.unit_id!r} is used twice (also at {seen[unit.unit_id]})", where
            )
        seen[unit.unit_id] = where
        units.append(unit)
    return units


def _json_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"not valid JSON ({exc})") from exc
    entries = document.get("recordings") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise DataFormatError(path, "expected a list of recordings or {'recordings': [...]}")
    rows = []
    for index, entry in enumerate(entries):
        where = f"recordings[{index}]"
        if isinstance(entry, str):
            entry = {"recording": entry}
        if not isinstance(entry, dict):
            raise DataFormatError(path, "an entry must be an object or a path string", where)
        rows.append((where, entry))
    return rows


def _csv_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    try:
        reader = csv.DictReader(text.splitlines())
        rows = [(f"line {i}", dict(row)) for i, row in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise DataFormatError(path, f"not valid CSV ({exc})") from exc
    if reader.fieldnames is None or "recording" not in reader.fieldnames:
        raise DataFormatError(path, "the CSV header must name a 'recording' column")
    return [(where, {k: v for k, v in row.items() if v not in (None, "")}) for where, row in rows]


def _unit(path: Path, where: str, row: dict) -> BatchUnit:
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise DataFormatError(path, f"unknown field(s) {', '.join(map(str, unknown))}", where)
    if "recording" not in row:
        raise DataFormatError(path, "every entry needs a recording", where)
    passes = _passes(path, where, row["recording"], csv=path.suffix.lower() == ".csv")
    for name, value in row.items():
        if name != "recording" and (not isinstance(value, str) or not value.strip()):
            raise DataFormatError(path, f"{name} must be a non-empty string", where)
    base = path.resolve().parent
    recording, *more = ((base / p).resolve() for p in passes)
    unit_id = row.get("id", recording.name)
    if not UNIT_ID.match(unit_id):
        raise DataFormatError(
            path, f"id {unit_id!r} must be letters, digits and '._-' (a folder name)", where
        )
    return BatchUnit(
        unit_id=unit_id,
        recording=recording,
        section=(base / row["section"]).resolve() if "section" in row else None,
        camera=(base / row["camera"]).resolve() if "camera" in row else None,
        where=f"{path}: {where}",
        more_passes=tuple(more),
    )


def _passes(path: Path, where: str, value: Any, csv: bool) -> list[str]:
    """The recording paths of an entry: one, or several passes (a JSON list, ';' in CSV)."""
    items = value.split(";") if csv and isinstance(value, str) else value
    items = [items] if isinstance(items, str) else items
    if not isinstance(items, list) or not items:
        raise DataFormatError(path, "recording must be a path or a non-empty list of paths", where)
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise DataFormatError(path, "recording must name non-empty paths", where)
    return [item.strip() for item in items]
