"""``arinspect track``: the camera's pose against the section in every frame of a recording."""

from __future__ import annotations

import argparse
from pathlib import Path

from arinspect.cli.recording_args import add_recording_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``track`` verb."""
    parser = subparsers.add_parser(
        "track",
        help="estimate T_cam_section in every frame of a recording (markers, CAD, tracking)",
    )
    add_recording_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="poses.json to write")
    parser.add_argument(
        "--init-pose",
        type=Path,
        help="approximate T_cam_section of the first frame: JSON 4x4 matrix, metres",
    )
    parser.add_argument(
        "--no-edges",
        dest="edges",
        action="store_false",
        help="do not refine frames without depth from the CAD's edges in the image",
    )
    parser.add_argument(
        "--forward-only",
        dest="backwards",
        action="store_false",
        help="do not track the frames lost before a track (re)started backwards from it"
        " (what a live headset sees)",
    )
    parser.set_defaults(func=run)


def read_init_pose(path: Path):  # noqa: ANN201 - numpy array
    """A 4x4 rigid T_cam_section from JSON (a bare matrix or {"T_cam_section": matrix})."""
    import json

    import numpy as np

    from arinspect.errors import DataFormatError
    from arinspect.geometry import is_rigid

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataFormatError(path, "init pose file not found") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"malformed JSON: {exc}") from exc
    matrix = doc.get("T_cam_section") if isinstance(doc, dict) else doc
    try:
        T = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(path, "must be a 4x4 matrix of numbers", "T_cam_section") from exc
    if T.shape != (4, 4) or not is_rigid(T, 1e-4):
        raise DataFormatError(path, "must be a 4x4 rigid transform (metres)", "T_cam_section")
    return T


def run(args: argparse.Namespace) -> int:
    """Track the recording and write poses.json."""
    from dataclasses import replace

    from arinspect.cad.section import load_section
    from arinspect.cli.progress import frame_progress
    from arinspect.pose.track_recording import compare_with_truth, track_recording, write_poses
    from arinspect.pose.tracker import TrackerConfig
    from arinspect.recording.bop import Recording

    recording = Recording(args.recording)
    section_dir, camera = recording.inputs(args.section, args.camera)
    section = load_section(section_dir)
    init = read_init_pose(args.init_pose) if args.init_pose else None
    config = replace(TrackerConfig(), use_edges=args.edges)
    results = track_recording(
        recording, section, camera, config, init, frame_progress("tracking"), args.backwards
    )
    write_poses(results, args.out, recording.folder.resolve(), Path(section_dir).resolve())
    counts = {s: sum(r.status == s for r in results) for s in ("tracked", "reinitialised", "lost")}
    print(f"{len(results)} frames: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    summary = compare_with_truth(results, recording)
    if summary is not None:
        t, r = summary.translation_mm, summary.rotation_deg
        print(f"against ground truth ({summary.frames} frames with a pose):")
        print(
            f"  translation mm: mean {t[0]:.2f}  median {t[1]:.2f}  p95 {t[2]:.2f}  max {t[3]:.2f}"
        )
        print(
            f"  rotation deg:   mean {r[0]:.3f}  median {r[1]:.3f}  p95 {r[2]:.3f}  max {r[3]:.3f}"
        )
        flagged, tracked = summary.untrusted_over_2cm, summary.tracked_over_2cm
        print(f"  off by > 2 cm: {flagged} flagged, {tracked} tracked")
    print(f"poses written to {args.out}")
    return 0
