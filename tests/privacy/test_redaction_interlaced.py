"""A donated copy of an interlaced clip is uncombed before faces and people are looked for, and is copied so.

Real H.264 encoded interlaced by x264 from the one-by-one clip's frames (no shared clip is interlaced).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from camera.test_interlaced import decoded, encode, woven_clip
from homewarden.config.model import NanoDetConfig
from homewarden.detect import create_detector
from homewarden.privacy.redaction import redact_clip
from video.test_fields import comb

# The one-by-one clip's visitor walking in at 22.6-24.0 s (10 fps: a frame, 100 ms, between the woven fields).
FIRST, LAST = 226, 240
COMBED_WALK = 5.0
UNCOMBED_COPY = 1.2


def test_an_interlaced_clip_is_copied_without_combs(tmp_path: Path) -> None:
    pictures = woven_clip(FIRST, LAST)
    height, width = pictures[0].shape[:2]
    clip = tmp_path / "interlaced.mp4"
    encode(clip, pictures, interlaced=True, pixel_format="yuv420p", size=(width, height))
    sent = decoded(clip)
    assert all(frame.interlaced_frame for frame in sent)

    copy = redact_clip(clip, detector=create_detector(NanoDetConfig(threads=1)))

    # Measured: the walk as sent combs up to 7.7 (comb() over the whole picture); the copy 0.76-0.99, its still
    # scene's own detail (made from the combed pictures, it combed up to 6.5).
    assert max(comb(frame.to_ndarray(format="gray")) for frame in sent) > COMBED_WALK
    assert max(comb(picture) for picture in decoded_copy(copy.mp4, tmp_path)) < UNCOMBED_COPY
    assert copy.frames == len(pictures)


def decoded_copy(mp4: bytes, folder: Path) -> list[npt.NDArray[np.uint8]]:
    """Decode the redacted copy's pictures as grey."""
    path = folder / "copy.mp4"
    path.write_bytes(mp4)
    return [frame.to_ndarray(format="gray") for frame in decoded(path)]
