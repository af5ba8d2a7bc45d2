"""The ``arinspect`` command line: argument parsing and one error boundary.

Each verb lives in its own module with a ``register(subparsers)`` function; heavy
libraries are imported inside the command functions so that ``--help`` stays instant.
An `ArInspectError` becomes a one-line message on stderr and exit code 1; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from arinspect import __version__
from arinspect.cli import (
    batch_cmd,
    bcf_cmd,
    calibrate_cmd,
    catalog_cmd,
    demo_cmd,
    detect_cmd,
    detector_cmd,
    export_cmd,
    inspect_cmd,
    render_cmd,
    replay_cmd,
    report_cmd,
    section_cmd,
    serve_cmd,
    token_cmd,
    track_cmd,
    voice_cmd,
)
from arinspect.errors import ArInspectError

log = logging.getLogger("arinspect")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every verb."""
    parser = argparse.ArgumentParser(
        prog="arinspect",
        description="AR-assisted inspection of ship sections against their CAD model.",
    )
    parser.add_argument("--version", action="version", version=f"arinspect {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        section_cmd,
        catalog_cmd,
        render_cmd,
        track_cmd,
        detect_cmd,
        detector_cmd,
        inspect_cmd,
        export_cmd,
        calibrate_cmd,
        demo_cmd,
        serve_cmd,
        token_cmd,
        voice_cmd,
        replay_cmd,
        report_cmd,
        bcf_cmd,
        batch_cmd,
    ):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used as the console entry point)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = args.func(args)
    except ArInspectError as exc:
        print(f"arinspect {args.command}: error: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Python's docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    return code
