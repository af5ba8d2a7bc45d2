"""Benchmark: the bundled part detector's accuracy on held-out renders, latency and size.

Accuracy: mAP@0.5 and mAP@0.5:0.95 per class, and the confusion summary, on walk-past and
orbit recordings of sections generated with seeds never used in training (640x480,
f = 600 px, sensor noise, motion blur; parts >= 20 px tall scored).
Latency per 640x480 frame and per stage (letterbox, inference, decode + NMS), with 1 and
2 onnxruntime threads, beside a baseline measured in the same run: the float model the
bundled int8 one was quantised from (``part_detector_float.onnx``), same input, same runtime.
Run: python benchmarks/bench_detector.py [--repeats N] [--work DIR]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from arinspect.detect.recipe import evaluate_on_recordings, render_held_out
from arinspect.detect.runtime import PartDetector
from arinspect.detect.summary import evaluation_table
from arinspect.recording.bop import Recording
from arinspect.resources import DETECTOR_FLOAT_MODEL, DETECTOR_MODEL


def stage_latency(detector: PartDetector, frames: list, repeats: int) -> dict[str, float]:
    """Median milliseconds per stage over `repeats` passes over `frames`."""
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        for image in frames:
            times: dict[str, float] = {}
            detector.detect(image, times)
            for stage, seconds in times.items():
                samples.setdefault(stage, []).append(seconds * 1000)
    result = {stage: statistics.median(values) for stage, values in samples.items()}
    result["total"] = sum(result.values())
    return result


def main() -> None:
    """Print accuracy, latency and size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("out/detector/held_out"))
    args = parser.parse_args()

    recordings = render_held_out(args.work)
    detector = PartDetector(score_threshold=0.01)
    result = evaluate_on_recordings(detector, recordings)
    print(
        f"held-out: {len(recordings)} recordings, {sum(result.ground_truth.values())} scored boxes"
    )
    print(evaluation_table(result))
    worst = min(
        (result.ap[i, 0], name)
        for i, name in enumerate(result.classes)
        if result.ground_truth[name]
    )
    print(
        f"mAP@0.5 {result.map50:.3f} (target >= 0.90); worst class {worst[1]} {worst[0]:.3f}"
        " (target >= 0.75)"
    )

    first = Recording(recordings[0])
    frames = [first.bgr(i) for i in first.frame_ids[:10]]
    print("\nlatency per 640x480 frame, median ms (letterbox | inference | decode+NMS | total):")
    for threads in (1, 2):
        stages = stage_latency(PartDetector(threads=threads), frames, args.repeats)
        float_model = PartDetector(DETECTOR_FLOAT_MODEL, threads=threads)
        baseline = stage_latency(float_model, frames, args.repeats)["inference"]
        print(
            f"  {threads} thread(s): {stages['preprocess']:5.1f} | {stages['inference']:5.1f}"
            f" | {stages['postprocess']:5.1f} | {stages['total']:5.1f} ms"
            f"   baseline (the float model) inference {baseline:5.1f} ms,"
            f" ratio {stages['inference'] / baseline:.2f}"
        )
    print("  target: total <= 25 ms on one 2-core machine")
    size_mb = DETECTOR_MODEL.stat().st_size / 1e6
    print(f"\nmodel {DETECTOR_MODEL.name}: {size_mb:.2f} MB (target <= 15 MB)")


if __name__ == "__main__":
    main()
