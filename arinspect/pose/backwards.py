"""Track a recording backwards into the frames its forward pass could not pose.

A recording is inspected after it was made, so a frame the forward pass lost before a
track started (a walk that begins with no marker in view, the frames before a restart) can
still be tracked from the trusted frame after it: the tracker is seeded with that frame
(and the one after it, for the velocity) and run over the lost frames in reverse order,
predicting by the headset's motion or constant velocity as it does forwards, refining
against the CAD and judging each frame the same way. It stops at the first frame it
cannot trust. A live headset has no later frames: this is for recordings only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from arinspect.pose.tracker import FrameResult, PoseTracker
from arinspect.typed import FloatArray, UInt8Image

FrameMotion = Callable[[int], tuple[float | None, FloatArray | None]]
"""Index of a frame -> its timestamp (s) and the headset's T_world_cam, each if known."""
FrameImages = Callable[[int], tuple[UInt8Image, np.ndarray | None]]
"""Index of a frame -> its BGR image and registered depth (metres), if any."""


def is_lost(result: FrameResult) -> bool:
    """Whether the tracker called a frame ``lost`` (what a backward pass tries again)."""
    return result.status == "lost"


def trusted(result: FrameResult, max_bound95_m: float) -> bool:
    """Whether a frame's pose can seed or continue a track (not lost, within the bound)."""
    return result.status != "lost" and result.bound95_m <= max_bound95_m


def backward_runs(
    results: Sequence[FrameResult],
    needs_pose: Callable[[FrameResult], bool],
    max_bound95_m: float,
) -> list[tuple[list[int], list[int]]]:
    """Runs of frames to track backwards, and the trusted frames to seed each from.

    Args:
        results: The forward pass, in frame order.
        needs_pose: Which frames a backward pass should try to pose.
        max_bound95_m: A seed's largest 95 % translation bound, metres.

    Returns:
        For each run of consecutive frames that need a pose and is followed by a trusted
        frame: the seeds (indices into `results`, the later of two first: the frame after
        the one that ends the run when it is trusted too, then that one) and the run's
        indices from the last frame to the first.
    """
    runs = []
    k = 0
    while k < len(results):
        if not needs_pose(results[k]):
            k += 1
            continue
        start = k
        while k < len(results) and needs_pose(results[k]):
            k += 1
        if k < len(results) and trusted(results[k], max_bound95_m):
            seeds = [k]
            if k + 1 < len(results) and trusted(results[k + 1], max_bound95_m):
                seeds.insert(0, k + 1)
            runs.append((seeds, list(range(k - 1, start - 1, -1))))
    return runs


def track_backwards(
    tracker: PoseTracker,
    results: Sequence[FrameResult],
    motion: FrameMotion,
    images: FrameImages,
    needs_pose: Callable[[FrameResult], bool],
) -> dict[int, FrameResult]:
    """Trusted poses for frames the forward pass left without one, tracked backwards.

    Args:
        tracker: A tracker of the recording's section and camera (restarted for each run;
            the forward pass's own will do). It is left in the state of the last run: restart
            it before tracking forwards again.
        results: The forward pass, in frame order.
        motion: Timestamp and headset pose of a frame (by index into `results`).
        images: Image and depth of a frame (read only for the frames tracked).
        needs_pose: Which frames to try (e.g. `is_lost`).

    Returns:
        The new results by index into `results`: only trusted ones, so a caller keeps the
        forward result of every other frame.
    """
    found: dict[int, FrameResult] = {}
    for seeds, run in backward_runs(results, needs_pose, tracker.config.max_bound95_m):
        tracker.restart()
        for index in seeds:
            tracker.resume(results[index], *motion(index))
        for index in run:
            image, depth_m = images(index)
            result = tracker.process(results[index].im_id, image, depth_m, *motion(index))
            if not trusted(result, tracker.config.max_bound95_m):
                break
            found[index] = result
    return found
