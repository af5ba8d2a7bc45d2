"""Benchmark: the whole inspection on rendered recordings with seeded defects.

Recordings of the sample section and of two held-out generated sections, walk-past and
orbit, with and without depth, 640x480 (f = 600 px, sensor noise, motion blur); each has
2-6 removed and 2-6 moved parts (moves of 3-15 cm along the mounting surface or the pipe)
chosen among the parts its trajectory shows well. Runs `arinspect inspect`'s pipeline
with the bundled detector and prints:
- missing: recall and precision; misplaced: recall (moves >= 3 cm) and precision, and the
  error of the measured offsets (mm);
- parts called missing that the truth says were never seen well (must be 0);
- frames per second and per-stage milliseconds per frame, beside pose tracking alone (the
  baseline, measured in the same run) as a ratio.
Run: python benchmarks/bench_inspection.py [--frames N] [--work DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from arinspect.cad.generator import generate_section
from arinspect.cad.section import load_section
from arinspect.camera import default_camera
from arinspect.detect.runtime import PartDetector
from arinspect.inspection.pipeline import Inspector
from arinspect.pose.track_recording import track_recording
from arinspect.recording.bop import Recording
from arinspect.recording.defects import pick_defects, well_seen_parts
from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.recording.trajectory import make_trajectory
from arinspect.render.renderer import RenderOptions
from arinspect.resources import SAMPLE_SECTION_DIR

CASES = (  # (section seed or None for the sample, trajectory, depth)
    (None, "walk", True),
    (None, "orbit", False),
    (90001, "walk", False),
    (90001, "orbit", True),
    (90002, "walk", True),
    (90002, "orbit", False),
)


def prepare(work: Path, frames: int) -> list[tuple[Path, dict, dict]]:
    """Render (or reuse) the recordings; their folders, removed ids and moves."""
    cases = []
    for k, (seed, trajectory, depth) in enumerate(CASES):
        if seed is None:
            section_dir = SAMPLE_SECTION_DIR
        else:
            section_dir = work / f"section-{seed}"
            if not (section_dir / "section.json").is_file():
                generate_section(seed, section_dir)
        section = load_section(section_dir)
        rng = np.random.default_rng(100 + k)
        poses = make_trajectory(trajectory, section, frames, np.random.default_rng(100 + k))
        candidates = well_seen_parts(section, default_camera(), poses)
        defects = pick_defects(
            section, candidates, int(rng.integers(2, 7)), int(rng.integers(2, 7)), (0.03, 0.15), rng
        )
        folder = work / f"rec-{k}-{section.name}-{trajectory}{'-depth' if depth else ''}"
        if not (folder / "recording.json").is_file():
            spec = RecordingSpec(
                frames=frames,
                seed=100 + k,
                trajectory=trajectory,
                depth=depth,
                removed=defects.removed,
                moved=defects.moved,
                options=RenderOptions(noise_sigma=2.0, motion_blur_px=2.0, depth_noise_m=0.002),
            )
            render_recording(section_dir, folder, spec)
        cases.append((folder, set(defects.removed), dict(defects.moved)))
    return cases


def main() -> None:
    """Render, inspect, score, time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("out/bench_inspection"))
    args = parser.parse_args()
    cases = prepare(args.work, args.frames)
    detector = PartDetector(threads=2)
    totals = {
        "missing_tp": 0,
        "missing_fp": 0,
        "missing_fn": 0,
        "misplaced_tp": 0,
        "misplaced_fp": 0,
        "misplaced_fn": 0,
    }
    offset_errors, stage_ms, frames_total = [], {}, 0
    inspect_s = baseline_s = 0.0
    unseen_missing = 0
    for folder, removed, moved in cases:
        recording = Recording(folder)
        section = load_section(recording.section_folder)
        inspector = Inspector(section, recording.camera, detector)
        result = inspector.inspect(recording)
        start = time.perf_counter()
        track_recording(recording, section, recording.camera)
        baseline_s += time.perf_counter() - start
        inspect_s += result.wall_s
        frames_total += len(result.frames)
        for stage, seconds in result.stage_times_s.items():
            stage_ms[stage] = stage_ms.get(stage, 0.0) + seconds * 1000
        line = []
        for finding in result.findings:
            pid, status = finding.part_id, finding.status
            if status == "missing":
                totals["missing_tp" if pid in removed else "missing_fp"] += 1
                if pid not in removed:
                    line.append(f"false missing {pid} ({finding.reason})")
                if finding.good_looks < 2:
                    unseen_missing += 1
            elif pid in removed:
                totals["missing_fn"] += 1
                line.append(f"removed {pid} -> {status} ({finding.reason})")
            if status == "misplaced":
                totals["misplaced_tp" if pid in moved else "misplaced_fp"] += 1
                if pid in moved:
                    offset_errors.append(np.linalg.norm(finding.offset_m - np.asarray(moved[pid])))
                else:
                    line.append(f"false misplaced {pid} ({finding.reason})")
            elif pid in moved:
                totals["misplaced_fn"] += 1
                line.append(
                    f"moved {pid} by {np.linalg.norm(moved[pid]) * 100:.0f} cm -> {status}"
                    f" ({finding.reason})"
                )
        counts = result.counts()
        poses: dict[str, int] = {}
        for frame in result.frames:
            poses[frame.pose_status] = poses.get(frame.pose_status, 0) + 1
        print(
            f"{folder.name}: {len(removed)} removed, {len(moved)} moved; found {counts};"
            f" pose {poses}"
        )
        for text in line:
            print(f"    {text}")

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "n/a"

    t = totals
    print(
        "\nmissing:   recall",
        ratio(t["missing_tp"], t["missing_tp"] + t["missing_fn"]),
        " precision",
        ratio(t["missing_tp"], t["missing_tp"] + t["missing_fp"]),
        "  (targets >= 0.95, >= 0.95)",
    )
    print(
        "misplaced: recall",
        ratio(t["misplaced_tp"], t["misplaced_tp"] + t["misplaced_fn"]),
        " precision",
        ratio(t["misplaced_tp"], t["misplaced_tp"] + t["misplaced_fp"]),
        "  (targets >= 0.90, >= 0.95)",
    )
    if offset_errors:
        e = np.asarray(offset_errors) * 1000
        print(
            f"offset error of misplaced parts: median {np.median(e):.1f} mm,"
            f" p90 {np.quantile(e, 0.9):.1f} mm, max {e.max():.1f} mm (target: median <= 10 mm)"
        )
    print(f"parts called missing with fewer than 2 good looks: {unseen_missing} (must be 0)")
    fps = frames_total / inspect_s
    print(f"\nspeed: {fps:.1f} frames/s over {frames_total} frames (target >= 10 frames/s)")
    for stage, ms in sorted(stage_ms.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:<16} {ms / frames_total:6.1f} ms/frame")
    base = baseline_s / frames_total * 1000
    print(
        f"  baseline: pose tracking alone {base:.1f} ms/frame;"
        f" whole inspection / tracking = {inspect_s / baseline_s:.2f}"
    )


if __name__ == "__main__":
    main()
