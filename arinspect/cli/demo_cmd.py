"""``arinspect demo``: the main job on the bundled sample section.

Renders a walk-past recording of the sample section with seeded defects (removed and
moved parts), tracks the camera's pose against the CAD in every frame, and reports frame
by frame what was seen, the pose status and its error against the rendered truth.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEMO_SEED = 7
DEMO_FRAMES = 12


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` verb."""
    from arinspect.resources import SAMPLE_SECTION_DIR

    parser = subparsers.add_parser("demo", help="run the main job on the bundled sample section")
    parser.add_argument(
        "--section",
        type=Path,
        default=SAMPLE_SECTION_DIR,
        help="section folder (default: bundled sample)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/demo"), help="output folder (default out/demo)"
    )
    parser.add_argument(
        "--frames", type=int, default=DEMO_FRAMES, help=f"frames to render (default {DEMO_FRAMES})"
    )
    parser.set_defaults(func=run)


def _pick_defects(
    section_parts: list, seed: int
) -> tuple[list[str], dict[str, tuple[float, float, float]]]:
    """Two removed and two moved (5 and 10 cm along the plate) parts, chosen by seed."""
    import numpy as np

    rng = np.random.default_rng(seed)
    candidates = [
        p.id
        for p in section_parts
        if p.class_name
        in {"collar_plate", "tripping_bracket", "pipe_clamp", "cable_tray_hanger", "lifting_lug"}
    ]
    chosen = [str(c) for c in rng.choice(candidates, size=4, replace=False)]
    return chosen[:2], {chosen[2]: (0.05, 0.0, 0.0), chosen[3]: (0.0, 0.10, 0.0)}


def run(args: argparse.Namespace) -> int:
    """Render the demo recording and print what it holds."""
    from arinspect.cad.section import load_section
    from arinspect.cli.progress import frame_progress
    from arinspect.geometry import pose_error
    from arinspect.pose.track_recording import track_recording, write_poses
    from arinspect.recording.bop import Recording
    from arinspect.recording.synthesize import RecordingSpec, render_recording
    from arinspect.recording.visibility import frame_visibility
    from arinspect.render.renderer import RenderOptions

    section = load_section(args.section)
    n_control = sum(m.control for m in section.markers)
    print(f"section {section.name}: {section.description}")
    print(f"  {len(section.parts)} parts, {len(section.markers)} markers ({n_control} control)")
    removed, moved = _pick_defects(list(section.parts), DEMO_SEED)
    print(
        f"  seeded defects: removed {', '.join(removed)}; moved "
        + ", ".join(f"{k} by {max(abs(v) for v in d) * 100:.0f} cm" for k, d in moved.items())
    )
    spec = RecordingSpec(
        frames=args.frames,
        seed=DEMO_SEED,
        trajectory="walk",
        depth=True,
        removed=removed,
        moved=moved,
        options=RenderOptions(noise_sigma=1.5),
    )
    folder = args.out / "recording"
    start = time.perf_counter()

    render_recording(args.section, folder, spec, progress=frame_progress("rendering", "  "))
    elapsed = time.perf_counter() - start
    per_frame_ms = elapsed / args.frames * 1000
    print(f"  rendered {args.frames} frames in {elapsed:.1f} s ({per_frame_ms:.0f} ms/frame)")
    recording = Recording(folder)
    start = time.perf_counter()
    poses = track_recording(
        recording, section, recording.camera, progress=frame_progress("tracking", "  ")
    )
    elapsed = time.perf_counter() - start
    per_frame_ms = elapsed / len(poses) * 1000
    print(f"  tracked {len(poses)} frames in {elapsed:.1f} s ({per_frame_ms:.0f} ms/frame)")
    write_poses(poses, args.out / "poses.json", folder.resolve(), Path(args.section).resolve())
    header = f"{'frame':>5} {'parts':>6} {'markers':>8} {'pose':>14} {'error mm':>9}"
    header += f" {'95% bound mm':>13}"
    print(f"\n{header}  moved parts in view")
    for frame, pose in zip(frame_visibility(recording), poses, strict=True):
        error = pose_error(pose.T_cam_section, recording.T_cam_section(frame.im_id))[0] * 1000
        bound = pose.bound95_m * 1000
        in_view = ", ".join(sorted(set(moved) & set(frame.parts))) or "-"
        print(
            f"{frame.im_id:>5} {len(frame.parts):>6} {pose.n_markers:>8} {pose.status:>14}"
            f" {error:>9.1f} {bound:>13.1f}  {in_view}"
        )
    print(f"\nrecording (BOP layout; truth in scene_gt.json, recording.json): {folder.resolve()}")
    print(f"camera poses: {(args.out / 'poses.json').resolve()}")
    return 0
