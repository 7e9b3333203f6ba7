"""Interlaced cameras are analysed without combs: real H.264 encoded interlaced by x264, decoded by PyAV, real NanoDet.

Interlaced streams come from analogue-era cameras through a DVR and from 1080i recorders; no shared clip is one, so
the pictures here are woven from two frames (the top field from the earlier) and encoded as such a camera's stream.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from conftest import ONE_BY_ONE, media_file
from homewarden.camera.reader import Sample
from homewarden.config.model import NanoDetConfig
from homewarden.detect.nanodet import NanoDetDetector
from video.test_fields import CLEAN, COMBED, FIELD_SHIFT, HEIGHT, WIDTH, comb, woven

# The one-by-one clip at 23.4 s (its top field from 23.3 s): its visitor walking, at 10 fps, a frame (100 ms) between
# the fields.
WOVEN_FRAME = 234


def one_by_one_frames(first: int, last: int) -> list[npt.NDArray[np.uint8]]:
    """Return the one-by-one clip's frames `first` to `last` (counted from 0) as BGR."""
    frames: list[npt.NDArray[np.uint8]] = []
    with av.open(str(media_file(ONE_BY_ONE))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if first <= index <= last:
                frames.append(frame.to_ndarray(format="bgr24"))
            if index >= last:
                break
    return frames


def woven_clip(first: int, last: int) -> list[npt.NDArray[np.uint8]]:
    """Return the one-by-one clip's frames `first` to `last` as an interlaced camera draws them: each picture's top
    field from the frame before."""
    frames = one_by_one_frames(first - 1, last)
    pictures = []
    for earlier, later in itertools.pairwise(frames):
        picture = later.copy()
        picture[0::2] = earlier[0::2]
        pictures.append(picture)
    return pictures


def encode(
    path: Path,
    pictures: list[npt.NDArray[np.uint8]],
    interlaced: bool,
    pixel_format: str,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> None:
    """Write pictures as H.264, interlaced (MBAFF, top field first) or not."""
    with av.open(str(path), "w") as target:
        stream = target.add_stream("libx264", rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = pixel_format
        stream.options = {"preset": "veryfast", "crf": "12"}
        if interlaced:
            stream.options["x264-params"] = "interlaced=1:tff=1"
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
            frame.pts = index
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode():
            target.mux(packet)


def decoded(path: Path) -> list[av.VideoFrame]:
    """Decode every frame of a file."""
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


# yuv420p takes the planar path (luma and chroma planes taken apart); 4:2:2, as broadcast gear sends, the BGR one.
@pytest.mark.parametrize("pixel_format", ["yuv420p", "yuv422p"])
def test_an_interlaced_frame_is_analysed_without_combs_and_a_progressive_one_as_sent(
    tmp_path: Path, pixel_format: str
) -> None:
    pictures = [woven(FIELD_SHIFT) for _ in range(5)]
    encode(tmp_path / "interlaced.mp4", pictures, interlaced=True, pixel_format=pixel_format)
    encode(tmp_path / "progressive.mp4", pictures, interlaced=False, pixel_format=pixel_format)
    interlaced, progressive = decoded(tmp_path / "interlaced.mp4"), decoded(tmp_path / "progressive.mp4")
    assert all(frame.interlaced_frame for frame in interlaced)
    assert not any(frame.interlaced_frame for frame in progressive)
    assert {frame.format.name for frame in interlaced + progressive} == {pixel_format}

    for frame in interlaced:
        assert comb(frame.to_ndarray(format="gray")) > COMBED  # what the camera sent is combed
        full = Sample(0.0, frame, (WIDTH, HEIGHT))
        half = Sample(0.0, frame, (WIDTH // 2, HEIGHT // 2))
        assert comb(full.grey) < CLEAN
        assert comb(full.image[..., 1]) < CLEAN
        assert comb(full.full_crop((0, 0, WIDTH, HEIGHT))[..., 1]) < CLEAN
        # Scaled down, the bar is where the top field drew it (100-140 px at full size), not smeared over both places.
        columns = half.grey[60:90].mean(axis=0)
        assert columns[52:68].min() > 200
        assert columns[72:80].max() < 100
    for frame in progressive:
        sample = Sample(0.0, frame, (WIDTH, HEIGHT))
        assert comb(sample.grey) > COMBED  # a progressive picture is analysed as sent, combs and all


def test_a_walker_combed_out_of_sight_is_found_in_the_uncombed_picture(tmp_path: Path) -> None:
    (picture,) = woven_clip(WOVEN_FRAME, WOVEN_FRAME)
    earlier = one_by_one_frames(WOVEN_FRAME - 1, WOVEN_FRAME - 1)[0]
    height, width = picture.shape[:2]
    path = tmp_path / "interlaced.mp4"
    encode(path, [picture], interlaced=True, pixel_format="yuv420p", size=(width, height))
    (frame,) = decoded(path)
    detector = NanoDetDetector(NanoDetConfig(threads=1))

    def people(image: npt.NDArray[np.uint8]) -> list[float]:
        return [found.score for found in detector.detect(image, 0.35) if found.label == "person"]

    # Measured: the visitor scores 0.79 in the earlier frame and in the uncombed picture, and nothing in the combed
    # one (on the whole clip woven so, 5 of 257 such pictures lose their person at 0.5; none once uncombed).
    assert people(earlier)
    assert not people(frame.to_ndarray(format="bgr24"))
    assert max(people(Sample(0.0, frame, (width, height)).image), default=0.0) >= 0.5
