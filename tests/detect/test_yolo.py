"""The YOLO backend's decoding, on a tiny ONNX graph in the Ultralytics output layout.

The graph is built here with the `onnx` package: it ignores its input and always answers the same
(1, 4 + classes, N) tensor, so the test knows exactly what the decoder must make of it. Real Ultralytics
exports cannot be downloaded on this machine; the layout is the one they document.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from homewarden.config.model import YoloConfig
from homewarden.detect import DetectorLoadError, create_detector

SIZE = 64


def constant_yolo_model(path: Path, output: np.ndarray) -> Path:
    """Write a YOLO-shaped ONNX model whose output is always `output`, after touching its input."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])
    result = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    nodes = [
        # 0 * mean(image) + constant: the answer does not depend on the picture, but the input is used.
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["answer", "nothing"], ["output0"]),
    ]
    initialisers = [
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        numpy_helper.from_array(output.astype(np.float32), "answer"),
    ]
    graph = helper.make_graph(nodes, "constant_yolo", [image], [result], initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_yolo_boxes_are_decoded_suppressed_and_mapped_to_the_image(tmp_path: Path) -> None:
    # Three candidates in a 64x64 input: two overlapping people (one weaker), one cat.
    columns = [
        # cx, cy, w, h, person, cat
        [20, 32, 10, 40, 0.9, 0.0],
        [21, 32, 10, 40, 0.6, 0.0],
        [48, 40, 16, 8, 0.0, 0.7],
        [10, 10, 4, 4, 0.1, 0.1],
    ]
    output = np.array(columns, dtype=np.float32).T[np.newaxis]
    model = constant_yolo_model(tmp_path / "yolo.onnx", output)
    detector = create_detector(YoloConfig(type="yolo", model=model, input_size=SIZE, labels=["person", "cat"]))
    # A 128x64 image is letterboxed into 64x64: scale 0.5, 16 px of padding above and below.
    image = np.zeros((64, 128, 3), dtype=np.uint8)
    found = sorted(detector.detect(image, 0.3), key=lambda d: d.label, reverse=True)
    assert [(d.label, round(d.score, 2)) for d in found] == [("person", 0.9), ("cat", 0.7)]
    # y1 = (12 - 16) / 0.5 = -8 and y2 = (52 - 16) / 0.5 = 72: both clipped to the image.
    assert found[0].box == (30.0, 0.0, 50.0, 64.0)
    assert found[1].box == (80.0, 40.0, 112.0, 56.0)


def test_a_label_count_that_does_not_match_the_model_is_refused(tmp_path: Path) -> None:
    output = np.zeros((1, 4 + 2, 3), dtype=np.float32)
    model = constant_yolo_model(tmp_path / "yolo.onnx", output)
    with pytest.raises(DetectorLoadError, match="2 classes but 3 labels"):
        create_detector(YoloConfig(type="yolo", model=model, input_size=SIZE, labels=["person", "cat", "dog"]))
