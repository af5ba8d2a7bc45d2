"""Progress shown on the terminal (stderr) while a command works through frames."""

from __future__ import annotations

import sys
from collections.abc import Callable


def frame_progress(verb: str, indent: str = "") -> Callable[[int, int], None]:
    """A callback printing ``<verb> frame i/n`` on one refreshed stderr line."""

    def report(done: int, total: int) -> None:
        end = "" if done < total else "\n"
        print(f"\r{indent}{verb} frame {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report
