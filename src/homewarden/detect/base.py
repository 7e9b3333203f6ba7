"""The detector interface: find objects in one image, boxes in that image's pixels."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
NMS_IOU = 0.5


@dataclass(frozen=True)
class Detection:
    """One object found by a detector."""

    label: str
    score: float
    box: tuple[float, float, float, float]
    # The detector's `person` score for the same box, where it scores every class on each box (NanoDet: a sigmoid per
    # class); 0 where unknown. Legs seen from the waist down are `cat` 0.46 with `person` 0.28 there, a cat on a
    # table `cat` 0.5 with `person` 0.26 at most (docs/benchmarks.md, legs16).
    person_score: float = 0.0
    # Whether the box touches an edge of the crop of the picture the detector was given, where that edge is not the
    # picture's own: the object may go on beyond it (a visitor's upper half, scored `person` 0.87). Set by whoever cut
    # the crop (camera/analyzer.py); False for a detection on a whole picture.
    cut: bool = False

    @property
    def area(self) -> float:
        """Return the box's area in pixels."""
        return box_area(self.box)


def box_area(box: tuple[float, float, float, float]) -> float:
    """Return the area of an x1 y1 x2 y2 box in pixels (0 for an empty one)."""
    x1, y1, x2, y2 = box
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Return the intersection over union of two x1 y1 x2 y2 boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class DetectorLoadError(Exception):
    """A configured detector whose model cannot be loaded; the message is for the user."""


class ObjectDetector(ABC):
    """A backend that finds labelled boxes in an image."""

    labels: Sequence[str]
    calls: int = 0
    # The side of the square the model sees (an image is scaled to fit it); 0 when unknown.
    input_size: int = 0

    @abstractmethod
    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Return the objects in a BGR image scoring at least min_score, boxes in its pixels."""


@dataclass(frozen=True)
class Letterbox:
    """How an image was scaled and padded into a square model input."""

    width: int
    height: int
    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map (N, 4) x1 y1 x2 y2 boxes from model input pixels back to image pixels, inside the image."""
        mapped = boxes.copy()
        mapped[:, [0, 2]] = ((mapped[:, [0, 2]] - self.pad_x) / self.scale).clip(0, self.width)
        mapped[:, [1, 3]] = ((mapped[:, [1, 3]] - self.pad_y) / self.scale).clip(0, self.height)
        return mapped


def letterbox(image: Image, size: int, pad_value: int = 114) -> tuple[Image, Letterbox]:
    """Scale an image to fit a size x size square, keeping its aspect, and pad the rest."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cast(Image, cv2.resize(image, (new_w, new_h), interpolation=interpolation))
    if new_w == size and new_h == size:
        return resized, Letterbox(width, height, scale, 0.0, 0.0)
    canvas = np.full((size, size, 3), pad_value, dtype=np.uint8)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(width, height, scale, float(pad_x), float(pad_y))


def select_boxes(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int64],
    labels: Sequence[str],
    min_score: float,
    person_scores: npt.NDArray[np.float32] | None = None,
) -> list[Detection]:
    """Keep the best box per object (class-aware non-maximum suppression) as detections.

    `person_scores` holds each box's `person` score, where the detector gives one for every box.
    """
    return [
        Detection(
            label=labels[int(classes[i])],
            score=float(scores[i]),
            box=(float(boxes[i, 0]), float(boxes[i, 1]), float(boxes[i, 2]), float(boxes[i, 3])),
            person_score=0.0 if person_scores is None else float(person_scores[i]),
        )
        for i in kept_by_nms(boxes, scores, classes, min_score)
    ]


def kept_by_nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int64],
    min_score: float,
) -> list[int]:
    """Return the indices of the boxes that class-aware non-maximum suppression keeps."""
    if len(scores) == 0:
        return []
    xywh = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]])
    keep = cv2.dnn.NMSBoxesBatched(
        xywh.tolist(), scores.tolist(), classes.tolist(), score_threshold=min_score, nms_threshold=NMS_IOU
    )
    return [int(i) for i in np.asarray(keep, dtype=np.int64).reshape(-1)]


def onnx_session(model_path: str, threads: int) -> Any:
    """Open an onnxruntime CPU session, or raise DetectorLoadError saying why not."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # onnxruntime's pool threads spin between operators by default: a busy-wait that takes a core from the camera
    # threads (decoding, motion, faces) running beside the detector, most of all when cameras share few cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(model_path, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped exceptions for unreadable models
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DetectorLoadError(f"{model_path}: cannot load ONNX model ({first_line[:200]})") from None
