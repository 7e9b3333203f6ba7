"""Text a camera burns into its picture (a clock, its name), learnt from pixels that stay text-like."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.detect.base import box_iou

Box = tuple[int, int, int, int]
Image = npt.NDArray[np.uint8]

# Camera overlays are drawn to read on any background: white (or light) strokes edged in black. A pixel is text-like
# when it is at least BRIGHT and a pixel at most DARK lies within TEXT_REACH pixels of it (the stroke's edge). Bright
# scenery beside dark scenery is text-like too (a window frame on a white wall); what sets text apart is that it never
# moves (PERSISTENCE) and that it comes in glyphs along a line (MIN_GLYPHS).
BRIGHT = 190
DARK = 60
TEXT_REACH = 2
# How much each analysed frame adds to a pixel's persistence (an exponential mean of being text-like), and the
# persistence from which it is part of the overlay: at 5 frames a second, a pixel text-like on every frame gets there in
# about 9 s; a clock's changing digits share most of their strokes with the digits before and after them, and the line
# around them is closed over them (LINE_GAP).
PERSISTENCE_RATE = 0.02
PERSISTENT = 0.6
# Lines are looked for again every this many analysed frames, once LEARNT_AFTER frames have been seen.
REFRESH_EVERY = 25
LEARNT_AFTER = 50
# A line of text: glyphs joined across gaps up to LINE_GAP of the picture's height, no taller than MAX_LINE_HEIGHT of
# the picture (IP cameras draw their clock 2-5 % of it), at least twice as wide as tall, made of at least MIN_GLYPHS
# separate glyph parts (a straight edge between bright and dark scenery is one).
LINE_GAP = 1 / 30
MAX_LINE_HEIGHT = 0.08
MIN_GLYPHS = 4
MIN_LINE_PIXELS = 30
# Text has a glyph part at least every GLYPH_SPACING line heights along the line (a clock's line of 20 characters, 24 px
# high and 303 px wide, has 30); parked cars seen from above, road markings and window frames, which can pass the tests
# above in a busy scene, have far fewer.
GLYPH_SPACING = 2.0
# Cameras draw their text along the picture's top or bottom edge: a line must lie within this share of the picture's
# height from one of them. Where people walk, in the middle of the picture, nothing is learnt.
EDGE_BAND = 0.2
# Motion of a changing digit reaches past its line: the motion model works on a downscaled picture and dilates what
# moves (about 10 px at 432 lines for the clock of docs/benchmarks.md's variant `o`, whose line is 24 px high). A line
# is grown by this share of its height on every side; motion wholly inside a grown line is the overlay changing.
MARGIN = 0.6
# A line is the overlay only once motion wholly inside it has come at this many moments, at least CHANGE_SPACING
# seconds apart: a clock changes every second, and the motion model sees its tens of seconds change (every 10 s on
# variant `o`). Text-like scenery along an edge (white cars with dark windows seen from above) is still; a line is
# learnt from what changes in it, not from its look alone.
CHANGES = 3
CHANGE_SPACING = 0.9
# Two lines found at different times are the same line when they overlap this much.
SAME_LINE_IOU = 0.5


@dataclass
class TextLine:
    """A line of text-like pixels along an edge, and the moments motion came wholly inside it."""

    box: Box
    changes: list[float] = field(default_factory=list)

    @property
    def changing(self) -> bool:
        """Tell whether the line changes as a camera's clock does."""
        return len(self.changes) >= CHANGES

    def holds(self, box: Box) -> bool:
        """Tell whether a box lies wholly inside the line."""
        x1, y1, x2, y2 = box
        lx1, ly1, lx2, ly2 = self.box
        return lx1 <= x1 and ly1 <= y1 and x2 <= lx2 and y2 <= ly2


class BurntInText:
    """Learn where a camera draws text into its picture that changes (a clock); tell motion that is only that."""

    def __init__(self) -> None:
        self._persistence: npt.NDArray[np.float32] | None = None
        self._frames = 0
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * TEXT_REACH + 1, 2 * TEXT_REACH + 1))
        self.lines: list[TextLine] = []

    def observe(self, grey: Image) -> None:
        """Add an analysed frame's grey picture (detect size) to what is known of the overlay."""
        if self._persistence is None or self._persistence.shape != grey.shape:
            self._persistence = np.zeros(grey.shape, dtype=np.float32)
            self._frames = 0
            self.lines = []
        # Only the bands where a line can be (its top in the top band, or its bottom in the bottom one) are read.
        height = grey.shape[0]
        band = min(height, math.ceil((EDGE_BAND + MAX_LINE_HEIGHT) * height))
        for rows in (slice(0, band), slice(max(band, height - band), height)):
            part = grey[rows]
            text_like = np.logical_and(part >= BRIGHT, cv2.erode(part, self._kernel) <= DARK).view(np.uint8)
            # 0 or 1 per pixel: the persistence runs from 0 to 1.
            cv2.accumulateWeighted(text_like, self._persistence[rows], PERSISTENCE_RATE)
        self._frames += 1
        if self._frames >= LEARNT_AFTER and self._frames % REFRESH_EVERY == 0:
            # A line found again keeps the changes seen in it (each earlier line goes to one line found now at most).
            earlier, self.lines = self.lines, []
            for box in self._find_lines(grey.shape[0]):
                same = next((line for line in earlier if box_iou(line.box, box) >= SAME_LINE_IOU), None)
                if same is None:
                    self.lines.append(TextLine(box))
                else:
                    earlier.remove(same)
                    self.lines.append(TextLine(box, same.changes))

    def _find_lines(self, height: int) -> list[Box]:
        assert self._persistence is not None
        stable = (self._persistence >= PERSISTENT).view(np.uint8)
        gap = max(3, round(height * LINE_GAP))
        joined = cv2.morphologyEx(stable, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 3)))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined)
        _, glyph_labels = cv2.connectedComponents(stable)
        lines: list[Box] = []
        for index in range(1, count):
            x, y, w, h, area = (int(value) for value in stats[index])
            if h > MAX_LINE_HEIGHT * height or w < 2 * h or area < MIN_LINE_PIXELS:
                continue
            if y > EDGE_BAND * height and y + h < (1 - EDGE_BAND) * height:
                continue
            glyphs = np.count_nonzero(np.unique(glyph_labels[labels == index]))
            if glyphs < max(MIN_GLYPHS, w / (GLYPH_SPACING * h)):
                continue
            margin = round(MARGIN * h)
            lines.append((x - margin, y - margin, x + w + margin, y + h + margin))
        return lines

    def without_text_changes(self, now: float, motion: list[Box]) -> list[Box]:
        """Return the motion boxes that are not a changing line of text changing (and learn from those that are)."""
        kept = []
        for box in motion:
            line = next((line for line in self.lines if line.holds(box)), None)
            if line is None:
                kept.append(box)
                continue
            if line.changing:
                continue
            if not line.changes or now - line.changes[-1] >= CHANGE_SPACING:
                line.changes.append(now)
            kept.append(box)
        return kept
