"""The shipped NanoDet model on a real frame, and the YOLO backend's load errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import media_file
from homewarden.config.model import NanoDetConfig, YoloConfig
from homewarden.detect import DetectorLoadError, create_detector
from homewarden.detect.nanodet import MEAN, STD, model_path, normalised


def frame_at(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number == index:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError(f"{path} has fewer than {index} frames")


def test_the_shipped_model_matches_its_recorded_sha256() -> None:
    path = model_path()
    recorded = path.with_name("nanodet.onnx.sha256").read_text().split()[0]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded


def test_nanodet_finds_the_person_in_a_real_frame() -> None:
    detector = create_detector(NanoDetConfig())
    image = frame_at(media_file("video/one-by-one-person-detection.mp4"), 300)
    people = [d for d in detector.detect(image, 0.35) if d.label == "person"]
    assert len(people) == 1
    x1, y1, x2, y2 = people[0].box
    # The person stands right of centre, head near the top of the frame (checked by eye).
    assert 360 <= x1 <= 410
    assert 520 <= x2 <= 570
    assert y1 <= 30
    assert 340 <= y2 <= 400
    assert people[0].score >= 0.7


def test_nanodet_finds_nobody_in_the_empty_room() -> None:
    detector = create_detector(NanoDetConfig())
    image = frame_at(media_file("video/one-by-one-person-detection.mp4"), 20)
    assert [d for d in detector.detect(image, 0.35) if d.label == "person"] == []


def test_nanodet_input_is_the_normalised_image_bit_for_bit() -> None:
    # The planar fill must give exactly what the model was measured with: the interleaved formula.
    square = np.random.default_rng(7).integers(0, 256, (416, 416, 3), dtype=np.uint8)
    expected = ((square.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[np.newaxis]
    tensor = normalised(square)
    assert tensor.flags.c_contiguous
    assert np.array_equal(tensor, expected)


def test_nanodet_crop_boxes_map_back_to_the_crop() -> None:
    detector = create_detector(NanoDetConfig())
    image = frame_at(media_file("video/one-by-one-person-detection.mp4"), 300)
    crop = image[0:432, 300:732]
    people = [d for d in detector.detect(crop, 0.35) if d.label == "person"]
    assert len(people) == 1
    assert 60 <= people[0].box[0] <= 110


def test_a_missing_yolo_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DetectorLoadError, match="no such YOLO model file"):
        create_detector(YoloConfig(type="yolo", model=tmp_path / "missing.onnx"))


def test_a_corrupt_yolo_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(DetectorLoadError, match="cannot load ONNX model"):
        create_detector(YoloConfig(type="yolo", model=bad))
