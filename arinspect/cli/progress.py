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


def batch_progress(width: int = 30) -> Callable[[int, int, float, int], None]:
    """A one-line stderr progress bar of a batch: recordings done, failures, rate, ETA."""

    def report(done: int, total: int, seconds: float, failures: int) -> None:
        filled = int(width * done / max(total, 1))
        rate = done / seconds if seconds > 0 and done else 0.0
        eta = f"{(total - done) / rate:.0f} s" if rate > 0 else "?"
        end = "\n" if done >= total else ""
        print(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} recordings, "
            f"{failures} failed, {rate:.2f}/s, ETA {eta}   ",
            end=end, file=sys.stderr, flush=True,
        )  # fmt: skip

    return report
