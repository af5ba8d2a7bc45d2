"""Static int8 quantisation of the part detector's ONNX model (onnxruntime's quantiser).

The trained float model is quantised once, offline: weights per output channel to 7-bit
signed integers, activations per tensor to 8-bit unsigned ones, their ranges calibrated
(min-max) on frames like those inspection feeds the detector. Only the network's
convolutions, additions, up-sampling and ReLUs are quantised; the in-graph box decoding
(exponentials, sigmoids, the cell-centre grids) stays in float, so box coordinates keep
their precision.

Why 7-bit weights (onnxruntime's ``reduce_range``): on x86 CPUs without VNNI the int8
kernels add pairs of unsigned 8-bit by signed 8-bit products in 16 bits, which can
saturate; with 7-bit weights they cannot, so the model computes the same on every
machine of this kind, with or without VNNI. (On the held-out recordings full 8-bit
weights scored 0.004 higher mAP@0.5; docs/detector.md.)

Needs the ``onnx`` package (the ``train`` extra); running the quantised model needs
onnxruntime alone.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from arinspect.detect.runtime import letterbox
from arinspect.errors import DataFormatError
from arinspect.typed import UInt8Image

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class QuantizationSpec:
    """How the float model is quantised (recorded in the model card).

    Attributes:
        op_types: ONNX operators quantised; everything else stays float.
        per_channel: Weights quantised per output channel (else per tensor).
        reduce_range: 7-bit weights (see the module docstring).
        calibration: Range calibration method of onnxruntime's quantiser.
    """

    op_types: tuple[str, ...] = ("Conv", "Add", "Resize", "Relu")
    per_channel: bool = True
    reduce_range: bool = True
    calibration: str = "MinMax"


def quantize_detector(
    float_model: str | Path,
    out_path: str | Path,
    calibration_frames: Sequence[UInt8Image],
    spec: QuantizationSpec = QuantizationSpec(),
) -> Path:
    """Write the int8 (QDQ) version of `float_model` to `out_path`.

    Args:
        float_model: The float detector (input ``image`` 1x3xHxW, ``input_hw`` in its
            metadata, which the quantised model keeps).
        out_path: Where the quantised model goes.
        calibration_frames: BGR frames (any size; letterboxed like the runtime does)
            whose activations set the quantisation ranges.
        spec: Quantisation settings.

    Raises:
        DataFormatError: `float_model` is not a detector model, or no calibration frames.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    float_model, out_path = Path(float_model), Path(out_path)
    source = onnx.load(str(float_model))
    input_hw = _input_hw(source, float_model)
    if not calibration_frames:
        raise DataFormatError(float_model, "no calibration frames to quantise it with")

    class _Blobs(CalibrationDataReader):
        def __init__(self) -> None:
            self._blobs: Iterator[np.ndarray] = (
                letterbox(frame, input_hw)[0] for frame in calibration_frames
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(self._blobs, None)
            return None if blob is None else {"image": blob}

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"  # shapes inferred, graph folded
        quant_pre_process(str(float_model), str(prepared))
        quantize_static(
            str(prepared),
            str(out_path),
            _Blobs(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(spec.op_types),
            per_channel=spec.per_channel,
            reduce_range=spec.reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod[spec.calibration],
        )
    quantized = onnx.load(str(out_path))
    _copy_metadata(source, quantized, spec)
    onnx.save(quantized, str(out_path))
    return out_path


def _input_hw(model: onnx.ModelProto, path: Path) -> tuple[int, int]:
    """The detector's (height, width) input from its metadata."""
    meta = {p.key: p.value for p in model.metadata_props}
    try:
        height, width = json.loads(meta["input_hw"])
        return int(height), int(width)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(path, f"not a detector model with input_hw metadata ({exc})") from exc


def _copy_metadata(
    source: onnx.ModelProto, target: onnx.ModelProto, spec: QuantizationSpec
) -> None:
    """The float model's metadata on the quantised one, and how it was quantised."""
    props = {p.key: p.value for p in source.metadata_props}
    props["quantization"] = json.dumps({"format": "QDQ int8", **asdict(spec)})
    del target.metadata_props[:]
    for key, value in props.items():
        entry = target.metadata_props.add()
        entry.key, entry.value = key, value
