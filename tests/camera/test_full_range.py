"""Full-range ("pc", yuvj420p) streams, as many IP cameras send, reach the analyser in their true levels.

Real H.264 written by libx264 from a frame of the one-by-one clip, decoded by PyAV; FFmpeg's own conversion to BGR
(which reads the stream's range flag) is the reference.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from camera.test_interlaced import decoded, encode, one_by_one_frames
from homewarden.camera.reader import Sample

# The colour matrices of OpenCV and FFmpeg round differently: a level or two apart on the same limited-range picture.
ROUNDING = 3
# A picture with shadows and highlights: the one-by-one clip's room, darkened and brightened at its two sides, so that
# levels below 16 and above 235 (those the limited range leaves out) are in it.
FRAME = 234


def shadows_and_highlights() -> npt.NDArray[np.uint8]:
    """Return the one-by-one clip's frame with its left half darkened and its right half brightened."""
    picture = one_by_one_frames(FRAME, FRAME)[0].astype(np.float32)
    half = picture.shape[1] // 2
    picture[:, :half] *= 0.25
    picture[:, half:] = 255 - (255 - picture[:, half:]) * 0.25
    return np.clip(picture, 0, 255).astype(np.uint8)


def first_frame(path: Path, picture: npt.NDArray[np.uint8], pixel_format: str) -> av.VideoFrame:
    """Write the picture as three frames of H.264 in a pixel format, return the first frame decoded."""
    height, width = picture.shape[:2]
    encode(path, [picture] * 3, interlaced=False, pixel_format=pixel_format, size=(width, height))
    return decoded(path)[0]


def farthest_apart(ours: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8]) -> int:
    """Return the largest difference of a level between two BGR pictures."""
    return int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max())


@pytest.mark.parametrize("pixel_format", ["yuvj420p", "yuv420p"])
def test_the_analysed_picture_has_the_levels_the_camera_sent(tmp_path: Path, pixel_format: str) -> None:
    frame = first_frame(tmp_path / "camera.mp4", shadows_and_highlights(), pixel_format)
    assert frame.format.name == pixel_format
    assert (frame.color_range == 2) == (pixel_format == "yuvj420p")
    reference = frame.to_ndarray(format="bgr24")
    sample = Sample(0.0, frame, (frame.width, frame.height))

    # Read as limited range, a full-range picture's dark half loses up to 16 levels to black and its bright half
    # gains up to 20 (measured: 20 apart before the mapping).
    assert farthest_apart(sample.image, reference) <= ROUNDING


def test_full_resolution_crops_of_a_full_range_camera_have_its_levels(tmp_path: Path) -> None:
    frame = first_frame(tmp_path / "camera.mp4", shadows_and_highlights(), "yuvj420p")
    reference = frame.to_ndarray(format="bgr24")
    # Analysed at half size, so crops at the camera's resolution are converted on their own.
    sample = Sample(0.0, frame, (frame.width // 2, frame.height // 2))
    box = (101, 51, 701, 401)

    crop = sample.full_crop(box)

    assert crop.shape == (350, 600, 3)
    assert farthest_apart(crop, reference[51:401, 101:701]) <= ROUNDING
