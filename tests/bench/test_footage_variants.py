"""The variant writer of bench/footage_variants.py: size, rate and picture of a real clip's copies, and scaled boxes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from footage_variants import VARIANTS, variant_entry, write_variant
from homewarden.config import HomewardenConfig

CLIP = Path(__file__).resolve().parents[1] / "data" / "real" / "parking-lot-pedestrian.mp4"
# The test clip is 640x360 at 15 fps; two seconds of it are copied.
SECONDS = 2.0


def read_back(path: Path) -> tuple[int, int, Fraction, list[np.ndarray]]:
    """Return a written clip's size, frame rate and frames."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]
        return stream.width, stream.height, Fraction(stream.average_rate), frames


def entry() -> dict[str, object]:
    """Return a manifest entry for the test clip with one annotated visit and one ignored span with a box."""
    return {
        "file": CLIP.name,
        "width": 640,
        "height": 360,
        "fps": 15,
        "duration": 6.0,
        "persons": [[0.0, 6.0, [[0.0, 100, 40, 160, 200], [6.0, 300, 60, 360, 220]]]],
        "ignore": [[1.0, 2.0, "a figure at the edge", [600, 0, 640, 30]]],
    }


def test_the_1080p_copy_is_1920_by_1080_and_its_boxes_are_at_the_analysed_1280(tmp_path: Path) -> None:
    out = tmp_path / "a.mp4"
    assert write_variant(CLIP, out, VARIANTS["a"], Fraction(15), SECONDS) == (1920, 1080, Fraction(15))
    width, height, rate, frames = read_back(out)
    assert (width, height, rate, len(frames)) == (1920, 1080, Fraction(15), 30)
    scaled = variant_entry(entry(), 1920, 1080, Fraction(15), HomewardenConfig())
    # analyze looks at a 1920x1080 clip at 1280x720 and reports boxes there: twice the 640x360 clip's pixels.
    assert scaled["persons"] == [[0.0, 6.0, [[0.0, 200, 80, 320, 400], [6.0, 600, 120, 720, 440]]]]
    assert scaled["ignore"] == [[1.0, 2.0, "a figure at the edge", [1200, 0, 1280, 60]]]
    assert (scaled["width"], scaled["height"]) == (1920, 1080)


def test_the_10_fps_copy_keeps_size_and_time(tmp_path: Path) -> None:
    out = tmp_path / "d.mp4"
    write_variant(CLIP, out, VARIANTS["d"], Fraction(15), SECONDS)
    width, height, rate, frames = read_back(out)
    # Two seconds at 10 fps: 20 frames, the last one shown at 1.9 s as in the source.
    assert (width, height, rate, len(frames)) == (640, 360, Fraction(10), 20)
    scaled = variant_entry(entry(), 640, 360, Fraction(10), HomewardenConfig())
    assert scaled["persons"] == entry()["persons"]
    assert scaled["fps"] == 10


def test_sizes_of_the_copies_and_the_control() -> None:
    assert VARIANTS["b"].size(640, 360) == (640, 360)
    assert VARIANTS["b"].size(1280, 720) == (640, 360)
    assert VARIANTS["b"].size(848, 480) == (640, 362)
    assert VARIANTS["a"].size(640, 640) == (1920, 1920)
    # The control changes nothing but the encoding.
    control = VARIANTS["r"]
    assert (control.size(848, 480), control.rate(Fraction(25)), control.picture) == ((848, 480), Fraction(25), None)


def test_the_night_copy_is_grey_and_dark(tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    write_variant(CLIP, out, VARIANTS["c"], Fraction(15), SECONDS)
    _, _, _, frames = read_back(out)
    _, _, _, day = read_back(CLIP)
    picture = frames[10].astype(np.int16)
    # Grey: the channels agree up to the encoder's rounding of colour, which the source's picture is far from.
    assert np.abs(picture[..., 0] - picture[..., 2]).mean() < 2.0
    assert np.abs(day[10].astype(np.int16)[..., 0] - day[10].astype(np.int16)[..., 2]).mean() > 5.0
    assert picture.mean() == pytest.approx(day[10].mean() / 3 + 10, abs=6)
