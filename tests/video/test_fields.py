"""Interlaced pictures made whole: odd rows that comb against the even rows around them are filled in."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from homewarden.video.fields import uncombed, uncombed_i420

WIDTH, HEIGHT = 320, 240
# A bright bar moving this far between the two fields of a picture (a walker a field apart).
FIELD_SHIFT = 24
# comb() over the whole 320x240 picture: 12.9 on the woven bar as drawn and as x264 gives it back; under 0.2 once
# uncombed (what is left is the bar's own top and bottom edges).
COMBED = 8.0
CLEAN = 1.0


def comb(grey: npt.NDArray[np.uint8]) -> float:
    """Return how far odd rows stand from the mean of the rows around them (0 on a picture without combs)."""
    rows = grey.astype(np.float32)
    between = (rows[0:-2:2] + rows[2::2]) / 2
    return float(np.abs(rows[1:-1:2][: len(between)] - between).mean())


def woven(shift: int) -> npt.NDArray[np.uint8]:
    """Return a grey-room BGR picture with a bright bar whose bottom field is `shift` px right of its top field."""
    top = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
    bottom = top.copy()
    top[60:180, 100:140] = 230
    bottom[60:180, 100 + shift : 140 + shift] = 230
    picture = top.copy()
    picture[1::2] = bottom[1::2]
    return picture


def test_combs_are_filled_in_from_the_top_field_and_still_detail_is_kept() -> None:
    ramp = (np.arange(7 * 4, dtype=np.uint8).reshape(7, 4) * 8)[..., None].repeat(3, axis=2)
    assert np.array_equal(uncombed(ramp), ramp)  # a smooth ramp has no teeth
    combed = woven(FIELD_SHIFT)
    whole = uncombed(combed)
    assert comb(combed[..., 0]) > COMBED
    assert comb(whole[..., 0]) < CLEAN
    assert np.array_equal(whole[0::2], combed[0::2])  # the top field itself is kept as it was
    # The bar as the top field drew it, in both fields: the bottom field's copy 24 px to the right is gone.
    assert (whole[62:178, 100:140] == 230).all()
    assert (whole[62:178, 140:164] == 60).all()
    # Still detail drawn across both fields (a line two rows high, a wire or a kerb) is no comb: it stays.
    line = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
    line[100:102] = 230
    assert np.array_equal(uncombed(line), line)
    # A last odd row (an even height) is held against the row above it alone.
    tooth = np.full((4, 2), 60, np.uint8)
    tooth[3] = 230
    assert (uncombed(tooth)[3] == 60).all()


def test_each_plane_of_a_yuv420p_picture_is_uncombed_on_its_own() -> None:
    luma = np.zeros((4, 4), np.uint8)
    luma[1::2] = 200
    u = np.array([[10, 10], [90, 90]], np.uint8)
    v = np.array([[20, 20], [100, 100]], np.uint8)
    planar = np.concatenate([luma, u.reshape(1, 4), v.reshape(1, 4)])  # PyAV's layout: 6 rows of 4
    field = uncombed_i420(planar, 4, 4)
    assert np.array_equal(field[:4], np.zeros((4, 4), np.uint8))
    assert np.array_equal(field[4:].reshape(2, 2, 2)[0], np.array([[10, 10], [10, 10]], np.uint8))
    assert np.array_equal(field[4:].reshape(2, 2, 2)[1], np.array([[20, 20], [20, 20]], np.uint8))
    assert np.array_equal(planar[:4, 0], [0, 200, 0, 200])  # the decoded picture itself is left as it was
