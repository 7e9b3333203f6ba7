"""The watermark is burned into every frame, says who watched, and the result still plays."""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt
import pytest

from conftest import media_file
from homewarden.privacy.watermark import WatermarkError, ascii_text, burn_watermark
from privacy.test_screening import first_seconds

TEXT = "reviewer rv-7f3a · 2026-11-22 18:04 UTC"


def decode(mp4: bytes) -> list[npt.NDArray[np.int16]]:
    """Decode every frame of a clip as signed RGB (so differences do not wrap)."""
    with av.open(io.BytesIO(mp4)) as container:
        return [frame.to_ndarray(format="rgb24").astype(np.int16) for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def clip() -> bytes:
    """Return three seconds of the real office footage as H.264."""
    return first_seconds(media_file("video/one-by-one-person-detection.mp4"), 3)


def test_every_frame_is_marked(clip: bytes) -> None:
    marked = burn_watermark(clip, TEXT)

    before, after = decode(clip), decode(marked)
    assert len(after) == len(before) == 30
    for original, frame in zip(before, after, strict=True):
        difference = np.abs(frame - original).max(axis=2)
        assert (difference[:40] > 40).mean() > 0.05, "the band and its text are plain"
        # The diagonal text is faint (a fifth of the way to white) but covers the picture, not only one corner.
        middle = difference[40:] > 12
        assert 0.01 < middle.mean() < 0.3
        assert middle[:196].mean() > 0.005
        assert middle[196:].mean() > 0.005
    with av.open(io.BytesIO(marked)) as container:
        assert len(container.streams) == 1
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.width, video.height) == (768, 432)
    assert marked.index(b"moov") < marked.index(b"mdat")


def test_text_decides_the_marks(clip: bytes) -> None:
    first = decode(burn_watermark(clip, TEXT))[0]
    other = decode(burn_watermark(clip, "reviewer rv-0b19 · 2026-11-23 09:12 UTC"))[0]
    again = decode(burn_watermark(clip, TEXT))[0]

    assert (np.abs(first[:40] - other[:40]).max(axis=2) > 40).mean() > 0.02
    assert np.array_equal(first, again)


def test_text_becomes_drawable() -> None:
    assert ascii_text(TEXT) == "reviewer rv-7f3a | 2026-11-22 18:04 UTC"
    assert ascii_text("ünïcode") == "?n?code"


def test_unreadable_clip_raises() -> None:
    with pytest.raises(WatermarkError):
        burn_watermark(b"\x00" * 1000, TEXT)
