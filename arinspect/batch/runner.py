"""The batch driver: plan (fingerprints, skip what is complete), execute, summarise.

The summary covers every unit of the manifest once: the outcome stored in its published
folder when it was complete before this run, else this run's outcome. So a run that was
killed and started again reports every recording exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arinspect.atomic_write import write_atomic
from arinspect.batch.executors import Executor, Job
from arinspect.batch.manifest import BatchUnit
from arinspect.batch.outputs import (
    completed,
    fingerprint,
    remove_leftovers,
)
from arinspect.batch.worker import unit_to_dict

SUMMARY = "batch_summary.json"


@dataclass
class BatchRun:
    """What one run of the driver did.

    Attributes:
        outcomes: Outcome of every unit (stored ones for skipped units), manifest order.
        skipped: Units already complete for the same inputs.
        processed: Units this run processed (done or failed).
        startup_s: Seconds the executor took to start.
        wall_s: Seconds of the whole run.
    """

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    processed: int = 0
    startup_s: float = 0.0
    wall_s: float = 0.0

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Outcomes of the units that failed."""
        return [o for o in self.outcomes if o.get("status") == "failed"]


def unit_fingerprint(unit: BatchUnit, model: Path) -> str:
    """Fingerprint of a unit's inputs: recording(s), section, camera, detector model."""
    more = {f"pass {k}": path for k, path in enumerate(unit.more_passes, start=2)}
    return fingerprint({"recording": unit.recording, "section": _section_of(unit),
                        "camera": unit.camera, "model": model, **more})  # fmt: skip


def _section_of(unit: BatchUnit) -> Path | None:
    """The unit's section folder (as the worker will resolve it), if it can be known."""
    if unit.section is not None:
        return unit.section if unit.section.exists() else None
    try:
        meta = json.loads((unit.recording / "recording.json").read_text(encoding="utf-8"))
        folder = (unit.recording / meta["section"]).resolve()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder if folder.exists() else None


def run_batch(
    units: list[BatchUnit],
    out_dir: Path,
    executor: Executor,
    model: Path,
    progress: Callable[[int, int, float, int], None] | None = None,
) -> BatchRun:
    """Inspect every unit not already complete; write ``batch_summary.json``.

    Args:
        units: The manifest's units.
        out_dir: Batch output folder (created).
        executor: Where the work runs; started and closed here.
        model: The detector model file (part of every fingerprint).
        progress: Called with (units finished, units to process, seconds, failures).
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    run = BatchRun()
    stored: dict[str, dict[str, Any]] = {}
    jobs: list[Job] = []
    for unit in units:
        unit_fp = unit_fingerprint(unit, model)
        outcome = completed(out_dir, unit.unit_id, unit_fp)
        if outcome is not None:
            stored[unit.unit_id] = outcome
        else:
            jobs.append((unit_to_dict(unit), unit_fp))
    run.skipped = len(stored)
    fresh: dict[str, dict[str, Any]] = {}
    if jobs:
        try:
            run.startup_s = executor.start()
            run_started = time.perf_counter()
            if progress:
                progress(0, len(jobs), 0.0, 0)
            for outcome in executor.run(jobs):
                fresh[outcome["unit_id"]] = outcome
                if progress:
                    failures = sum(o["status"] == "failed" for o in fresh.values())
                    progress(len(fresh), len(jobs), time.perf_counter() - run_started, failures)
        finally:
            executor.close()
    run.processed = len(fresh)
    run.outcomes = [fresh.get(u.unit_id) or stored[u.unit_id] for u in units]
    run.wall_s = time.perf_counter() - started
    write_atomic(out_dir / SUMMARY, json.dumps(summary_document(run, executor), indent=2).encode())
    return run


def summary_document(run: BatchRun, executor: Executor) -> dict[str, Any]:
    """The batch summary: totals per status and per section, failures with their reason."""
    by_status: dict[str, int] = {}
    by_section: dict[str, dict[str, int]] = {}
    frames = 0
    for outcome in run.outcomes:
        if outcome.get("status") != "done":
            continue
        frames += outcome.get("frames", 0)
        section = by_section.setdefault(outcome["section"], {"recordings": 0})
        section["recordings"] += 1
        for status, count in outcome.get("counts", {}).items():
            by_status[status] = by_status.get(status, 0) + count
            section[status] = section.get(status, 0) + count
    done = sum(o.get("status") == "done" for o in run.outcomes)
    return {
        "recordings": len(run.outcomes),
        "done": done,
        "failed": len(run.failed),
        "skipped_complete": run.skipped,
        "processed_this_run": run.processed,
        "frames": frames,
        "parts_by_status": dict(sorted(by_status.items())),
        "by_section": dict(sorted(by_section.items())),
        "failures": [
            {
                "unit_id": o["unit_id"],
                "recording": o["recording"],
                "reason": o.get("reason", ""),
                "where": o.get("where", ""),
            }
            for o in run.failed
        ],  # fmt: skip
        "executor": {"name": executor.name, "workers": executor.workers},
        "timing": {"startup_s": round(run.startup_s, 2), "wall_s": round(run.wall_s, 2)},
    }
