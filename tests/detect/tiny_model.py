"""A tiny ONNX model that follows the detector contract, built at test time with onnx.helper.

It ignores the image (beyond using it, so onnxruntime keeps the input) and outputs fixed
rows ``[x0, y0, x1, y1, p_class...]`` in input pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_tiny_detector(
    path: Path,
    rows: np.ndarray,
    classes: list[str],
    input_hw: tuple[int, int] = (384, 512),
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a model whose output is always `rows` ((M, 4 + C), input pixels)."""
    rows = np.asarray(rows, dtype=np.float32)[None]
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["rows", "nothing"], ["detections"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, *input_hw])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, list(rows.shape))],
        initializer=[
            numpy_helper.from_array(rows, "rows"),
            numpy_helper.from_array(np.zeros((), np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    props = (
        {"classes": json.dumps(classes), "input_hw": json.dumps(list(input_hw))}
        if metadata is None
        else metadata
    )
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path
