"""``arinspect inspect``: pose, detection and inspection of a recording, with a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from arinspect.cli.recording_args import add_detector_arguments, add_recording_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` verb."""
    parser = subparsers.add_parser(
        "inspect",
        help="flag missing and misplaced parts in a recording (or several passes over one"
        " section); write the report",
    )
    add_recording_arguments(parser, passes=True)
    parser.add_argument("--out", type=Path, required=True, help="report folder to write")
    add_detector_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Inspect, print the summary table, write report.json and report.html."""
    from arinspect.cli.inspection_summary import inspect_and_report

    inspect_and_report(
        args.recordings,
        args.out,
        section_dir=args.section,
        camera_path=args.camera,
        model=args.model,
        threads=args.threads,
    )
    return 0
