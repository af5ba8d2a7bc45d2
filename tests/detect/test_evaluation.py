from __future__ import annotations

import numpy as np
import pytest

from arinspect.detect.boxes import PartBox, part_boxes
from arinspect.detect.evaluation import (
    FrameResult,
    average_precision,
    box_iou,
    evaluate,
    is_scored,
)
from arinspect.detect.runtime import Detection
from arinspect.detect.summary import evaluation_table
from arinspect.render.scene import Label

CLASSES = ["collar_plate", "pipe_clamp"]


def _truth(part_id, cls, box, visible=None):
    x0, y0, x1, y1 = box
    return PartBox(part_id, cls, box, visible if visible is not None else (x1 - x0) * (y1 - y0))


def test_part_boxes_come_from_visible_pixels_of_parts_only():
    labels = [
        Label(0, "background", "", ""),
        Label(1, "structure", "web-1", "web_frame"),
        Label(2, "part", "COL-1", "collar_plate"),
        Label(3, "part", "CLP-1", "pipe_clamp"),
        Label(4, "part", "CLP-2", "pipe_clamp"),
    ]
    label_map = np.zeros((40, 60), np.uint16)
    label_map[:, :10] = 1
    label_map[5:15, 20:30] = 2
    label_map[20:22, 40:43] = 3  # 6 pixels: below the minimum
    boxes = part_boxes(label_map, labels, min_pixels=12)
    assert boxes == [PartBox("COL-1", "collar_plate", (20.0, 5.0, 30.0, 15.0), 100)]
    assert boxes[0].height_px == 10 and boxes[0].fill_ratio == pytest.approx(1.0)


def test_box_iou():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(box_iou(a, b), [[1 / 3, 0.0, 1.0]])


def test_average_precision_of_ranked_hits():
    assert average_precision(np.array([0.9, 0.8]), np.array([True, True]), 2) == pytest.approx(1.0)
    # One of two found, ranked first: precision 1 up to recall 0.5.
    assert average_precision(np.array([0.9]), np.array([True]), 2) == pytest.approx(51 / 101)
    # A false alarm ranked above the only hit halves the precision.
    ap = average_precision(np.array([0.9, 0.8]), np.array([False, True]), 1)
    assert ap == pytest.approx(0.5)
    assert np.isnan(average_precision(np.zeros(0), np.zeros(0, bool), 0))


def test_evaluate_counts_hits_misses_confusions_and_dont_cares():
    frames = [
        FrameResult(
            detections=[
                Detection("collar_plate", 0.9, (10, 10, 50, 50)),  # hit
                Detection("collar_plate", 0.8, (200, 10, 240, 50)),  # on a don't-care box
                Detection("pipe_clamp", 0.7, (100, 100, 140, 160)),  # wrong class
                Detection("pipe_clamp", 0.6, (300, 300, 340, 360)),  # on nothing
            ],
            truth=[
                _truth("COL-1", "collar_plate", (10, 10, 50, 52)),
                _truth("COL-2", "collar_plate", (200, 10, 240, 50)),
                _truth("COL-3", "collar_plate", (100, 100, 140, 160)),
            ],
            scored=[True, False, True],
        )
    ]
    result = evaluate(frames, CLASSES)
    # collar_plate: 2 scored boxes, one found at rank 1 -> AP = 51/101 at IoU 0.5.
    assert result.ground_truth == {"collar_plate": 2, "pipe_clamp": 0}
    assert result.ap[0, 0] == pytest.approx(51 / 101)
    assert np.isnan(result.ap[1]).all()
    assert result.map50 == pytest.approx(51 / 101)
    assert result.confusion == {"collar_plate": {"collar_plate": 1, "pipe_clamp": 1}}
    assert result.false_alarms == {"pipe_clamp": 1}
    # The hit's IoU is 40*40 / (40*42) = 0.95: it counts up to the 0.95 threshold.
    assert result.ap[0, -1] == pytest.approx(51 / 101)
    table = evaluation_table(result)
    assert "| collar_plate | 0.505 |" in table and "| pipe_clamp | n/a |" in table
    assert result.to_dict()["per_class"]["pipe_clamp"]["ap50"] is None


def test_is_scored_applies_the_20_px_rule_scaled_to_the_frame():
    tall = _truth("a", "collar_plate", (0, 0, 10, 20))
    short = _truth("b", "collar_plate", (0, 0, 10, 19))
    fragment = _truth("c", "collar_plate", (0, 0, 100, 100), visible=500)
    assert is_scored(tall) and not is_scored(short) and not is_scored(fragment)
    assert not is_scored(tall, image_height_px=720)  # needs 30 px in a 720-line frame
