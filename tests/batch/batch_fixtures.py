"""Small generated recordings and manifests for the batch tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.render.renderer import RenderOptions
from arinspect.resources import SAMPLE_SECTION_DIR

FRAMES = 4


def render_pair(folder: Path) -> list[Path]:
    """Two 4-frame walks of the sample section (seeds 5 and 6) in ``folder``."""
    paths = []
    for seed in (5, 6):
        path = folder / f"walk-{seed}"
        spec = RecordingSpec(frames=FRAMES, seed=seed, trajectory="walk", depth=True,
                             options=RenderOptions(supersample=1))  # fmt: skip
        render_recording(SAMPLE_SECTION_DIR, path, spec)
        paths.append(path)
    return paths


def copies(sources: list[Path], folder: Path, n: int) -> list[Path]:
    """``n`` recordings in ``folder`` (beside the sources: their section paths still hold)."""
    paths = []
    for index in range(n):
        path = folder / f"rec-{index:02d}"
        if not path.exists():
            shutil.copytree(sources[index % len(sources)], path)
        paths.append(path)
    return paths


def write_manifest(path: Path, entries: list[dict | str]) -> Path:
    """A JSON manifest with these entries."""
    path.write_text(json.dumps({"recordings": entries}), encoding="utf-8")
    return path


def comparable(report_path: Path) -> dict:
    """report.json without its timing fields (what must match across executors)."""
    document = json.loads(report_path.read_text(encoding="utf-8"))
    document.pop("timing")
    document.pop("created_utc")
    return document
