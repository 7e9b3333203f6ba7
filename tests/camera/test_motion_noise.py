"""Motion measures the picture's sensor noise: a noisy (night) picture is averaged over two frames and stays quiet.

Real footage (the one-by-one clip through PyAV). Its "night" version is the same frames made grey, a third as
bright and given Gaussian noise (sigma 6), as an infrared camera at night sends them: the shared footage has no
real night clip with an empty stretch to check false motion on.
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
import pytest

from conftest import media_file
from homewarden.config.model import MotionConfig
from homewarden.motion.background import NOISY_LEVEL, BackgroundMotionDetector, cell_medians

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


def with_walker(grey: npt.NDArray[np.uint8], index: int) -> npt.NDArray[np.uint8]:
    """Return a copy of the picture with a 10x40 px figure, 40 levels darker, where it walks on frame ``index``."""
    picture = grey.copy()
    x = 200 + 8 * index
    picture[290:330, x : x + 10] = np.clip(grey[290:330, x : x + 10].astype(int) - 40, 0, 255)
    return picture


def test_a_walker_at_night_is_still_motion_after_averaging() -> None:
    # A figure 10x40 px at 768x432 walking across the real empty room, 40 levels darker than the floor in the noisy
    # night picture: averaging two frames must not smear it away.
    frames = night(room_frames(40))
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    found = 0
    for index, grey in enumerate(frames):
        picture = with_walker(grey, index) if index >= 10 else grey
        found += bool(detector.detect(picture))
    assert detector.noisy
    assert found >= 8


def walked(frames: list[np.ndarray], width: int, height: int, darker: int) -> list[np.ndarray]:
    """Return the frames with a figure `darker` levels darker walking across the room's floor from frame 10 on."""
    pictures = []
    for index, grey in enumerate(frames):
        picture = grey.copy()
        if index >= 10:
            x, y = 200 + 3 * index, 300
            figure = picture[y : y + height, x : x + width].astype(int) - darker
            picture[y : y + height, x : x + width] = np.clip(figure, 0, 255)
        pictures.append(picture)
    return pictures


def test_a_small_night_walker_is_motion_only_for_the_finer_night_model() -> None:
    # A figure 5x14 px at 768x432 (a 30 px visitor at 1280x720 by this picture's height), 25 levels darker than the
    # floor in the noisy night picture (a third of the day's contrast): at 180 lines opening and averaging leave
    # nothing of it; the finer model of a night picture sees it walk (frames 19-28), only there.
    frames = walked(night(room_frames(56)), 5, 14, 25)
    coarse = BackgroundMotionDetector(MotionConfig(), SIZE)
    finer = BackgroundMotionDetector(MotionConfig(), SIZE)
    found = 0
    for index, grey in enumerate(frames):
        assert coarse.detect(grey) == []
        boxes = finer.detect(grey, night=True)
        for x1, y1, x2, y2 in boxes:
            assert index >= 10
            assert x1 <= 200 + 3 * index + 5
            assert x2 >= 200 + 3 * index
            assert y1 <= 314
            assert y2 >= 300
        found += bool(boxes)
    assert found >= 8


def test_a_flicker_of_two_frames_is_no_night_motion() -> None:
    # The same figure shown for two frames in each of three places of the night room (a far walker seen on two
    # frames, a burst of noise): the finer model sees each (a box on frames 11, 17 and 23 if any box counted), but
    # none lasts three frames.
    frames = night(room_frames(56))
    places = {10: 250, 11: 250, 16: 350, 17: 350, 22: 450, 23: 450}
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    moving = []
    for index, grey in enumerate(frames):
        picture = grey.copy()
        if index in places:
            x = places[index]
            picture[300:314, x : x + 5] = np.clip(grey[300:314, x : x + 5].astype(int) - 25, 0, 255)
        moving.append(detector.detect(picture, night=True))
    assert not any(moving)


def test_the_empty_room_at_night_shows_no_motion_at_the_finer_lines() -> None:
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    moving = [detector.detect(grey, night=True) for grey in night(room_frames(56))]
    assert not any(moving)


def faded(frames: list[np.ndarray], start: int, steps: int, to_night: bool) -> list[np.ndarray]:
    """Return the frames turning from the clean picture to the night one (or back) over `steps` frames from `start`."""
    dark = night(frames)
    pictures = []
    for index, (clean, noisy) in enumerate(zip(frames, dark, strict=True)):
        # How far into the night picture this frame is: a camera's exposure settling after its IR switch.
        amount = min(1.0, max(0.0, (index - start + 1) / (steps + 1)))
        if not to_night:
            amount = 1.0 - amount
        pictures.append(np.clip((1 - amount) * clean + amount * noisy, 0, 255).astype(np.uint8))
    return pictures


@pytest.mark.parametrize("steps", [1, 5, 10])
@pytest.mark.parametrize("to_night", [True, False])
def test_a_switch_between_colour_and_infrared_is_no_motion(steps: int, to_night: bool) -> None:
    # The empty room's picture turning grey, dark and noisy at dusk (or back at dawn) at once, or over 1-2 s as a
    # camera's exposure settles: only part of the picture differs on each frame of a slow fade, which the whole-picture
    # relearning alone missed (boxes on every frame of it). Both models, as on a night picture.
    frames = faded(room_frames(56), 12, steps, to_night)
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    moving = [(index, detector.detect(grey, night=True)) for index, grey in enumerate(frames)]
    assert [(index, boxes) for index, boxes in moving if boxes] == []


def test_a_walker_after_the_switch_is_motion() -> None:
    # The same 10x40 px figure as above walking in once the picture has turned to night over 2 s.
    frames = faded(room_frames(56), 4, 10, to_night=True)
    detector = BackgroundMotionDetector(MotionConfig(), SIZE)
    found = 0
    for index, grey in enumerate(frames):
        picture = with_walker(grey, index) if index >= 16 else grey
        boxes = detector.detect(picture, night=True)
        assert index >= 16 or boxes == []
        found += bool(boxes)
    assert found >= 8


@pytest.mark.parametrize("shape", [(90, 160), (91, 161), (108, 192), (7, 9), (4, 4)])
def test_the_parts_medians_are_numpys_medians(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0])
    for spread in (255, 6, 0):
        change = rng.integers(-spread, spread + 1, size=shape).astype(np.int16)
        expected = [
            float(np.median(part))
            for band in np.array_split(change, 4, axis=0)
            for part in np.array_split(band, 4, axis=1)
        ]
        assert cell_medians(change, 4).tolist() == expected
