"""``arinspect batch``: re-inspect every recording of a manifest, resumably."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``batch`` verb."""
    parser = subparsers.add_parser(
        "batch",
        help="inspect every recording a manifest lists (local process pool or Ray)",
        description="Inspect every recording of MANIFEST (JSON or CSV) into OUT/<id>/ "
        "(report.json, report.html) with a batch summary; a re-run skips recordings whose "
        "outputs are complete for the same inputs. See docs/batch.md.",
    )
    parser.add_argument("manifest", type=Path, help="JSON or CSV list of recordings")
    parser.add_argument("--out", type=Path, required=True, help="batch output folder")
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel workers (default: one per CPU)")  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=None,
        help="OpenCV and onnxruntime threads per worker (default: its CPU share)",
    )  # fmt: skip
    parser.add_argument("--ray-address", default=None,
                        help="join this Ray cluster ('auto' or HOST:PORT); default: start a "
                        "local one sized to this machine")  # fmt: skip
    parser.add_argument("--model", type=Path, default=None, help="ONNX detector (default: bundled)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the batch, print the summary; exit code 1 when any recording failed."""
    from arinspect.batch.executors import LocalExecutor, RayExecutor, cpu_count
    from arinspect.batch.manifest import load_manifest
    from arinspect.batch.runner import SUMMARY, run_batch
    from arinspect.batch.worker import WorkerConfig
    from arinspect.cli.progress import batch_progress
    from arinspect.errors import ConfigError
    from arinspect.resources import DETECTOR_MODEL

    if args.ray_address and args.executor != "ray":
        raise ConfigError("--ray-address needs --executor ray")
    units = load_manifest(args.manifest)
    model = (args.model or DETECTOR_MODEL).resolve()
    if not model.is_file():
        raise ConfigError(f"detector model not found: {model}")
    workers = args.workers or max(1, cpu_count())
    config = WorkerConfig(out_dir=args.out.resolve(), model=model, threads=1)
    if args.executor == "ray":
        executor = RayExecutor(config, workers, args.ray_address, args.threads)
    else:
        executor = LocalExecutor(config, workers, args.threads)
    result = run_batch(units, args.out.resolve(), executor, model, batch_progress())
    print(f"{len(units)} recordings: {result.skipped} already complete, "
          f"{result.processed} processed with {executor.name} x{workers} "
          f"(start-up {result.startup_s:.1f} s, total {result.wall_s:.1f} s)")  # fmt: skip
    done = [o for o in result.outcomes if o.get("status") == "done"]
    frames = sum(o.get("frames", 0) for o in done)
    totals: dict[str, int] = {}
    for outcome in done:
        for status, count in outcome.get("counts", {}).items():
            totals[status] = totals.get(status, 0) + count
    print(f"done {len(done)} ({frames} frames); parts: "
          + ", ".join(f"{s} {n}" for s, n in sorted(totals.items())))  # fmt: skip
    for failure in result.failed:
        print(f"FAILED {failure['unit_id']}: {failure['reason']} ({failure['recording']})")
    print(f"summary: {args.out.resolve() / SUMMARY}")
    return 1 if result.failed else 0
