"""Motion measures the picture's sensor noise: a noisy (night) picture is averaged over two frames and stays quiet.

Real footage (the one-by-one clip through PyAV). Its "night" version is the same frames made grey, a third as
bright and given Gaussian noise (sigma 6), as an infrared camera at night sends them: the shared footage has no
real night clip with an empty stretch to check false motion on.
"""

from __future__ import annotations

import av
import numpy as np

from conftest import media_file
from homewarden.config.model import MotionConfig
from homewarden.motion.background import NOISY_LEVEL, BackgroundMotionDetector

SIZE = (768, 432)


def room_frames(last: int) -> list[np.ndarray]:
    """Return the clip's grey frames up to `last` at 5 fps (the room is empty until about frame 60)."""
    frames = []
    with av.open(str(media_file("video/one-by-one-person-detection.mp4"))) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number > last:
                break
            if number % 2 == 0:
                frames.append(frame.to_ndarray(format="gray"))
    return frames


def night(frames: list[np.ndarray]) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [
        np.clip(grey.astype(np.float32) / 3 + 10 + rng.normal(0, 6, grey.shape), 0, 255).astype(np.uint8)
        for grey in frames
    ]


def test_a_clean_picture_measures_low_noise_and_a_night_one_high() -> None:
    frames = room_frames(50)
    day = BackgroundMotionDetector(MotionConfig(), SIZE)
    dark = BackgroundMotionDetector(MotionConfig(), SIZE)
    for clean, noisy in zip(frames, night(frames), strict=True):
        day.detect(clean)
        dark.detect(noisy)
    assert day.noise_level is not None
    assert day.noise_level < NOISY_LEVEL / 2
    assert dark.noise_level is not None
    assert dark.noise_level > NOISY_LEVEL
    assert not day.noisy
    assert dark.noisy


def test_the_empty_room_at_night_shows_no_motion() -> None:
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    moving = [detector.detect(grey) for grey in night(room_frames(56))]
    assert not any(moving)


def test_a_walker_at_night_is_still_motion_after_averaging() -> None:
    # A figure 10x40 px at 768x432 walking across the real empty room, 40 levels darker than the floor in the noisy
    # night picture: averaging two frames must not smear it away.
    frames = night(room_frames(40))
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    found = 0
    for index, grey in enumerate(frames):
        picture = grey.copy()
        if index >= 10:
            x = 200 + 8 * index
            picture[290:330, x : x + 10] = np.clip(grey[290:330, x : x + 10].astype(int) - 40, 0, 255)
        found += bool(detector.detect(picture))
    assert detector.noisy
    assert found >= 8
