"""Arguments shared by the verbs that work on a recording (``track``, ``inspect``, ``replay``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_recording_arguments(parser: argparse.ArgumentParser, passes: bool = False) -> None:
    """The recording folder, and optional ``--section`` and ``--camera`` overrides.

    With `passes`, one or more recording folders (``args.recordings``): passes over one
    section inspected together.
    """
    if passes:
        parser.add_argument(
            "recordings",
            type=Path,
            nargs="+",
            metavar="recording",
            help="recording folder (BOP scene layout); several: passes over one section,"
            " inspected together (one camera)",
        )
    else:
        parser.add_argument("recording", type=Path, help="recording folder (BOP scene layout)")
    parser.add_argument(
        "--section", type=Path, help="section folder (default: the one recording.json names)"
    )
    parser.add_argument(
        "--camera", type=Path, help="camera intrinsics, OpenCV YAML (default: the recording's)"
    )


def add_detector_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--threads`` of the detector that runs beside the pose tracking."""
    parser.add_argument("--model", type=Path, default=None, help="ONNX detector (default: bundled)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="onnxruntime intra-op threads (the detector runs beside the pose tracking, which"
        " keeps another core busy)",
    )
