"""Static int8 quantisation of a detector model (needs the ``train`` extra: PyTorch, onnx)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from arinspect.detect.network import DetectorNet  # noqa: E402
from arinspect.detect.quantize import QuantizationSpec, quantize_detector  # noqa: E402
from arinspect.detect.runtime import PartDetector, letterbox  # noqa: E402
from arinspect.detect.training import export_onnx  # noqa: E402
from arinspect.errors import DataFormatError  # noqa: E402
from tests.detect.tiny_model import build_tiny_detector  # noqa: E402

CLASSES = ["collar_plate", "pipe_clamp"]
INPUT_HW = (96, 128)


def _frames(count: int, seed: int) -> list[np.ndarray]:
    """Smooth random BGR frames (blurred noise), 128x96."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        coarse = rng.integers(0, 256, (12, 16, 3)).astype(np.float32)
        frames.append(np.kron(coarse, np.ones((8, 8, 1), np.float32)).astype(np.uint8))
    return frames


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    torch.manual_seed(0)
    net = DetectorNet(len(CLASSES)).eval()
    path = tmp_path_factory.mktemp("float") / "float.onnx"
    return export_onnx(net, path, CLASSES, INPUT_HW, {"recipe": "test"})


def test_quantised_model_computes_what_the_float_one_does_in_int8(float_model, tmp_path):
    out = quantize_detector(float_model, tmp_path / "int8.onnx", _frames(8, seed=1))
    ops = {node.op_type for node in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    float_detector = PartDetector(float_model, threads=1, score_threshold=0.0)
    int8_detector = PartDetector(out, threads=1, score_threshold=0.0)
    assert int8_detector.classes == CLASSES and int8_detector.input_hw == INPUT_HW
    assert json.loads(int8_detector.metadata["quantization"])["reduce_range"] is True
    assert int8_detector.metadata["recipe"] == "test"
    box_errors, probability_errors = [], []
    for frame in _frames(4, seed=2):  # frames the calibration did not see
        blob, _ = letterbox(frame, INPUT_HW)
        expected = float_detector.session.run(None, {"image": blob})[0][0]
        got = int8_detector.session.run(None, {"image": blob})[0][0]
        box_errors.append(np.abs(got[:, :4] - expected[:, :4]))
        probability_errors.append(np.abs(got[:, 4:] - expected[:, 4:]))
    box_errors, probability_errors = np.concatenate(box_errors), np.concatenate(probability_errors)
    # Boxes to within a few input pixels, probabilities to a few hundredths.
    assert np.median(box_errors) < 1.0 and np.quantile(box_errors, 0.99) < 3.0
    assert np.median(probability_errors) < 0.02 and probability_errors.max() < 0.15
    # Float and int8 differ at all: the model was quantised.
    assert box_errors.max() > 0.0


def test_quantisation_is_reproducible(float_model, tmp_path):
    frames = _frames(4, seed=3)
    first = quantize_detector(float_model, tmp_path / "a.onnx", frames)
    second = quantize_detector(float_model, tmp_path / "b.onnx", frames)
    assert first.read_bytes() == second.read_bytes()


def test_full_8_bit_weights_are_a_setting(float_model, tmp_path):
    spec = QuantizationSpec(reduce_range=False)
    out = quantize_detector(float_model, tmp_path / "int8.onnx", _frames(4, seed=1), spec)
    assert json.loads(PartDetector(out).metadata["quantization"])["reduce_range"] is False


def test_no_calibration_frames_or_no_detector_metadata_is_named(float_model, tmp_path):
    with pytest.raises(DataFormatError, match="no calibration frames"):
        quantize_detector(float_model, tmp_path / "int8.onnx", [])
    alien = build_tiny_detector(
        tmp_path / "alien.onnx", np.zeros((1, 6)), CLASSES, metadata={"classes": "[]"}
    )
    with pytest.raises(DataFormatError, match="input_hw"):
        quantize_detector(alien, tmp_path / "int8.onnx", _frames(2, seed=1))
