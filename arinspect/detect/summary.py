"""Readable tables of detector scores, for the terminal and the model card (Markdown)."""

from __future__ import annotations

import numpy as np

from arinspect.detect.evaluation import Evaluation


def evaluation_table(result: Evaluation) -> str:
    """A Markdown table: per class AP@0.5, AP@0.5:0.95, boxes, how they were detected."""
    lines = [
        "| class | AP@0.5 | AP@0.5:0.95 | boxes | detected as (IoU >= 0.5) | false alarms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, name in enumerate(result.classes):
        ap50, ap = result.ap[i, 0], result.ap[i].mean()
        confusion = result.confusion.get(name, {})
        detected = ", ".join(
            f"{k} {v}" for k, v in sorted(confusion.items(), key=lambda kv: -kv[1])
        )
        lines.append(
            f"| {name} | {_fmt(ap50)} | {_fmt(ap)} | {result.ground_truth.get(name, 0)}"
            f" | {detected or '-'} | {result.false_alarms.get(name, 0)} |"
        )
    lines.append(
        f"| **all** | **{result.map50:.3f}** | **{result.map50_95:.3f}**"
        f" | {sum(result.ground_truth.values())} | | {sum(result.false_alarms.values())} |"
    )
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.3f}"
