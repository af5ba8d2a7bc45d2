"""Reproduce the bundled detector: dataset, training, ONNX export, quantisation, evaluation.

Needs the ``train`` extra. The trained net is exported in float at the deployment input
(`DEPLOY_INPUT_HW`) as ``part_detector_float.onnx`` and quantised to int8
(`arinspect.detect.quantize`) as ``part_detector.onnx``, the model the runtime loads. The
card (``MODEL_CARD.md`` and ``model_card.json`` beside the model) records the classes,
input size, dataset recipe and seeds, training settings, quantisation, held-out scores,
latency and file size.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from arinspect import __version__
from arinspect.cad.catalog import load_catalog
from arinspect.detect.evaluation import Evaluation
from arinspect.detect.quantize import QuantizationSpec, quantize_detector
from arinspect.detect.recipe import (
    CALIBRATION_SECTION_SEEDS,
    CALIBRATION_STEP,
    DEPLOY_INPUT_HW,
    FINE_TUNE_CYCLES,
    HELD_OUT_FRAMES,
    HELD_OUT_SECTION_SEEDS,
    TRAIN_SPEC,
    calibration_frames,
    evaluate_on_recordings,
    render_held_out,
)
from arinspect.detect.runtime import PartDetector
from arinspect.detect.summary import evaluation_table
from arinspect.detect.synthetic import ANNOTATIONS, DatasetSpec, write_dataset
from arinspect.errors import ConfigError, DataFormatError
from arinspect.resources import DETECTOR_FLOAT_MODEL, DETECTOR_MODEL

MODEL_FILE = DETECTOR_MODEL.name
FLOAT_MODEL_FILE = DETECTOR_FLOAT_MODEL.name


def build_detector(
    out_dir: str | Path,
    work_dir: str | Path,
    epochs: int | None = None,
    threads: int | None = None,
    workers: int = 2,
    reuse_dataset: bool = False,
    start_stage: int = 1,
    start_weights: str | Path | None = None,
    report: Callable[[str], None] = lambda _: None,
) -> Path:
    """Run the whole recipe; returns the path of the written ``MODEL_CARD.md``.

    Training runs in stages: the main cycle (`TrainConfig`), then the shorter fine-tuning
    cycles of ``FINE_TUNE_CYCLES`` (`arinspect.detect.recipe`), each from the weights of
    the one before; every stage's weights are kept as ``WORK/detector_stage{N}.pt``.
    ``start_stage`` > 1 resumes there from ``start_weights`` (the weights of the stage
    before, from an earlier build); ``epochs`` overrides the main cycle's epochs.

    Raises:
        ConfigError: ``start_stage`` out of range, or > 1 without ``start_weights``.
    """
    from arinspect.detect.training import (
        TrainConfig,
        export_onnx,
        save_checkpoint,
        train_detector,
    )

    out_dir, work_dir = Path(out_dir), Path(work_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = list(load_catalog().classes)
    config = TrainConfig()
    if epochs is not None:
        config = replace(config, epochs=epochs)
    if threads is not None:
        config = replace(config, threads=threads)
    stages = [config] + [
        replace(config, epochs=cycle_epochs, learning_rate=rate, warmup_steps=100,
                seed=config.seed + number)
        for number, (cycle_epochs, rate) in enumerate(FINE_TUNE_CYCLES, start=1)
    ]  # fmt: skip
    if not 1 <= start_stage <= len(stages) or (start_stage > 1) != (start_weights is not None):
        raise ConfigError(
            f"start at stage 1 without weights, or at stage 2-{len(stages)} with the weights "
            f"of the stage before (got stage {start_stage}, weights {start_weights})"
        )
    dataset_dir = work_dir / "train"
    started = time.perf_counter()
    if not (reuse_dataset and _holds(dataset_dir, TRAIN_SPEC)):
        report(f"rendering {len(TRAIN_SPEC.section_seeds) * TRAIN_SPEC.frames_per_section} frames")
        write_dataset(
            TRAIN_SPEC,
            dataset_dir,
            workers=workers,
            progress=lambda d, n: report(f"dataset: section {d}/{n}"),
        )
    dataset_minutes = (time.perf_counter() - started) / 60
    weights = None if start_weights is None else Path(start_weights)
    stage_minutes: list[float | None] = [None] * (start_stage - 1)
    for number, stage in enumerate(stages[start_stage - 1 :], start=start_stage):
        report(f"stage {number}/{len(stages)}" + (f": from {weights}" if weights else ""))
        started = time.perf_counter()
        net = train_detector(dataset_dir, classes, stage, report, weights)
        weights = save_checkpoint(net, work_dir / f"detector_stage{number}.pt")
        stage_minutes.append(round((time.perf_counter() - started) / 60, 1))
    export_onnx(
        net,
        out_dir / FLOAT_MODEL_FILE,
        classes,
        DEPLOY_INPUT_HW,
        {"arinspect_version": __version__, "recipe": "arinspect detector build"},
    )
    card = {
        "model": MODEL_FILE,
        "float_model": FLOAT_MODEL_FILE,
        "classes": classes,
        "dataset": asdict(TRAIN_SPEC),
        "training": asdict(config),
        "fine_tuning": [asdict(stage) for stage in stages[1:]],
        "dataset_minutes": round(dataset_minutes, 1),
        "stage_minutes": stage_minutes,
        "started_from": None
        if start_weights is None
        else {
            "stage": start_stage,
            "weights": str(start_weights),
        },
    }
    return _quantize_score_and_write_card(card, out_dir, work_dir, report)


def requantize_detector(
    model_dir: str | Path, work_dir: str | Path, report: Callable[[str], None] = lambda _: None
) -> Path:
    """Quantise the float model in `model_dir` again, score it and rewrite its card.

    For a change of the quantisation (`QuantizationSpec`, the calibration frames), which
    needs no training; the recipe's fields of the card stay as they are.

    Raises:
        DataFormatError: `model_dir` has no readable ``model_card.json``.
    """
    model_dir = Path(model_dir)
    card = {"float_model": FLOAT_MODEL_FILE, **_read_card(model_dir)}
    return _quantize_score_and_write_card(card, model_dir, Path(work_dir), report)


def rescore_detector(
    model_dir: str | Path, work_dir: str | Path, report: Callable[[str], None] = lambda _: None
) -> Path:
    """Score the model in `model_dir` again and rewrite its card's scores and latency.

    For a change of the runtime's decoding (NMS, box voting), which alters the scores
    without retraining; the recipe's fields of the card stay as they are.

    Raises:
        DataFormatError: `model_dir` has no readable ``model_card.json``.
    """
    card = _read_card(Path(model_dir))
    return _score_and_write_card(card, Path(model_dir), Path(work_dir), report)


def _read_card(model_dir: Path) -> dict:
    """The ``model_card.json`` in `model_dir`."""
    path = model_dir / "model_card.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataFormatError(path, f"cannot read the model card ({exc})") from exc


def _quantize_score_and_write_card(
    card: dict, out_dir: Path, work_dir: Path, report: Callable[[str], None]
) -> Path:
    """Quantise the card's float model into its model, then score it and write the card."""
    spec = QuantizationSpec()
    report("quantising (rendering the calibration recordings first if needed)")
    frames = calibration_frames(work_dir / "calibration")
    quantize_detector(out_dir / card["float_model"], out_dir / card["model"], frames, spec)
    card = {
        **card,
        "quantization": {
            **asdict(spec),
            "calibration_section_seeds": list(CALIBRATION_SECTION_SEEDS),
            "calibration_frames": len(frames),
            "calibration_step": CALIBRATION_STEP,
        },
    }
    return _score_and_write_card(card, out_dir, work_dir, report)


def _score_and_write_card(
    card: dict, out_dir: Path, work_dir: Path, report: Callable[[str], None]
) -> Path:
    """Score the card's model on the held-out recordings and write its card.

    ``model_card.json`` and ``MODEL_CARD.md`` get the scores, latency, file facts and the
    runtime's decoding settings beside the recipe's fields of `card`.
    """
    model_path = out_dir / card["model"]
    detector = PartDetector(model_path, threads=2, score_threshold=0.01)
    stage_times: dict[str, float] = {}
    held_out = render_held_out(work_dir / "held_out")
    result = evaluate_on_recordings(detector, held_out, stage_times_s=stage_times)
    frames = len(held_out) * HELD_OUT_FRAMES
    card = {
        **card,
        "input_hw": list(detector.input_hw),
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "size_mb": round(model_path.stat().st_size / 1e6, 2),
        "decoding": {"nms_iou": detector.nms_iou, "vote_iou": detector.vote_iou},
        "held_out": {"section_seeds": list(HELD_OUT_SECTION_SEEDS), **result.to_dict()},
        "latency_ms_2_threads": {k: round(1000 * v / frames, 2) for k, v in stage_times.items()},
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=2))
    card_path = out_dir / "MODEL_CARD.md"
    card_path.write_text(_card_markdown(card, result))
    report(evaluation_table(result))
    return card_path


def _holds(folder: Path, spec: DatasetSpec) -> bool:
    """Whether `folder` holds a finished dataset rendered from `spec`."""
    path = folder / ANNOTATIONS
    if not path.is_file():
        return False
    stored = json.loads(path.read_text()).get("recipe")
    return stored == json.loads(json.dumps(asdict(spec)))


def _card_markdown(card: dict, result: Evaluation) -> str:
    dataset, training = card["dataset"], card["training"]
    latency = card["latency_ms_2_threads"]
    decoding = card["decoding"]
    seeds = dataset["section_seeds"]
    width, height = dataset["image_size_wh"]
    crop_h, crop_w = training["crop_hw"]
    scale_lo, scale_hi = training["scale_range"]
    held_out_seeds = ", ".join(map(str, card["held_out"]["section_seeds"]))
    stage_times = ", ".join(
        f"stage {n} {'from an earlier build' if m is None else f'{m:.0f} min'}"
        for n, m in enumerate(card["stage_minutes"], start=1)
    )
    timing = f"this build: dataset {card['dataset_minutes']:.0f} min (0: reused), {stage_times}"
    cycles = "; ".join(
        f"{c['epochs']} epochs at lr {c['learning_rate']} (seed {c['seed']})"
        for c in card["fine_tuning"]
    )
    quantized = card["quantization"]
    operators = ", ".join(quantized["op_types"])
    granularity = "channel" if quantized["per_channel"] else "tensor"
    bits = 7 if quantized["reduce_range"] else 8
    calibration_seeds = ", ".join(map(str, quantized["calibration_section_seeds"]))
    stage = {k: latency.get(k, float("nan")) for k in ("preprocess", "inference", "postprocess")}
    return f"""# Part detector — model card

`{card["model"]}` ({card["size_mb"]} MB, sha256 `{card["sha256"][:16]}…`): a small anchor-free
one-stage detector (plain 3×3 conv + BN + ReLU backbone, feature pyramid at strides 8/16/32,
a decoupled class/box head per level; `arinspect/detect/network.py`), trained with PyTorch on
renders of the part catalog, run with onnxruntime alone (`arinspect/detect/runtime.py`).

## Classes
{", ".join(f"`{c}`" for c in card["classes"])}

## Input and output
- Input `image`: 1×3×{card["input_hw"][0]}×{card["input_hw"][1]} float32, BGR in [0, 1]; a
  {card["input_hw"][1]}×{card["input_hw"][0]} frame goes in as it is, other sizes are scaled and
  letterboxed with grey (114).
- Output `detections`: 1×M×(4 + {len(card["classes"])}) rows `x0, y0, x1, y1` (input pixels)
  and per-class probabilities; the runtime keeps the best class per row, thresholds, runs
  class-wise NMS (IoU {decoding["nms_iou"]}) and replaces each kept box by the score-weighted
  mean of its class's boxes overlapping it by IoU ≥ {decoding["vote_iou"]} (box voting). Class
  list and input size are in the ONNX metadata.

## Training data
Reproduce with `arinspect detector build` ({timing}; on a quiet 2-core CPU a full build renders
the dataset in ~17 min and trains in ~53 + 23 min with two threads: about 1 h 35 min).
- {len(seeds)} generated sections, seeds {seeds[0]}–{seeds[-1]}, {dataset["frames_per_section"]}
  frames each, rendered at {width}×{height} with f = {dataset["focal_px"]:.0f} px (±10 %),
  randomisation seed {dataset["seed"]}.
- Viewpoints {dataset["distance_m"][0]}–{dataset["distance_m"][1]} m from a part or a random
  point, 15–88° above the plate; random hull primers and part finishes (30 % of classes primed
  like the hull), light direction/intensity, headlamp, ambient, exposure ±1 EV, sensor noise,
  motion blur, clutter on the plate and in the line of sight (occlusion), random backgrounds,
  JPEG.
- Boxes are the visible pixels of each part in the render's label map; fragments (< 8 % of
  their box visible), crop-clipped and tiny boxes are ignored, not negatives.

## Training
{training["epochs"]} epochs, batch {training["batch_size"]}, random {crop_h}×{crop_w} crops after
rescaling ×{scale_lo}–{scale_hi}, flips and colour jitter; AdamW lr {training["learning_rate"]}
(cosine), weight decay {training["weight_decay"]}; seed {training["seed"]}; IoU-aware class
targets (BCE at positive cells, focal weight on background), GIoU on boxes; then shorter
cosine cycles, each from the weights of the one before: {cycles}.

## Quantisation
int8 (onnxruntime's static quantisation, QDQ): the {operators} operators quantised, weights
per {granularity} to {bits}-bit signed integers, activations to 8-bit unsigned ones with
ranges calibrated ({quantized["calibration"]}) on {quantized["calibration_frames"]} frames of
walk-past and orbit recordings of training sections {calibration_seeds}; the box decoding
stays in float.
The float model, `{card["float_model"]}`, lies beside it: `arinspect detector quantize`
redoes this step from it.

## Held-out scores
Sections with seeds {held_out_seeds} (never used in training): a walk-past and an orbit of
each, {HELD_OUT_FRAMES} frames, 640×480, f = 600 px, sensor noise σ = 3, motion blur 3 px.
Parts ≥ 20 px tall are scored; smaller ones are don't-care.

{evaluation_table(result)}

## Latency
onnxruntime, 2 threads, per 640×480 frame, measured during the evaluation: preprocess
{stage["preprocess"]:.1f} ms, inference {stage["inference"]:.1f} ms, postprocess
{stage["postprocess"]:.1f} ms (decoding, NMS and box voting of every box scored ≥ 0.01, as
mAP needs; at the runtime's threshold of 0.3 it takes 1–2 ms).
`benchmarks/bench_detector.py` measures it at that threshold on a quiet machine.

## Limits
Trained on renders only: real photographs of primed steel will differ (reflections, weld
seams, dirt). Parts under ~20 px tall (50 mm parts beyond ~1.5 m) are not reliably detected;
inspection calls them `not_verified`, never `missing`.
"""
