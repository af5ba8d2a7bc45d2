"""Track a whole recording and write ``poses.json``; compare with ground truth when there is some.

``poses.json``::

    {"schema_version": 1, "recording": "...", "section": "...", "units": "m",
     "frames": [{"im_id": 0, "status": "tracked", "T_cam_section": [[4x4]], "rms_px": 0.21,
                 "covariance": [[6x6]], "bound95_mm": 3.1, "quality": 0.84,
                 "source": "markers+icp", "n_markers": 4}, ...]}

``covariance`` is over a left perturbation [omega (rad), v (m)] of the camera frame
(`arinspect.pose.covariance`); ``T_cam_section`` and ``covariance`` are null for frames
without any pose.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arinspect import __version__
from arinspect.atomic_write import write_atomic
from arinspect.cad.section import Section
from arinspect.camera import CameraModel
from arinspect.errors import DataFormatError
from arinspect.geometry import pose_error
from arinspect.pose.backwards import FrameMotion, is_lost, track_backwards
from arinspect.pose.tracker import FrameResult, PoseTracker, TrackerConfig
from arinspect.recording.bop import Recording
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class ErrorSummary:
    """Errors against ground truth over the frames that have a pose.

    Attributes:
        translation_mm: (mean, median, p95, max) of the translation error, millimetres.
        rotation_deg: (mean, median, p95, max) of the rotation error, degrees.
        frames: Frames compared.
        untrusted_over_2cm: Frames off by more than 2 cm that were (rightly) not ``tracked``.
        tracked_over_2cm: Frames off by more than 2 cm that were ``tracked`` (should be 0).
    """

    translation_mm: tuple[float, float, float, float]
    rotation_deg: tuple[float, float, float, float]
    frames: int
    untrusted_over_2cm: int
    tracked_over_2cm: int


def track_recording(
    recording: Recording,
    section: Section,
    camera: CameraModel,
    config: TrackerConfig | None = None,
    T_cam_section_init: FloatArray | None = None,
    progress: Callable[[int, int], None] | None = None,
    backwards: bool = True,
) -> list[FrameResult]:
    """Track every frame of `recording` in order (depth and headset poses used when present).

    With `backwards`, the frames lost before a track started or restarted are then tracked
    from it in reverse order (`arinspect.pose.backwards`).
    """
    tracker = PoseTracker(section, camera, config or TrackerConfig(), T_cam_section_init)
    ids = recording.frame_ids
    motion = recording_motion(recording)

    def images(index: int) -> tuple[np.ndarray, np.ndarray | None]:
        image = recording.bgr(ids[index], check_size=False)
        _check_frame_size(recording, ids[index], image, camera)
        return image, recording.depth_m(ids[index])

    results = []
    for k, im_id in enumerate(ids, start=1):
        results.append(tracker.process(im_id, *images(k - 1), *motion(k - 1)))
        if progress:
            progress(k, len(ids))
    if backwards:
        lost = track_backwards(tracker, results, motion, images, is_lost)
        results = [lost.get(index, result) for index, result in enumerate(results)]
    return results


def recording_motion(recording: Recording) -> FrameMotion:
    """Timestamp and headset pose (T_world_cam) of a recording's frames, by index."""
    frames = {f["im_id"]: f for f in recording.meta.get("frames", [])}
    ids = recording.frame_ids

    def motion(index: int) -> tuple[float | None, FloatArray | None]:
        meta = frames.get(ids[index], {})
        headset = meta.get("T_world_cam")
        return (
            meta.get("timestamp_s"),
            None if headset is None else np.asarray(headset, dtype=np.float64),
        )

    return motion


def _check_frame_size(
    recording: Recording, im_id: int, image: np.ndarray, camera: CameraModel
) -> None:

    if image.shape[:2] != (camera.height, camera.width):
        path = recording.rgb_dir / f"{im_id:06d}.png"
        raise DataFormatError(
            path,
            f"frame is {image.shape[1]}x{image.shape[0]} px,"
            f" the camera file says {camera.width}x{camera.height}",
        )


def _frame_dict(result: FrameResult) -> dict[str, Any]:
    return {
        "im_id": result.im_id,
        "status": result.status,
        "T_cam_section": None if result.T_cam_section is None else result.T_cam_section.tolist(),
        "rms_px": None if not np.isfinite(result.rms_px) else round(result.rms_px, 4),
        "covariance": None if result.covariance is None else result.covariance.tolist(),
        "bound95_mm": None
        if not np.isfinite(result.bound95_m)
        else round(result.bound95_m * 1000, 3),
        "quality": round(result.quality, 4),
        "source": result.source,
        "n_markers": result.n_markers,
    }


def write_poses(
    results: list[FrameResult], path: str | Path, recording: Path, section: Path
) -> Path:
    """Write ``poses.json`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "schema_version": 1,
        "recording": str(recording),
        "section": str(section),
        "units": "m",
        "frames": [_frame_dict(r) for r in results],
        "provenance": {"tool": f"arinspect {__version__}"},
    }
    return write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())


def _stats(values: list[float]) -> tuple[float, float, float, float]:
    a = np.asarray(values, dtype=np.float64)
    return (float(a.mean()), float(np.median(a)), float(np.quantile(a, 0.95)), float(a.max()))


def compare_with_truth(results: list[FrameResult], recording: Recording) -> ErrorSummary | None:
    """Errors of the tracked poses against ``scene_gt.json``, or None without ground truth."""
    translation, rotation, untrusted, tracked_bad = [], [], 0, 0
    for result in results:
        truth = recording.T_cam_section(result.im_id)
        if truth is None or result.T_cam_section is None:
            continue
        dt, dr = pose_error(result.T_cam_section, truth)
        translation.append(dt * 1000)
        rotation.append(float(np.degrees(dr)))
        if dt > 0.02:
            if result.status == "tracked":
                tracked_bad += 1
            else:
                untrusted += 1
    if not translation:
        return None
    return ErrorSummary(
        _stats(translation), _stats(rotation), len(translation), untrusted, tracked_bad
    )
