"""A user's own Ultralytics YOLO ONNX export: output (1, 4 + classes, N) of centre boxes and class scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from homewarden.config.model import YoloConfig
from homewarden.detect.base import (
    Detection,
    DetectorLoadError,
    Image,
    ObjectDetector,
    letterbox,
    select_boxes,
)
from homewarden.detect.labels import COCO_LABELS


class YoloDetector(ObjectDetector):
    """Run an Ultralytics YOLO (v8 and later) ONNX export on the CPU."""

    type_key = "yolo"

    def __init__(self, config: YoloConfig) -> None:
        from homewarden.detect.base import onnx_session

        if not config.model.is_file():
            raise DetectorLoadError(f"{config.model}: no such YOLO model file")
        self._session: Any = onnx_session(str(config.model), config.threads)
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or len(outputs[0].shape) != 3:
            raise DetectorLoadError(f"{config.model}: not an Ultralytics YOLO export (one input, one 3-D output)")
        self._input = inputs[0].name
        self.input_size = config.input_size
        self.labels = tuple(config.labels) if config.labels else COCO_LABELS
        rows = outputs[0].shape[1]
        if isinstance(rows, int) and rows != 4 + len(self.labels):
            raise DetectorLoadError(
                f"{config.model}: output has {rows - 4} classes but {len(self.labels)} labels are configured"
            )
        self.calls = 0

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Return the objects in a BGR image scoring at least min_score, boxes in its pixels."""
        square, placement = letterbox(image, self.input_size)
        tensor = (square[:, :, ::-1].astype(np.float32) / 255.0).transpose(2, 0, 1)[np.newaxis]
        self.calls += 1
        output = self._session.run(None, {self._input: np.ascontiguousarray(tensor)})[0][0].T
        scores_all = output[:, 4:]
        classes = scores_all.argmax(axis=1)
        scores = scores_all[np.arange(len(scores_all)), classes]
        keep = scores >= min_score
        cx, cy, w, h = (output[keep, i] for i in range(4))
        boxes = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]).astype(np.float32)
        boxes = placement.to_image(boxes)
        return select_boxes(boxes, scores[keep].astype(np.float32), classes[keep], self.labels, min_score)
