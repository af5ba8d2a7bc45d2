"""Resumable, atomic batch outputs on disk.

Each unit's report is written into a private folder under ``OUT/.partial/`` and moved
to ``OUT/<unit_id>/`` by one rename once complete, with ``batch_unit.json`` (the input
fingerprint and the outcome) inside: a folder that exists is complete. A re-run skips a
unit whose folder holds the same fingerprint; a killed run leaves only ``.partial``
leftovers, which the next run removes. The fingerprint is a SHA-256 over the bytes of
every input: the recording's files, the section's files, the camera file, the detector
model, and the arinspect version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from arinspect import __version__
from arinspect.atomic_write import write_atomic

MARKER = "batch_unit.json"
PARTIAL = ".partial"


def tree_digest(path: Path, digest: Any) -> None:
    """Feed every file under ``path`` (sorted relative names and bytes) into ``digest``."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        name = file.name if file == path else file.relative_to(path).as_posix()
        digest.update(f"{name}\0{file.stat().st_size}\0".encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)


def fingerprint(inputs: dict[str, Path | None]) -> str:
    """SHA-256 (hex) over the named input files and folders; None entries count as absent."""
    digest = hashlib.sha256(f"arinspect {__version__}\0".encode())
    for name in sorted(inputs):
        digest.update(f"[{name}]\0".encode())
        if inputs[name] is not None:
            tree_digest(Path(inputs[name]), digest)
    return digest.hexdigest()


def completed(out_dir: Path, unit_id: str, unit_fingerprint: str) -> dict[str, Any] | None:
    """The stored outcome if ``unit_id`` is complete for these inputs, else None."""
    try:
        outcome = json.loads((out_dir / unit_id / MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(outcome, dict) or outcome.get("fingerprint") != unit_fingerprint:
        return None
    return outcome


def partial_dir(out_dir: Path, unit_id: str) -> Path:
    """A fresh private folder to write a unit's outputs into."""
    folder = out_dir / PARTIAL / f"{unit_id}.{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def publish(out_dir: Path, unit_id: str, folder: Path, outcome: dict[str, Any]) -> None:
    """Write the marker into ``folder`` and move it to ``OUT/<unit_id>`` in one rename.

    An older output of the unit (other inputs) is moved aside first and removed after.
    If another worker published the same inputs meanwhile, this copy is dropped.
    """
    write_atomic(folder / MARKER, json.dumps(outcome, indent=2).encode())
    final = out_dir / unit_id
    if completed(out_dir, unit_id, outcome["fingerprint"]) is not None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    stale = None
    if final.exists():
        stale = out_dir / PARTIAL / f"{unit_id}.stale.{uuid.uuid4().hex[:12]}"
        os.replace(final, stale)
    os.replace(folder, final)
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)


def remove_leftovers(out_dir: Path) -> int:
    """Delete what killed runs left in ``OUT/.partial``; returns how many folders."""
    partial = out_dir / PARTIAL
    if not partial.is_dir():
        return 0
    leftovers = list(partial.iterdir())
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return len(leftovers)
