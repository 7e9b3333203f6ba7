"""Pictures as players show them: the display matrix read off a file's first picture, turns and square pixels."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from homewarden.video.display import AsDisplayed, display_size, display_turn, pixel_stretch, quarter_turn
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
    shown = AsDisplayed(90)
    sizes = []
    for index, (width, height) in enumerate([(64, 48), (64, 48), (32, 16)]):
        pixels = np.zeros((height, width, 3), np.uint8)
        pixels[0, 0] = 255  # the top-left corner: turned counter-clockwise, it ends at the bottom left
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame.pts, frame.time_base = index * 3, Fraction(1, 30)
        turned = shown(frame)
        image = turned.to_ndarray(format="rgb24")
        assert image[width - 1, 0].max() == 255  # the turned picture is `width` rows tall
        assert (turned.pts, turned.time_base) == (index * 3, Fraction(1, 30))
        sizes.append((turned.width, turned.height))
    assert sizes == [(48, 64), (48, 64), (16, 32)]


def test_only_quarter_turns_are_taken() -> None:
    with pytest.raises(ValueError, match="quarter turn"):
        AsDisplayed(45)


@pytest.mark.parametrize(
    ("sample_aspect_ratio", "stretch"),
    [
        (None, None),
        (Fraction(1), None),
        (Fraction(944, 945), None),
        (Fraction(4, 3), Fraction(4, 3)),
        (Fraction(10, 11), Fraction(10, 11)),
    ],
)
def test_only_pixels_clearly_not_square_are_stretched(
    sample_aspect_ratio: Fraction | None, stretch: Fraction | None
) -> None:
    assert pixel_stretch(sample_aspect_ratio) == stretch


def test_a_stretched_and_turned_picture_is_shown_at_its_display_size() -> None:
    assert display_size(480, 360, Fraction(4, 3), 0) == (640, 360)
    assert display_size(720, 480, Fraction(10, 11), 0) == (654, 480)
    assert display_size(480, 360, Fraction(4, 3), 90) == (360, 640)
    assert display_size(320, 240, None, 270) == (240, 320)


def test_stretched_pixels_become_square() -> None:
    pixels = np.zeros((360, 480, 3), np.uint8)
    pixels[:, 240:] = 255  # the right half
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
    frame.pts, frame.time_base = 7, Fraction(1, 30)
    shown = AsDisplayed(0, Fraction(4, 3))(frame)
    image = shown.to_ndarray(format="rgb24")
    assert image.shape[:2] == (360, 640)
    # Still half dark and half light, stretched evenly.
    assert image[:, :310].max() < 20
    assert image[:, 330:].min() > 235
    assert shown.pts == 7
