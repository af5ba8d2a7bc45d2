"""``arinspect detector``: make the synthetic dataset, train and export the detector, score it.

``arinspect detector build`` is the one command that reproduces the bundled model
(dataset, training, ONNX export, int8 quantisation, held-out evaluation, model card);
``quantize`` redoes the quantisation from the float model. Both need the ``train`` extra;
``evaluate`` needs only onnxruntime.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arinspect.resources import DETECTOR_DIR

DEFAULT_WORK_DIR = Path("out/detector")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detector`` verb and its sub-commands."""
    parser = subparsers.add_parser(
        "detector", help="build (dataset, training, export) and evaluate the part detector"
    )
    verbs = parser.add_subparsers(dest="detector_command", required=True, metavar="SUBCOMMAND")

    build = verbs.add_parser(
        "build", help="render the dataset, train, export to ONNX, evaluate and write the card"
    )
    build.add_argument("--out", type=Path, default=DETECTOR_DIR, help="model folder")
    build.add_argument("--work", type=Path, default=DEFAULT_WORK_DIR, help="dataset/scratch folder")
    build.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    build.add_argument("--workers", type=int, default=2, help="processes rendering the dataset")
    build.add_argument(
        "--threads", type=int, default=None, help="PyTorch threads (default: the recipe's 2)"
    )
    build.add_argument(
        "--reuse-dataset",
        action="store_true",
        help="keep the dataset in --work if this recipe rendered it",
    )
    build.add_argument(
        "--start-stage",
        type=int,
        default=1,
        help="resume the training at this stage (needs --start-weights)",
    )
    build.add_argument(
        "--start-weights", type=Path, default=None,
        help="weights of the stage before --start-stage (WORK/detector_stage{N}.pt of an "
        "earlier build)",
    )  # fmt: skip
    build.set_defaults(func=run_build)

    rescore = verbs.add_parser(
        "rescore",
        help="score the model again on the held-out recordings and rewrite its card's scores"
        " (after a change of the runtime's decoding; no training)",
    )
    rescore.add_argument("--out", type=Path, default=DETECTOR_DIR, help="model folder")
    rescore.add_argument("--work", type=Path, default=DEFAULT_WORK_DIR, help="scratch folder")
    rescore.set_defaults(func=run_rescore)

    quantize = verbs.add_parser(
        "quantize",
        help="quantise the float model in --out to int8 again and rewrite its card (no training)",
    )
    quantize.add_argument("--out", type=Path, default=DETECTOR_DIR, help="model folder")
    quantize.add_argument("--work", type=Path, default=DEFAULT_WORK_DIR, help="scratch folder")
    quantize.set_defaults(func=run_quantize)

    evaluate = verbs.add_parser("evaluate", help="mAP and confusion on held-out recordings")
    evaluate.add_argument(
        "recordings",
        type=Path,
        nargs="*",
        help="recordings with label maps"
        " (default: render the recipe's held-out sections into --work)",
    )
    evaluate.add_argument("--model", type=Path, default=None, help="ONNX model (default: bundled)")
    evaluate.add_argument("--work", type=Path, default=DEFAULT_WORK_DIR, help="scratch folder")
    evaluate.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    evaluate.add_argument("--json", type=Path, default=None, help="also write the scores here")
    evaluate.set_defaults(func=run_evaluate)


def run_build(args: argparse.Namespace) -> int:
    """Dataset, training, export, evaluation, card."""
    from arinspect.detect.build import build_detector

    card = build_detector(
        args.out,
        args.work,
        epochs=args.epochs,
        threads=args.threads,
        workers=args.workers,
        reuse_dataset=args.reuse_dataset,
        start_stage=args.start_stage,
        start_weights=args.start_weights,
        report=print,
    )
    print(f"model and card written to {card.parent}")
    return 0


def run_rescore(args: argparse.Namespace) -> int:
    """Held-out scores and latency of the model in --out, written into its card."""
    from arinspect.detect.build import rescore_detector

    card = rescore_detector(args.out, args.work, report=print)
    print(f"card rewritten: {card}")
    return 0


def run_quantize(args: argparse.Namespace) -> int:
    """Int8 model from the float one in --out, scored, its card rewritten."""
    from arinspect.detect.build import requantize_detector

    card = requantize_detector(args.out, args.work, report=print)
    print(f"model quantised, card rewritten: {card}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Score a model on held-out recordings and print the table."""
    import json

    from arinspect.cli.progress import frame_progress
    from arinspect.detect.recipe import evaluate_on_recordings, render_held_out
    from arinspect.detect.runtime import PartDetector
    from arinspect.detect.summary import evaluation_table

    detector = PartDetector(args.model, threads=args.threads, score_threshold=0.01)
    recordings = args.recordings or render_held_out(args.work / "held_out")
    result = evaluate_on_recordings(detector, recordings, frame_progress("detecting"))
    print(evaluation_table(result))
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2))
    return 0
