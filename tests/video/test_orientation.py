"""Orientation: a display matrix read off a file's first picture, and frames turned upright by FFmpeg's filters."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from homewarden.video.orientation import Upright, display_turn, quarter_turn
from video.synthetic import write_video


@pytest.mark.parametrize(
    ("degrees", "turn"), [(0.0, 0), (90.0, 90), (-90.0, 270), (180.0, 180), (-180.0, 180), (89.6, 90)]
)
def test_a_display_rotation_is_taken_as_the_nearest_quarter_turn(degrees: float, turn: int) -> None:
    assert quarter_turn(degrees) == turn


def test_files_without_a_turn_and_what_cannot_be_read_count_as_upright(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a video")
    assert display_turn(str(write_video(tmp_path / "clip.mp4", seconds=1))) == 0
    assert display_turn(str(write_video(tmp_path / "phone.mp4", seconds=1, turn=90))) == 90
    assert display_turn(str(tmp_path / "notes.txt")) == 0
    assert display_turn(str(tmp_path / "missing.mp4")) == 0
    assert display_turn(str(tmp_path)) == 0


def test_upright_follows_a_picture_size_change_and_keeps_each_time() -> None:
    upright = Upright(90)
    sizes = []
    for index, (width, height) in enumerate([(64, 48), (64, 48), (32, 16)]):
        pixels = np.zeros((height, width, 3), np.uint8)
        pixels[0, 0] = 255  # the top-left corner: turned counter-clockwise, it ends at the bottom left
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts, frame.time_base = index * 3, Fraction(1, 30)
        turned = upright(frame)
        image = turned.to_ndarray(format="rgb24")
        assert image[width - 1, 0].max() == 255  # the turned picture is `width` rows tall
        assert (turned.pts, turned.time_base) == (index * 3, Fraction(1, 30))
        sizes.append((turned.width, turned.height))
    assert sizes == [(48, 64), (48, 64), (16, 32)]


def test_only_quarter_turns_are_taken() -> None:
    with pytest.raises(ValueError, match="quarter turn"):
        Upright(45)
