"""A minimal report folder (report.json, one crop, one overlay) for report tests."""

from __future__ import annotations

import json
from pathlib import Path


def part(part_id: str, status: str) -> dict:
    return {"id": part_id, "class": "collar_plate", "status": status, "offset_mm": None,
            "offset_sigma_mm": None, "confidence": 0.9, "frames_seen": 4, "best_frame": 2,
            "reason": "seen"}  # fmt: skip


def write_report(folder: Path, section: str = "block-2") -> Path:
    """Parts COL-1 (missing, with a crop) and COL-2 (present); returns the folder."""
    document = {
        "section": section, "recording": "/data/rec", "detector": "det.onnx",
        "counts": {"missing": 1, "present": 1},
        "parts": [part("COL-1", "missing"), part("COL-2", "present")],
        "unexpected": [], "frames": {"total": 5, "pose_status": {}},
        "timing": {"frames_per_s": 10.0}, "tool": "arinspect 0.1.0",
        "created_utc": "2026-11-29T00:00:00+00:00",
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(document))
    (folder / "crops").mkdir(exist_ok=True)
    (folder / "crops" / "COL-1.jpg").write_bytes(b"jpg")
    (folder / "overlays").mkdir(exist_ok=True)
    (folder / "overlays" / "frame_000003.jpg").write_bytes(b"jpg")
    return folder
