"""A camera's burnt-in clock is learnt from its text-like pixels and its changes; scenery and people are not."""

from __future__ import annotations

from datetime import datetime, timedelta

import cv2
import numpy as np
import numpy.typing as npt

from camera.test_interlaced import one_by_one_frames
from homewarden.motion.overlay import CHANGES, BurntInText

# The one-by-one clip's empty room (0.5 s in).
ROOM_FRAME = 5
ANALYSED_FPS = 5
START = datetime(2024, 12, 7, 11, 13, 0)


def draw_text(picture: npt.NDArray[np.uint8], text: str, origin: tuple[int, int]) -> None:
    """Draw white text edged in black, as IP cameras draw their overlays (0.7 scale: about 15 px high at 432 lines)."""
    for colour, thickness in (((0, 0, 0), 4), ((255, 255, 255), 1)):
        cv2.putText(picture, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour, thickness, cv2.LINE_AA)


def clocked(room: npt.NDArray[np.uint8], seconds: float, origin: tuple[int, int] = (12, 30)) -> npt.NDArray[np.uint8]:
    """Return the room with a camera's date and time at `origin` (whole seconds) and its name bottom-right."""
    picture = room.copy()
    draw_text(picture, (START + timedelta(seconds=int(seconds))).strftime("%Y-%m-%d %a %H:%M:%S"), origin)
    draw_text(picture, "Camera 01", (600, 408))
    return picture


def grey(picture: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Return a BGR picture's grey."""
    return np.asarray(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def learnt(pictures: list[npt.NDArray[np.uint8]]) -> BurntInText:
    """Return what is learnt from analysed frames, one picture each."""
    text = BurntInText()
    for picture in pictures:
        text.observe(grey(picture))
    return text


def room() -> npt.NDArray[np.uint8]:
    """Return the one-by-one clip's empty room."""
    return one_by_one_frames(ROOM_FRAME, ROOM_FRAME)[0]


def test_a_clock_is_learnt_as_a_line_along_the_top_edge() -> None:
    text = learnt([clocked(room(), step / ANALYSED_FPS) for step in range(15 * ANALYSED_FPS)])

    # The clock's text spans about 12-318 px across and 15-35 px down; the camera's name is a line too.
    [clock] = [line for line in text.lines if line.box[1] < 100]
    x1, y1, x2, y2 = clock.box
    assert x1 <= 14
    assert y1 <= 14
    assert x2 >= 318
    assert 36 <= y2 < y1 + 60
    assert not clock.changing


def test_motion_in_a_clock_is_ignored_once_it_has_changed_there_a_few_times() -> None:
    text = learnt([clocked(room(), step / ANALYSED_FPS) for step in range(15 * ANALYSED_FPS)])
    digit_changing = (288, 10, 317, 43)

    # Kept while the line is learnt (one change a second: a clock's tens of seconds, as motion sees them).
    assert [text.without_text_changes(20.0 + second, [digit_changing]) for second in range(CHANGES)] == [
        [digit_changing]
    ] * CHANGES
    assert text.without_text_changes(30.0, [digit_changing]) == []
    # A visitor whose motion reaches out of the line is motion as ever, clock or not.
    visitor_near = (280, 10, 420, 300)
    assert text.without_text_changes(31.0, [digit_changing, visitor_near]) == [visitor_near]


def test_changes_closer_than_a_second_count_once() -> None:
    text = learnt([clocked(room(), step / ANALYSED_FPS) for step in range(15 * ANALYSED_FPS)])
    digit_changing = (288, 10, 317, 43)
    for moment in (20.0, 20.2, 20.4, 20.6, 20.8):
        assert text.without_text_changes(moment, [digit_changing]) == [digit_changing]


def test_the_room_alone_learns_no_line() -> None:
    assert learnt([room()] * (15 * ANALYSED_FPS)).lines == []


def test_text_in_the_middle_of_the_picture_is_not_learnt() -> None:
    # A poster or a screen where people walk is no camera overlay.
    text = learnt([clocked(room(), step / ANALYSED_FPS, origin=(200, 220)) for step in range(15 * ANALYSED_FPS)])
    assert all(line.box[1] > 300 for line in text.lines)  # the name at the bottom only


def test_a_straight_edge_between_bright_and_dark_is_no_text() -> None:
    # A white wall under a black beam along the top edge: text-like pixels on a line, but one part, no glyphs.
    picture = np.full((432, 768, 3), 235, dtype=np.uint8)
    picture[:20] = 10
    assert learnt([picture] * (15 * ANALYSED_FPS)).lines == []
