"""``arinspect inspect``: pose, detection and inspection of a recording, with a report."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` verb."""
    parser = subparsers.add_parser(
        "inspect", help="flag missing and misplaced parts in a recording; write the report"
    )
    parser.add_argument("recording", type=Path, help="recording folder (BOP scene layout)")
    parser.add_argument(
        "--section", type=Path, help="section folder (default: the one recording.json names)"
    )
    parser.add_argument(
        "--camera", type=Path, help="camera intrinsics, OpenCV YAML (default: the recording's)"
    )
    parser.add_argument("--out", type=Path, required=True, help="report folder to write")
    parser.add_argument("--model", type=Path, default=None, help="ONNX detector (default: bundled)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Inspect, print the summary table, write report.json and report.html."""
    from arinspect.cli.inspection_summary import inspect_and_report

    inspect_and_report(
        args.recording,
        args.out,
        section_dir=args.section,
        camera_path=args.camera,
        model=args.model,
        threads=args.threads,
    )
    return 0
