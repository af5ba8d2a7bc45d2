"""``arinspect render``: a synthetic recording of a section, with optional defects."""

from __future__ import annotations

import argparse
from pathlib import Path


def part_move(text: str) -> tuple[str, tuple[float, float, float]]:
    """Parse ``PART_ID=dx,dy,dz`` (metres, section frame)."""
    part_id, sep, values = text.partition("=")
    try:
        offset = tuple(float(v) for v in values.split(","))
    except ValueError:
        offset = ()
    if not sep or not part_id or len(offset) != 3:
        raise argparse.ArgumentTypeError(f"expected PART_ID=dx,dy,dz in metres, got {text!r}")
    return part_id, offset  # type: ignore[return-value]


def float_list(text: str) -> list[float]:
    """Parse ``a,b,c,...``."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def float_triple(text: str) -> tuple[float, float, float]:
    """Parse ``x,y,z``."""
    values = float_list(text)
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three comma-separated numbers, got {text!r}")
    return values[0], values[1], values[2]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``render`` verb."""
    parser = subparsers.add_parser(
        "render",
        help="render a synthetic recording of a section (BOP layout) with ground truth",
        description="Render a recording of SECTION into REC: rgb/, depth/ (with --depth), labels/, "
        "scene_camera.json, scene_gt.json, camera.yaml and recording.json.",
    )
    parser.add_argument("section", type=Path, help="section folder")
    parser.add_argument("--out", type=Path, required=True, help="recording folder to write")
    parser.add_argument("--frames", type=int, default=10, help="number of frames (default 10)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of trajectory, head motion and noise"
    )
    parser.add_argument(
        "--camera",
        type=Path,
        help="camera intrinsics, OpenCV YAML (default 640x480 px, f = 600 px)",
    )
    parser.add_argument(
        "--distortion", type=float_list, help="override distortion k1,k2,p1,p2[,k3] (unitless)"
    )
    parser.add_argument(
        "--trajectory", choices=("walk", "orbit"), default="walk", help="camera path (default walk)"
    )
    parser.add_argument(
        "--depth", action="store_true", help="also write depth maps (uint16, mm x depth_scale)"
    )
    parser.add_argument(
        "--remove", nargs="+", default=[], metavar="PART_ID", help="parts to leave out"
    )
    parser.add_argument(
        "--move",
        nargs="+",
        type=part_move,
        default=[],
        metavar="PART_ID=dx,dy,dz",
        help="displace parts by dx,dy,dz metres in the section frame",
    )
    parser.add_argument(
        "--fps", type=float, default=5.0, help="frame rate for timestamps, frames/s"
    )
    nuisance = parser.add_argument_group("light and camera nuisances")
    nuisance.add_argument(
        "--light-dir",
        type=float_triple,
        default=None,
        metavar="X,Y,Z",
        help="direction towards the work light, section frame (unitless)",
    )
    nuisance.add_argument(
        "--light", type=float, default=0.9, help="work light intensity (relative, default 0.9)"
    )
    nuisance.add_argument(
        "--headlamp",
        type=float,
        default=0.55,
        help="headlamp intensity at 2 m (relative, default 0.55)",
    )
    nuisance.add_argument("--no-shadows", action="store_true", help="do not cast shadows")
    nuisance.add_argument(
        "--exposure", type=float, default=0.0, help="exposure change in stops (EV)"
    )
    nuisance.add_argument(
        "--noise",
        type=float,
        default=1.5,
        help="sensor noise sigma in grey levels (0-255), 0 = none",
    )
    nuisance.add_argument(
        "--blur",
        type=float,
        default=0.0,
        help="motion blur length in pixels along the image motion",
    )
    nuisance.add_argument(
        "--supersample", type=int, default=3, help="sub-rays per side on edge and marker pixels"
    )
    nuisance.add_argument(
        "--depth-noise",
        type=float,
        default=0.0,
        help="depth noise sigma at 1 m in metres, growing with distance squared (e.g. 0.001)",
    )
    nuisance.add_argument(
        "--depth-grazing-deg",
        type=float,
        default=90.0,
        help="no depth where the surface is seen more obliquely than this, degrees (90 = off)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render the recording."""
    import numpy as np

    from arinspect.camera import CameraModel, default_camera, load_camera
    from arinspect.cli.progress import frame_progress
    from arinspect.errors import ConfigError
    from arinspect.recording.synthesize import RecordingSpec, render_recording
    from arinspect.render.renderer import LIGHT_DIR_SECTION, RenderOptions

    camera = load_camera(args.camera) if args.camera else default_camera()
    if args.distortion is not None:
        if len(args.distortion) not in (4, 5, 8, 12, 14):
            raise ConfigError(
                f"--distortion takes 4, 5, 8, 12 or 14 values, got {len(args.distortion)}"
            )
        camera = CameraModel(camera.K, np.asarray(args.distortion), camera.image_size_wh)
    if args.supersample < 1:
        raise ConfigError("--supersample must be at least 1")
    moved = dict(args.move)
    if len(moved) != len(args.move):
        raise ConfigError("a part is given twice in --move")
    options = RenderOptions(
        light_dir_section=args.light_dir or LIGHT_DIR_SECTION,
        light_intensity=args.light,
        headlamp_intensity=args.headlamp,
        shadows=not args.no_shadows,
        exposure_ev=args.exposure,
        noise_sigma=args.noise,
        motion_blur_px=args.blur,
        supersample=args.supersample,
        depth_noise_m=args.depth_noise,
        depth_grazing_limit_deg=args.depth_grazing_deg,
    )
    spec = RecordingSpec(
        frames=args.frames,
        seed=args.seed,
        trajectory=args.trajectory,
        depth=args.depth,
        removed=tuple(args.remove),
        moved=moved,
        fps=args.fps,
        options=options,
    )

    folder = render_recording(args.section, args.out, spec, camera, frame_progress("rendering"))
    print(
        f"recording written to {folder} ({args.frames} frames, {camera.width}x{camera.height} px)"
    )
    return 0
