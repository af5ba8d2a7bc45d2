"""Benchmark: batch re-inspection throughput — plain loop, local pool, Ray — in one run.

Recordings: walks of the sample section rendered here (``--frames`` frames each, three
seeds, copied to ``--recordings`` units). Every configuration inspects the same units
with the bundled detector at one thread per worker (the per-worker CPU share on a 2-core
machine), into its own output folder:

- plain loop: one `InspectionWorker` in this process, unit after unit (the baseline);
- local executor with 1 and 2 worker processes; Ray executor with 1 and 2 actors.

Start-up (from the start until the first unit begins: processes or actors up, detector
loaded) is reported apart. Steady-state
throughput counts only the units that finished after every worker had finished its
first one: rate = units / (last finish - first finish of that window).
Targets (issue #9): engine overhead at 1 worker <= 10 % of the plain loop; scaling
1 -> 2 workers >= 0.85 of linear, for both executors.
Run: python benchmarks/bench_batch.py [--recordings 16] [--frames 8] [--skip-ray]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from arinspect.batch.executors import LocalExecutor, RayExecutor, cpu_count
from arinspect.batch.manifest import BatchUnit
from arinspect.batch.runner import run_batch, unit_fingerprint
from arinspect.batch.worker import InspectionWorker, WorkerConfig
from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.render.renderer import RenderOptions
from arinspect.resources import DETECTOR_MODEL, SAMPLE_SECTION_DIR


def make_units(folder: Path, count: int, frames: int) -> list[BatchUnit]:
    """``count`` units over three rendered walks of the sample section."""
    sources = []
    for seed in (11, 12, 13):
        path = folder / f"src-{seed}"
        spec = RecordingSpec(frames=frames, seed=seed, trajectory="walk", depth=True,
                             options=RenderOptions(supersample=1))  # fmt: skip
        render_recording(SAMPLE_SECTION_DIR, path, spec)
        sources.append(path)
    units = []
    for index in range(count):
        path = folder / f"rec-{index:03d}"
        shutil.copytree(sources[index % 3], path)
        units.append(BatchUnit(f"rec-{index:03d}", path, None, None, f"bench[{index}]"))
    return units


def steady_rate(finishes: list[float], workers: int) -> float:
    """Units per second after every worker finished its first unit."""
    finishes = sorted(finishes)
    window = finishes[workers - 1 :]
    if len(window) < 2:
        return float("nan")
    return (len(window) - 1) / (window[-1] - window[0])


def plain_loop(units: list[BatchUnit], out: Path) -> tuple[float, float, list[float]]:
    """Baseline: one worker in this process; (start-up s, wall s, finish times)."""
    started = time.time()
    worker = InspectionWorker(WorkerConfig(out, DETECTOR_MODEL, threads=1))
    outcomes = [worker.run(unit, unit_fingerprint(unit, DETECTOR_MODEL)) for unit in units]
    assert all(o["status"] == "done" for o in outcomes), outcomes
    return _figures(started, outcomes)


def _figures(started: float, outcomes: list[dict]) -> tuple[float, float, list[float]]:
    startup = min(o["started"] for o in outcomes) - started
    wall = max(o["finished"] for o in outcomes) - started
    return startup, wall, [o["finished"] for o in outcomes]


def engine(kind: str, workers: int, units: list[BatchUnit], out: Path):  # noqa: ANN201
    """(start-up s, wall s, finish times) of one executor configuration."""
    config = WorkerConfig(out, DETECTOR_MODEL, threads=1)
    if kind == "ray":
        executor = RayExecutor(config, workers, threads=1)
    else:
        executor = LocalExecutor(config, workers, threads=1)
    started = time.time()
    run = run_batch(units, out, executor, DETECTOR_MODEL)
    assert not run.failed and run.processed == len(units), run.failed
    return _figures(started, run.outcomes)


def main() -> None:
    """Print throughput side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recordings", type=int, default=16)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        units = make_units(folder / "recordings", args.recordings, args.frames)
        rows = [("plain loop", 1, *plain_loop(units, folder / "plain"))]
        configs = [("local", 1), ("local", 2)]
        if not args.skip_ray:
            configs += [("ray", 1), ("ray", 2)]
        for kind, workers in configs:
            rows.append((kind, workers, *engine(kind, workers, units, folder / f"{kind}{workers}")))
    frames = args.frames
    print(f"{args.recordings} recordings x {frames} frames, sample section, {cpu_count()} CPUs, "
          "1 thread per worker")  # fmt: skip
    print(f"{'configuration':<16} {'start-up s':>10} {'wall s':>8} {'rec/s':>7} {'frames/s':>9}"
          f" {'vs plain':>9} {'vs 1 worker':>12}")  # fmt: skip
    base = steady_rate(rows[0][4], 1)
    single: dict[str, float] = {}
    for name, workers, startup, wall, finishes in rows:
        rate = steady_rate(finishes, workers)
        single.setdefault(name, rate)
        scaling = rate / (workers * single[name]) if name != "plain loop" else float("nan")
        label = name if name == "plain loop" else f"{name} x{workers}"
        print(f"{label:<16} {startup:>10.2f} {wall:>8.1f} {rate:>7.2f} {rate * frames:>9.1f}"
              f" {rate / base:>9.2f} {scaling:>12.2f}")  # fmt: skip
    print(
        "targets: 1-worker engines >= 0.90 of the plain loop ('vs plain'); "
        "2 workers >= 0.85 of linear ('vs 1 worker')"
    )


if __name__ == "__main__":
    main()
