from __future__ import annotations

import numpy as np
import pytest

from arinspect.detect.runtime import Letterbox, PartDetector, classwise_nms, letterbox
from arinspect.errors import ConfigError, DataFormatError
from tests.detect.tiny_model import build_tiny_detector

CLASSES = ["collar_plate", "pipe_clamp", "lifting_lug"]


def _row(box, class_index, score):
    probabilities = [0.0] * len(CLASSES)
    probabilities[class_index] = score
    return [*box, *probabilities]


ROWS = [
    _row((80, 80, 160, 160), 0, 0.9),  # 640x480 frame: (100, 100, 200, 200)
    _row((82, 80, 162, 160), 0, 0.6),  # duplicate of the first: suppressed
    _row((82, 80, 162, 160), 1, 0.7),  # same place, other class: kept
    _row((300, 200, 340, 260), 2, 0.2),  # below the threshold
    _row((400, 40, 520, 100), 2, 0.8),  # runs past the right edge (input 512 wide)
]


@pytest.fixture()
def model(tmp_path):
    return build_tiny_detector(tmp_path / "tiny.onnx", np.array(ROWS), CLASSES)


@pytest.fixture()
def detector(model):
    return PartDetector(model, threads=1, score_threshold=0.3, nms_iou=0.5, vote_iou=None)


def test_kept_boxes_are_the_score_weighted_mean_of_their_class_around_them(model):
    voting = PartDetector(model, threads=1, score_threshold=0.3, nms_iou=0.5, vote_iou=0.5)
    collar, lug, clamp = voting.detect(np.zeros((480, 640, 3), np.uint8))
    # (0.9 * 100 + 0.6 * 102.5) / 1.5: the suppressed duplicate votes, the clamp does not.
    np.testing.assert_allclose(collar.box_xyxy_px, (101, 100, 201, 200), atol=1e-3)
    np.testing.assert_allclose(clamp.box_xyxy_px, (102.5, 100, 202.5, 200), atol=1e-3)
    assert (collar.score, lug.box_xyxy_px[2]) == (pytest.approx(0.9), pytest.approx(640.0))


def test_letterbox_scales_640x480_exactly_into_512x384():
    image = np.zeros((480, 640, 3), np.uint8)
    image[100:200, 100:200] = 255
    blob, fit = letterbox(image, (384, 512))
    assert blob.shape == (1, 3, 384, 512) and blob.dtype == np.float32
    assert fit.scale == pytest.approx(0.8) and fit.pad_xy == (0, 0)
    assert blob[0, 0, 120, 120] == pytest.approx(1.0)
    assert blob.max() <= 1.0


def test_letterbox_pads_other_aspects_and_maps_boxes_back():
    image = np.zeros((300, 300, 3), np.uint8)
    blob, fit = letterbox(image, (384, 512))
    assert fit.scale == pytest.approx(384 / 300)
    assert fit.pad_xy == (64, 0)
    assert blob[0, :, 10, 10] == pytest.approx(114 / 255)  # grey padding
    back = fit.to_image(np.array([[64.0, 0.0, 448.0, 384.0]]))
    np.testing.assert_allclose(back, [[0.0, 0.0, 300.0, 300.0]], atol=1e-4)
    assert Letterbox(0.5, (10, 0)).to_image(np.array([[10.0, 0.0, 20.0, 10.0]])).tolist() == [
        [0.0, 0.0, 20.0, 20.0]
    ]


def test_detect_decodes_thresholds_and_suppresses_per_class(detector):
    detections = detector.detect(np.zeros((480, 640, 3), np.uint8))
    summary = [(d.class_name, round(d.score, 2)) for d in detections]
    assert summary == [("collar_plate", 0.9), ("lifting_lug", 0.8), ("pipe_clamp", 0.7)]
    np.testing.assert_allclose(detections[0].box_xyxy_px, (100, 100, 200, 200), atol=1e-3)
    # Boxes are clipped to the image.
    assert detections[1].box_xyxy_px[2] == pytest.approx(640.0)
    assert detections[0].to_dict() == {
        "class": "collar_plate",
        "score": 0.9,
        "box_xyxy_px": [100.0, 100.0, 200.0, 200.0],
    }


def test_stage_times_are_reported(detector):
    times: dict[str, float] = {}
    detector.detect(np.zeros((480, 640, 3), np.uint8), times)
    assert set(times) == {"preprocess", "inference", "postprocess"}
    assert all(v >= 0 for v in times.values())


def test_classwise_nms_keeps_best_of_overlapping_boxes_only_within_a_class():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [1, 0, 11, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.5, 0.9, 0.8, 0.3])
    classes = np.array([0, 0, 1, 0])
    assert classwise_nms(boxes, scores, classes, 0.5).tolist() == [1, 2, 3]
    assert classwise_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).tolist() == []


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((480, 640), np.uint8), "(H, W, 3)"),
        (np.zeros((480, 640, 3), np.float32), "uint8"),
    ],
)
def test_bad_images_are_refused(detector, image, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        detector.detect(image)


def test_missing_corrupt_and_metadata_less_models_are_refused(tmp_path):
    with pytest.raises(DataFormatError, match="not found"):
        PartDetector(tmp_path / "none.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model at all")
    with pytest.raises(DataFormatError, match="onnxruntime"):
        PartDetector(corrupt)
    bare = build_tiny_detector(tmp_path / "bare.onnx", np.zeros((1, 7)), CLASSES, metadata={})
    with pytest.raises(DataFormatError, match="classes"):
        PartDetector(bare)
    with pytest.raises(ConfigError, match="threads"):
        PartDetector(bare, threads=0)
