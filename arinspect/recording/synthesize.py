"""Render a synthetic recording of a section, with optional removed and moved parts.

This is what ``arinspect render`` runs. The output is a BOP scene (see
`arinspect.recording.bop`) with ground truth: the section's pose per frame, label maps,
and in ``recording.json`` the truth about every part (present, removed, or moved with
its actual pose), timestamps and a drifting headset pose standing in for SLAM.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from arinspect import __version__
from arinspect.cad.section import Section, load_section
from arinspect.camera import CameraModel, default_camera
from arinspect.errors import ConfigError
from arinspect.geometry import invert_T, rotation_from_rotvec
from arinspect.recording.bop import RecordingWriter
from arinspect.recording.trajectory import make_trajectory, section_bounds
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from arinspect.typed import FloatArray

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordingSpec:
    """What to record.

    Attributes:
        frames: Number of frames.
        seed: Seed of the trajectory, head motion, headset drift and sensor noise.
        trajectory: ``walk`` or ``orbit``.
        depth: Also write depth maps.
        removed: Ids of parts left out (missing parts).
        moved: Displacement of moved parts in the section frame, metres, by id.
        fps: Frame rate for timestamps, frames per second.
        options: Lighting and nuisances.
    """

    frames: int = 10
    seed: int = 0
    trajectory: str = "walk"
    depth: bool = False
    removed: Sequence[str] = ()
    moved: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    fps: float = 5.0
    options: RenderOptions = field(default_factory=RenderOptions)


def _blur_angle_deg(
    camera: CameraModel, T_a: FloatArray, T_b: FloatArray, centre: FloatArray
) -> float:
    """Direction (deg from +u) in which the section centre moves in the image from pose a to b."""
    uv_a, _ = camera.project(T_a, centre[None])
    uv_b, _ = camera.project(T_b, centre[None])
    d = uv_b[0] - uv_a[0]
    return float(np.degrees(np.arctan2(d[1], d[0]))) if np.isfinite(d).all() else 0.0


HEADSET_DRIFT_RAD = np.deg2rad(0.05)
"""Rotation error per frame and axis of the simulated SLAM's relative motion, radians."""
HEADSET_DRIFT_M = (0.001, 0.01)
"""Translation error per frame and axis of the simulated SLAM: metres plus a share of the
distance moved since the previous frame (visual-inertial odometry drifts about 1 %)."""


def _headset_poses(poses: list[FloatArray], rng: np.random.Generator) -> list[FloatArray]:
    """T_world_cam of a SLAM headset: a fixed world placement plus a slowly drifting error.

    The error is that of odometry: each frame's motion relative to the previous one is
    perturbed in the camera's own frame, so the drift grows with the path, not with the
    distance from the world origin.
    """
    T_world_section = np.eye(4)
    T_world_section[:3, :3] = rotation_from_rotvec([0.0, 0.0, rng.uniform(-np.pi, np.pi)])
    T_world_section[:3, 3] = rng.uniform(-20.0, 20.0, 3)
    if not poses:
        return []
    result = [T_world_section @ invert_T(poses[0])]
    rng.normal(0.0, 1.0, 6)  # the first frame's draws: later noise stays as in older recordings
    for T_prev, T_cam_section in zip(poses, poses[1:], strict=False):
        motion = T_prev @ invert_T(T_cam_section)  # this camera frame -> the previous one
        error = np.eye(4)
        error[:3, :3] = rotation_from_rotvec(rng.normal(0.0, HEADSET_DRIFT_RAD, 3))
        sigma_m = HEADSET_DRIFT_M[0] + HEADSET_DRIFT_M[1] * np.linalg.norm(motion[:3, 3])
        error[:3, 3] = rng.normal(0.0, sigma_m, 3)
        result.append(result[-1] @ motion @ error)
    return result


def _part_truth(section: Section, spec: RecordingSpec) -> list[dict]:
    truth = []
    for part in section.parts:
        entry: dict = {"id": part.id, "class": part.class_name, "status": "present"}
        T = part.T_section_part
        if part.id in spec.removed:
            entry["status"] = "removed"
        elif part.id in spec.moved:
            T = part.T_section_part.copy()
            T[:3, 3] += np.asarray(spec.moved[part.id], dtype=np.float64)
            entry["status"] = "moved"
            entry["offset_m"] = [float(v) for v in spec.moved[part.id]]
        entry["T_section_part"] = np.asarray(T).tolist()
        truth.append(entry)
    return truth


def render_recording(
    section_dir: str | Path,
    out_dir: str | Path,
    spec: RecordingSpec = RecordingSpec(),
    camera: CameraModel | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render a recording of the section in `section_dir` into `out_dir` (BOP layout).

    Args:
        section_dir: Section folder.
        out_dir: Recording folder to create (existing frames are overwritten).
        spec: Frames, trajectory, defects and nuisances.
        camera: Camera (with distortion); the default 640x480, f = 600 px camera if None.
        progress: Called with (frames done, frames total) after each frame.

    Returns:
        The recording folder.
    """
    if spec.frames < 1:
        raise ConfigError(f"--frames must be at least 1, got {spec.frames}")
    both = set(spec.removed) & set(spec.moved)
    if both:
        raise ConfigError(f"part(s) both removed and moved: {', '.join(sorted(both))}")
    section = load_section(section_dir)
    camera = camera or default_camera()
    truth = _part_truth(section, spec)
    overrides = {t["id"]: np.asarray(t["T_section_part"]) for t in truth if t["status"] == "moved"}
    scene = SectionScene(section, set(spec.removed), overrides)
    rng = np.random.default_rng(spec.seed)
    poses = make_trajectory(spec.trajectory, section, spec.frames, rng)
    headset = _headset_poses(poses, rng)
    centre = section_bounds(section).mean(axis=0)
    writer = RecordingWriter(out_dir, camera)
    for im_id, T_cam_section in enumerate(poses):
        options = spec.options
        if options.motion_blur_px > 0 and len(poses) > 1:
            a, b = (poses[im_id - 1], T_cam_section) if im_id > 0 else (poses[0], poses[1])
            options = replace(options, motion_blur_angle_deg=_blur_angle_deg(camera, a, b, centre))
        result = render(scene, camera, T_cam_section, options, rng)
        writer.add_frame(
            im_id,
            result.bgr,
            result.depth_m if spec.depth else None,
            result.label_map,
            T_cam_section,
        )
        log.debug("rendered frame %d/%d", im_id + 1, len(poses))
        if progress:
            progress(im_id + 1, len(poses))
    meta = {
        "section": os.path.relpath(Path(section_dir).resolve(), Path(out_dir).resolve()),
        "section_name": section.name,
        "units": "m",
        "labels": [
            {"index": lab.index, "kind": lab.kind, "id": lab.id, "class": lab.class_name}
            for lab in scene.labels
        ],
        "parts": truth,
        "frames": [
            {"im_id": i, "timestamp_s": round(i / spec.fps, 6), "T_world_cam": headset[i].tolist()}
            for i in range(len(poses))
        ],
        "render": {
            "trajectory": spec.trajectory,
            "seed": spec.seed,
            "options": {k: v for k, v in asdict(spec.options).items() if k != "palette"},
        },
        "provenance": {
            "tool": f"arinspect {__version__}",
            "created_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        },
    }
    return writer.finish(meta)
