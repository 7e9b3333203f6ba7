"""Grey (infrared) frames are told from colour ones, and their crops get contrast evened out for the detector."""

from __future__ import annotations

import cv2
import numpy as np

from events.footage import frames
from homewarden.camera.infrared import equalised, is_grey


def test_an_infrared_picture_is_grey_and_a_colour_one_is_not() -> None:
    # A real scene (the demo room built from real photos, with sensor noise), in colour and as an IR camera sends it.
    colour = next(iter(frames([], 1.0, seed=3)))
    colour_bgr = cv2.cvtColor(colour, cv2.COLOR_RGB2BGR)
    infrared = cv2.cvtColor(cv2.cvtColor(colour_bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert not is_grey(colour_bgr)
    assert is_grey(infrared)


def test_a_grey_room_with_one_coloured_coat_is_not_grey() -> None:
    room = np.full((360, 640, 3), 90, dtype=np.uint8)
    room[150:270, 300:340] = (0, 0, 255)
    assert not is_grey(room)


def test_a_dark_flat_crop_gets_its_contrast_back() -> None:
    rng = np.random.default_rng(1)
    dark = np.clip(rng.normal(25, 3, (240, 240)), 0, 255).astype(np.uint8)
    dark[60:200, 100:140] += 12  # a figure a little brighter than the night around it
    crop = cv2.cvtColor(dark, cv2.COLOR_GRAY2BGR)
    out = equalised(crop)
    assert out.shape == crop.shape
    assert (out[..., 0] == out[..., 2]).all()
    figure, around = out[60:200, 100:140, 0].mean(), out[:, :60, 0].mean()
    assert figure - around > 2 * (dark[60:200, 100:140].mean() - dark[:, :60].mean())
