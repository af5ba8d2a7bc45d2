"""``arinspect detect``: run the part detector on a recording or on image files."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detect`` verb."""
    parser = subparsers.add_parser(
        "detect", help="detect parts in every frame of a recording, or in image files"
    )
    parser.add_argument(
        "inputs", type=Path, nargs="+", help="a recording folder, or one or more image files"
    )
    parser.add_argument("--out", type=Path, required=True, help="detections.json to write")
    parser.add_argument("--model", type=Path, default=None, help="ONNX model (default: bundled)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument(
        "--score-threshold", type=float, default=0.3, help="drop detections below this score"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Detect and write ``{model, classes, frames: [{im_id | image, detections}]}``."""
    import json

    from arinspect.cli.progress import frame_progress
    from arinspect.detect.frames import iterate_frames
    from arinspect.detect.runtime import PartDetector

    detector = PartDetector(args.model, threads=args.threads, score_threshold=args.score_threshold)
    frames = []
    progress = frame_progress("detecting")
    for done, (key, value, total, image) in enumerate(iterate_frames(args.inputs), start=1):
        detections = detector.detect(image)
        frames.append({key: value, "detections": [d.to_dict() for d in detections]})
        progress(done, total)
    document = {"model": str(detector.model_path), "classes": detector.classes, "frames": frames}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1))
    count = sum(len(f["detections"]) for f in frames)
    print(f"{count} detections in {len(frames)} frame(s) written to {args.out}")
    return 0
