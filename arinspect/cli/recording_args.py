"""Arguments shared by the verbs that work on a recording (``track``, ``inspect``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_recording_arguments(parser: argparse.ArgumentParser) -> None:
    """The recording folder, and optional ``--section`` and ``--camera`` overrides."""
    parser.add_argument("recording", type=Path, help="recording folder (BOP scene layout)")
    parser.add_argument(
        "--section", type=Path, help="section folder (default: the one recording.json names)"
    )
    parser.add_argument(
        "--camera", type=Path, help="camera intrinsics, OpenCV YAML (default: the recording's)"
    )
