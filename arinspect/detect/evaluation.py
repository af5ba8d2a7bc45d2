"""Detector accuracy against rendered ground truth: per-class AP and a confusion summary.

AP follows COCO: detections of a class are ranked by score over all frames, each matches
the unmatched ground-truth box of its class with the highest IoU at or above the
threshold, and precision is interpolated at 101 recall points. Ground-truth boxes that
are not scored (too small, fragments: see `is_scored`) are "don't care": a detection on
one is neither a hit nor a false alarm, and missing it costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from arinspect.detect.boxes import MIN_EVAL_HEIGHT_PX, PartBox
from arinspect.detect.runtime import Detection, box_iou

IOU_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))
MIN_EVAL_FILL = 0.08
MIN_EVAL_WIDTH_PX = 8.0


def is_scored(box: PartBox, image_height_px: int = 480) -> bool:
    """Whether a ground-truth box counts in the scores.

    It must be at least `MIN_EVAL_HEIGHT_PX` tall at a 480-pixel image height (scaled for
    other heights), `MIN_EVAL_WIDTH_PX` wide, and not a scatter of fragments.
    """
    x0, y0, x1, y1 = box.box_xyxy_px
    min_height = MIN_EVAL_HEIGHT_PX * image_height_px / 480.0
    return (
        y1 - y0 >= min_height and x1 - x0 >= MIN_EVAL_WIDTH_PX and box.fill_ratio >= MIN_EVAL_FILL
    )


@dataclass
class FrameResult:
    """Detections and ground truth of one frame."""

    detections: list[Detection]
    truth: list[PartBox]
    scored: list[bool]


@dataclass
class Evaluation:
    """Accuracy over a set of frames.

    Attributes:
        classes: Class names, in model order.
        ap: (C, T) average precision per class and IoU threshold (`IOU_THRESHOLDS`);
            NaN for a class with no scored ground truth.
        ground_truth: Scored ground-truth boxes per class.
        confusion: Per true class, how its scored boxes were detected at IoU >= 0.5:
            ``{predicted class or "missed": count}``.
        false_alarms: Per predicted class, detections (score >= the runtime threshold)
            on no part at all at IoU >= 0.5 (background or an ignored box excluded).
    """

    classes: list[str]
    ap: np.ndarray
    ground_truth: dict[str, int]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    false_alarms: dict[str, int] = field(default_factory=dict)

    @property
    def map50(self) -> float:
        """Mean AP at IoU 0.5 over the classes with ground truth."""
        return float(np.nanmean(self.ap[:, 0]))

    @property
    def map50_95(self) -> float:
        """Mean AP over IoU 0.5:0.95 and the classes with ground truth."""
        return float(np.nanmean(self.ap))

    def to_dict(self) -> dict:
        """JSON form (per class AP@0.5, AP@0.5:0.95, counts, confusion)."""
        return {
            "map50": round(self.map50, 4),
            "map50_95": round(self.map50_95, 4),
            "per_class": {
                name: {
                    "ap50": None if np.isnan(self.ap[i, 0]) else round(float(self.ap[i, 0]), 4),
                    "ap50_95": None
                    if np.isnan(self.ap[i, 0])
                    else round(float(self.ap[i].mean()), 4),
                    "ground_truth": self.ground_truth.get(name, 0),
                    "detected_as": self.confusion.get(name, {}),
                    "false_alarms": self.false_alarms.get(name, 0),
                }
                for i, name in enumerate(self.classes)
            },
        }


def average_precision(scores: np.ndarray, hits: np.ndarray, n_truth: int) -> float:
    """COCO 101-point interpolated AP of detections (`hits` True = true positive)."""
    if n_truth == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(hits[order])
    fp = np.cumsum(~hits[order])
    recall = tp / n_truth
    precision = tp / np.maximum(tp + fp, 1e-12)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    sampled = []
    for r in np.linspace(0.0, 1.0, 101):
        i = np.searchsorted(recall, r, side="left")
        sampled.append(envelope[i] if i < len(envelope) else 0.0)
    return float(np.mean(sampled))


def _match_class(
    frames: Sequence[FrameResult], class_name: str, threshold: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores and hit flags of one class's detections (don't-cares dropped), and its GT count."""
    scores, hits, n_truth = [], [], 0
    for frame in frames:
        truth = [t for t in frame.truth if t.class_name == class_name]
        scored = np.array(
            [
                s
                for t, s in zip(frame.truth, frame.scored, strict=True)
                if t.class_name == class_name
            ],
            bool,
        )
        n_truth += int(scored.sum())
        dets = sorted(
            (d for d in frame.detections if d.class_name == class_name), key=lambda d: -d.score
        )
        if not dets:
            continue
        ious = box_iou(
            np.array([d.box_xyxy_px for d in dets]),
            np.array([t.box_xyxy_px for t in truth]).reshape(-1, 4),
        )
        taken = np.zeros(len(truth), bool)
        for k, det in enumerate(dets):
            candidates = np.where(~taken & (ious[k] >= threshold), ious[k], -1.0)
            j = int(np.argmax(candidates)) if len(truth) else -1
            if j >= 0 and candidates[j] >= 0:
                taken[j] = True
                if not scored[j]:
                    continue  # a detection on a don't-care box
                scores.append(det.score)
                hits.append(True)
            else:
                scores.append(det.score)
                hits.append(False)
    return np.array(scores), np.array(hits, bool), n_truth


def evaluate(frames: Sequence[FrameResult], classes: Sequence[str]) -> Evaluation:
    """AP per class and IoU threshold, and the confusion summary, over `frames`."""
    ap = np.full((len(classes), len(IOU_THRESHOLDS)), np.nan)
    ground_truth: dict[str, int] = {}
    for c, name in enumerate(classes):
        for t, threshold in enumerate(IOU_THRESHOLDS):
            scores, hits, n_truth = _match_class(frames, name, threshold)
            ap[c, t] = average_precision(scores, hits, n_truth)
            ground_truth[name] = n_truth
    confusion, false_alarms = _confusion(frames)
    return Evaluation(list(classes), ap, ground_truth, confusion, false_alarms)


def _confusion(frames: Sequence[FrameResult]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """How each scored box was detected (best-IoU detection of any class), and false alarms."""
    confusion: dict[str, dict[str, int]] = {}
    false_alarms: dict[str, int] = {}
    for frame in frames:
        det_boxes = np.array([d.box_xyxy_px for d in frame.detections]).reshape(-1, 4)
        truth_boxes = np.array([t.box_xyxy_px for t in frame.truth]).reshape(-1, 4)
        ious = box_iou(truth_boxes, det_boxes)
        for j, (box, scored) in enumerate(zip(frame.truth, frame.scored, strict=True)):
            if not scored:
                continue
            row = confusion.setdefault(box.class_name, {})
            k = int(np.argmax(ious[j])) if len(frame.detections) else -1
            label = frame.detections[k].class_name if k >= 0 and ious[j, k] >= 0.5 else "missed"
            row[label] = row.get(label, 0) + 1
        for k, det in enumerate(frame.detections):
            if len(frame.truth) == 0 or ious[:, k].max() < 0.5:
                false_alarms[det.class_name] = false_alarms.get(det.class_name, 0) + 1
    return confusion, false_alarms
