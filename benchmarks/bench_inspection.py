"""Benchmark: the whole inspection on rendered recordings with seeded defects.

Fifteen sets of six recordings, walk-past and orbit, with and without depth, 640x480
(f = 600 px, sensor noise, motion blur); each has 2-6 removed and 2-6 moved parts (moves
of 3-15 cm along the mounting surface or the pipe) chosen among the parts its trajectory
shows well. The ``tuning`` set (the sample section and generated sections 90001-90002) is
the one the inspection's thresholds were chosen on; the ``held-out`` set (sections
90003-90005) and the ``validation`` set (90006-90008) were first scored on 2026-11-30 and
a few rules were chosen since seeing their failures (docs/inspection.md); the ``test`` set
(90009-90011) was added later that day, and no rule has been chosen on it, though its
failures have been looked at since; the ``unseen`` set (90012-90014) was added that night,
after the last change, and scored once, and its failures looked at since. The ``fresh-1``
to ``fresh-3`` sets (90015-90023) were added on 2026-12-01 and first scored before that
day's changes to how moves are found (docs/inspection.md gives both); ``fresh-4`` and
``fresh-5`` (90024-90029) were added later that day, after the pose changes (a track from
one marker confirmed by the edges, backward tracking), and scored once; ``fresh-6`` and
``fresh-7`` (90030-90035) were added after depth came to judge moves (a misplaced part that
depth sees at its place and not where it went is present), and scored once; ``fresh-8``
(90036-90038) after the detector became int8 at full resolution, and scored once; ``fresh-9``
and ``fresh-10`` (90039-90044) after a part detected yet called missing came to be looked
for by its edges (a rule shaped on failures of fresh-7 and fresh-8), and scored once. Runs
`arinspect inspect`'s pipeline with the bundled detector (or ``--model``) and prints, per
set and over all:
- missing: recall and precision; misplaced: recall (moves >= 3 cm) and precision, and the
  error of the measured offsets (mm);
- parts called missing that the truth says were never seen well (must be 0);
- frames per second and per-stage milliseconds per frame, beside pose tracking alone (the
  baseline, measured in the same run) as a ratio;
- the time the report takes to suggest where to look at each part not verified from
  (`inspection.next_looks`), per part, beside the same baseline.
Run: python benchmarks/bench_inspection.py [--frames N] [--work DIR] [--model ONNX] [--sets ...]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arinspect.cad.generator import generate_section
from arinspect.cad.section import load_section
from arinspect.camera import default_camera
from arinspect.detect.runtime import PartDetector
from arinspect.inspection.next_looks import suggest_views
from arinspect.inspection.pipeline import Inspector
from arinspect.pose.track_recording import track_recording
from arinspect.recording.bop import Recording
from arinspect.recording.defects import pick_defects, well_seen_parts
from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.recording.trajectory import make_trajectory
from arinspect.render.renderer import RenderOptions
from arinspect.resources import SAMPLE_SECTION_DIR

DEPTH_PATTERN = ((True, False), (False, True), (True, False))
"""Depth or not in the walk-past and the orbit of each set's three sections."""

CASE_SETS = {  # name: (seed of recording k = base + k, sections; None = the bundled sample)
    "tuning": (100, (None, 90001, 90002)),
    "held-out": (500, (90003, 90004, 90005)),
    "validation": (900, (90006, 90007, 90008)),
    "test": (1300, (90009, 90010, 90011)),
    "unseen": (1700, (90012, 90013, 90014)),
    "fresh-1": (2100, (90015, 90016, 90017)),
    "fresh-2": (2500, (90018, 90019, 90020)),
    "fresh-3": (2900, (90021, 90022, 90023)),
    "fresh-4": (3300, (90024, 90025, 90026)),
    "fresh-5": (3700, (90027, 90028, 90029)),
    "fresh-6": (4100, (90030, 90031, 90032)),
    "fresh-7": (4500, (90033, 90034, 90035)),
    "fresh-8": (4900, (90036, 90037, 90038)),
    "fresh-9": (5300, (90039, 90040, 90041)),
    "fresh-10": (5700, (90042, 90043, 90044)),
}


def recordings_of(sections: tuple[int | None, ...]) -> list[tuple[int | None, str, bool]]:
    """(section seed, trajectory, depth) of a set's six recordings."""
    return [
        (seed, trajectory, depth)
        for seed, depths in zip(sections, DEPTH_PATTERN, strict=True)
        for trajectory, depth in zip(("walk", "orbit"), depths, strict=True)
    ]


def prepare(work: Path, frames: int, set_name: str) -> list[tuple[Path, dict, dict]]:
    """Render (or reuse) one set's recordings; their folders, removed ids and moves."""
    base_seed, sections = CASE_SETS[set_name]
    work = work if set_name == "tuning" else work / set_name
    cases = []
    for k, (seed, trajectory, depth) in enumerate(recordings_of(sections)):
        if seed is None:
            section_dir = SAMPLE_SECTION_DIR
        else:
            section_dir = work / f"section-{seed}"
            if not (section_dir / "section.json").is_file():
                generate_section(seed, section_dir)
        section = load_section(section_dir)
        rng = np.random.default_rng(base_seed + k)
        poses = make_trajectory(trajectory, section, frames, np.random.default_rng(base_seed + k))
        candidates = well_seen_parts(section, default_camera(), poses)
        defects = pick_defects(
            section, candidates, int(rng.integers(2, 7)), int(rng.integers(2, 7)), (0.03, 0.15), rng
        )
        folder = work / f"rec-{k}-{section.name}-{trajectory}{'-depth' if depth else ''}"
        if not (folder / "recording.json").is_file():
            spec = RecordingSpec(
                frames=frames,
                seed=base_seed + k,
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
    parser.add_argument("--model", type=Path, default=None, help="ONNX detector (default: bundled)")
    parser.add_argument("--sets", nargs="+", choices=list(CASE_SETS), default=list(CASE_SETS))
    args = parser.parse_args()
    detector = PartDetector(args.model, threads=1)  # beside the tracking (pipeline.py)
    everything, timing = Scores(), Timing()
    for set_name in args.sets:
        print(f"\n== {set_name} set")
        scores = Scores()
        for folder, removed, moved in prepare(args.work, args.frames, set_name):
            inspect_and_score(folder, removed, moved, detector, scores, timing)
        scores.print()
        everything.add(scores)
    print("\n== all sets")
    everything.print()
    timing.print()


@dataclass
class Scores:
    """Counts and offset errors over recordings."""

    counts: dict[str, int] = field(default_factory=dict)
    offset_errors_m: list[float] = field(default_factory=list)
    unseen_missing: int = 0

    def count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def add(self, other: Scores) -> None:
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value
        self.offset_errors_m += other.offset_errors_m
        self.unseen_missing += other.unseen_missing

    def print(self) -> None:
        c = self.counts

        def ratio(kind: str, wrong: str) -> str:
            tp = c.get(f"{kind}_tp", 0)
            total = tp + c.get(f"{kind}_{wrong}", 0)
            return f"{tp / total:.3f} ({tp}/{total})" if total else "n/a"

        print(
            f"missing:   recall {ratio('missing', 'fn')}  precision {ratio('missing', 'fp')}"
            "  (targets >= 0.95, >= 0.95)"
        )
        print(
            f"misplaced: recall {ratio('misplaced', 'fn')}  precision"
            f" {ratio('misplaced', 'fp')}  (targets >= 0.90, >= 0.95)"
        )
        if self.offset_errors_m:
            e = np.asarray(self.offset_errors_m) * 1000
            print(
                f"offset error of misplaced parts: median {np.median(e):.1f} mm,"
                f" p90 {np.quantile(e, 0.9):.1f} mm, max {e.max():.1f} mm"
                " (target: median <= 10 mm)"
            )
        print(
            f"parts called missing with fewer than 2 good looks: {self.unseen_missing} (must be 0)"
        )


@dataclass
class Timing:
    """Wall times of the inspection and of pose tracking alone (the baseline)."""

    stage_ms: dict[str, float] = field(default_factory=dict)
    frames: int = 0
    inspect_s: float = 0.0
    baseline_s: float = 0.0
    suggest_s: float = 0.0
    unverified: int = 0
    suggested: int = 0

    def print(self) -> None:
        fps = self.frames / self.inspect_s
        print(f"\nspeed: {fps:.1f} frames/s over {self.frames} frames (target >= 10 frames/s)")
        for stage, ms in sorted(self.stage_ms.items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<16} {ms / self.frames:6.1f} ms/frame")
        base = self.baseline_s / self.frames * 1000
        print(
            f"  baseline: pose tracking alone {base:.1f} ms/frame;"
            f" whole inspection / tracking = {self.inspect_s / self.baseline_s:.2f}"
        )
        per_part = self.suggest_s / max(self.unverified, 1) * 1000
        print(
            f"suggested views: {self.suggested} of {self.unverified} parts not verified,"
            f" {per_part:.0f} ms per part = {per_part / base:.1f} frames of pose tracking"
        )


def inspect_and_score(
    folder: Path,
    removed: set[str],
    moved: dict[str, np.ndarray],
    detector: PartDetector,
    scores: Scores,
    timing: Timing,
) -> None:
    """Inspect one recording, add its findings to `scores` and its times to `timing`."""
    recording = Recording(folder)
    section = load_section(recording.section_folder)
    inspector = Inspector(section, recording.camera, detector)
    result = inspector.inspect(recording)
    start = time.perf_counter()
    track_recording(recording, section, recording.camera)
    timing.baseline_s += time.perf_counter() - start
    timing.inspect_s += result.wall_s
    timing.frames += len(result.frames)
    for stage, seconds in result.stage_times_s.items():
        timing.stage_ms[stage] = timing.stage_ms.get(stage, 0.0) + seconds * 1000
    unverified = [f.part_id for f in result.findings if f.status == "not_verified"]
    start = time.perf_counter()
    views = suggest_views(inspector.viewer, section, inspector.mounts, unverified)
    timing.suggest_s += time.perf_counter() - start
    timing.unverified += len(unverified)
    timing.suggested += sum(view is not None for view in views.values())
    line = []
    for finding in result.findings:
        pid, status = finding.part_id, finding.status
        if status == "missing":
            scores.count("missing_tp" if pid in removed else "missing_fp")
            if pid not in removed:
                line.append(f"false missing {pid} ({finding.reason})")
            if finding.good_looks < 2:
                scores.unseen_missing += 1
        elif pid in removed:
            scores.count("missing_fn")
            line.append(f"removed {pid} -> {status} ({finding.reason})")
        if status == "misplaced":
            scores.count("misplaced_tp" if pid in moved else "misplaced_fp")
            if pid in moved:
                error = np.linalg.norm(finding.offset_m - np.asarray(moved[pid]))
                scores.offset_errors_m.append(float(error))
            else:
                line.append(f"false misplaced {pid} ({finding.reason})")
        elif pid in moved:
            scores.count("misplaced_fn")
            line.append(
                f"moved {pid} by {np.linalg.norm(moved[pid]) * 100:.0f} cm -> {status}"
                f" ({finding.reason})"
            )
    poses: dict[str, int] = {}
    for frame in result.frames:
        poses[frame.pose_status] = poses.get(frame.pose_status, 0) + 1
    print(
        f"{folder.name}: {len(removed)} removed, {len(moved)} moved; found {result.counts()};"
        f" pose {poses}"
    )
    for text in line:
        print(f"    {text}")


if __name__ == "__main__":
    main()
