"""Motion by background subtraction (MOG2) on a downscaled grey frame, with polygon masks."""

from __future__ import annotations

import functools
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.config.model import MotionConfig

Box = tuple[int, int, int, int]
Image = npt.NDArray[np.uint8]

# When most of the picture changes at once it is light (a lamp, the sun, the camera's IR switch), not an
# intruder; the background is relearned instead of reporting the whole frame as motion.
LIGHTING_CHANGE_FRACTION = 0.6
WARMUP_FRAMES = 3
# Sensor noise, measured on the motion frame from one frame to the next as the mean absolute change of the 90 % of
# pixels that change least (what moves is in the other 10 %): fixed cameras by day measure 0.1-1.1 levels; an infrared
# picture at night (grey, dark, gain up: sigma 6 at full size) 2.9-3.7. Above NOISY_LEVEL the frame is treated as
# noisy: two frames are averaged before the background model sees them. Keeping blobs thinner than 3 pixels on clean
# frames (no opening) was tried: it found more distant walkers but changed which crops the detector saw enough to
# label a whole visit of the one-by-one clip `cat` (docs/benchmarks.md), so every frame is still opened.
NOISY_LEVEL = 2.0
NOISE_QUANTILE = 0.9
NOISE_SMOOTHING = 0.2
# On a night (grey, infrared) picture a small visitor is a few pixels at a third of the day's contrast: at 180 lines
# the opening and the noise averaging leave nothing of a 30 px figure walking in. A second model at this many times
# the motion frame's lines runs beside the first at night. By day its finer boxes would only cost detector calls: a
# colour picture never uses it.
NIGHT_FINER = 2
# A finer box is motion only once the same place has moved on this many frames running (each box overlapping one of
# the frame before), and only where the coarse model sees nothing: sensor noise, a far walker's two-frame flicker and
# the recorder's clock (which the coarse model sees too) cost detector calls, a visitor walking in lasts (docs/
# benchmarks.md, night16c).
NIGHT_LASTING = 3
# A camera switching between colour and infrared (or its exposure settling after the switch, or a cloud) brightens or
# darkens the whole picture over a second or two: each frame, the median pixel of nearly every part of the picture
# shifts the same way, while noise leaves it where it was and a walker, even one near the camera filling half of the
# picture, moves it in only some parts. A frame where at least LIGHT_CELLS of the SHIFT_GRID x SHIFT_GRID parts moved
# more than LIGHT_SHIFT levels the same way since the frame before is light changing, and the background is relearned
# from it; under LIGHTING_CHANGE_FRACTION of the picture differs on any one frame of such a fade, so without this its
# frames were motion all over (docs/benchmarks.md, switch16: 27-45 detector calls in the 6 s after a 2 s switch, and
# the visitor after dawn lost to a still track the burst left behind). Every SHIFT_SAMPLE_STEP-th pixel each way.
LIGHT_SHIFT = 2.0
SHIFT_GRID = 4
LIGHT_CELLS = 13
SHIFT_SAMPLE_STEP = 2
# A change between two 8-bit pictures lies in -255..255.
CHANGE_LEVELS = 511


class BackgroundMotionDetector:
    """Report boxes (in frame pixels) around regions that differ from a learned background."""

    def __init__(self, config: MotionConfig, frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        self.config = config
        self.scale = config.frame_height / height if height > config.frame_height else 1.0
        self.small_size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        self._subtractor = self._new_subtractor()
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        self._speck_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._mask = self._build_mask(frame_size)
        self._frames = 0
        self._previous: Image | None = None
        # Until measured, a frame is taken as noisy: the behaviour before noise was measured.
        self.noise_level: float | None = None
        self.frame_size = frame_size
        self._finer: BackgroundMotionDetector | None = None
        self._runs: list[tuple[Box, int]] = []
        # Whether the last frame's light changed (the background was relearned from it).
        self.light_changed = False

    def _new_subtractor(self) -> cv2.BackgroundSubtractorMOG2:
        return cv2.createBackgroundSubtractorMOG2(
            history=500, varThreshold=float(self.config.threshold), detectShadows=False
        )

    def _build_mask(self, frame_size: tuple[int, int]) -> Image | None:
        if not self.config.mask:
            return None
        mask = np.full((self.small_size[1], self.small_size[0]), 255, dtype=np.uint8)
        for polygon in self.config.mask:
            points = np.array([[x * self.scale, y * self.scale] for x, y in polygon], dtype=np.int32)
            cv2.fillPoly(mask, [points], 0)
        return mask

    def detect(self, frame_grey: Image, night: bool = False) -> list[Box]:
        """Return motion boxes for the next grey frame, in the frame's own pixels (and lasting finer ones at night)."""
        boxes = self._boxes(frame_grey)
        if not night:
            self._finer = None
            return boxes
        if self._finer is None:
            finer = self.config.model_copy(update={"frame_height": self.config.frame_height * NIGHT_FINER})
            self._finer = BackgroundMotionDetector(finer, self.frame_size)
            self._runs = []
        finer_boxes = self._finer._boxes(frame_grey)
        # How many frames running each finer box's place has moved.
        runs = [1 + max((run for seen, run in self._runs if _touch(seen, box)), default=0) for box in finer_boxes]
        self._runs = list(zip(finer_boxes, runs, strict=True))
        lasting = [
            box for box, run in self._runs if run >= NIGHT_LASTING and not any(_touch(box, coarse) for coarse in boxes)
        ]
        return boxes + lasting

    def _boxes(self, frame_grey: Image) -> list[Box]:
        """Return the boxes of this model's motion for the next grey frame."""
        small = cast(Image, cv2.resize(frame_grey, self.small_size, interpolation=cv2.INTER_LINEAR))
        self.light_changed = False
        previous, self._previous = self._previous, small
        if previous is not None:
            self._measure_noise(previous, small)
            if self._frames >= WARMUP_FRAMES and _light_changed(previous, small):
                self._relearn(cv2.GaussianBlur(small, (5, 5), 0))
                return []
        noisy = self.noisy
        if noisy and previous is not None:
            # A temporal mean of two frames halves the variance of sensor noise; a walker moves a few pixels.
            small = cast(Image, cv2.addWeighted(small, 0.5, previous, 0.5, 0.0))
        grey = cv2.GaussianBlur(small, (5, 5), 0)
        self._frames += 1
        rate = 1.0 if self._frames <= 1 else (0.2 if self._frames <= WARMUP_FRAMES else self.config.learning_rate)
        foreground = self._subtractor.apply(grey, learningRate=rate)
        if self._frames <= WARMUP_FRAMES:
            return []
        if self._mask is not None:
            foreground = cv2.bitwise_and(foreground, self._mask)
        # Opening first removes the single-pixel sparkle of sensor noise and compression; dilating
        # then joins the parts of one moving body into one blob.
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, self._speck_kernel)
        foreground = cv2.dilate(foreground, self._kernel, iterations=2)
        if cv2.countNonZero(foreground) > LIGHTING_CHANGE_FRACTION * foreground.size:
            self._relearn(grey)
            return []
        contours, _ = cv2.findContours(foreground, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[Box] = []
        inverse = 1.0 / self.scale
        for contour in contours:
            if cv2.contourArea(contour) < self.config.contour_area:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((round(x * inverse), round(y * inverse), round((x + w) * inverse), round((y + h) * inverse)))
        return boxes

    def _relearn(self, grey: npt.NDArray[Any]) -> None:
        """Start the background over from this (blurred) frame: the light changed."""
        self.light_changed = True
        self._subtractor = self._new_subtractor()
        self._subtractor.apply(grey, learningRate=1.0)

    @property
    def noisy(self) -> bool:
        """Tell whether the picture's sensor noise is high enough to average two frames."""
        return self.noise_level is None or self.noise_level > NOISY_LEVEL

    def _measure_noise(self, previous: Image, current: Image) -> None:
        change = cv2.absdiff(previous, current)
        counts = cv2.calcHist([change], [0], None, [256], [0, 256]).ravel()
        cumulative = np.cumsum(counts)
        # The mean of the NOISE_QUANTILE of pixels that changed least, read off the histogram (cheap at any size).
        kept = NOISE_QUANTILE * cumulative[-1]
        last = int(np.searchsorted(cumulative, kept))
        levels = np.arange(last + 1, dtype=np.float64)
        weights = counts[: last + 1].astype(np.float64)
        weights[-1] -= cumulative[last] - kept
        level = float((levels * weights).sum() / kept) if kept > 0 else 0.0
        if self.noise_level is None:
            self.noise_level = level
        else:
            self.noise_level += NOISE_SMOOTHING * (level - self.noise_level)


def _light_changed(previous: Image, current: Image) -> bool:
    """Tell whether nearly every part of the picture brightened, or darkened, since the frame before."""
    step = SHIFT_SAMPLE_STEP
    change = current[::step, ::step].astype(np.int16) - previous[::step, ::step].astype(np.int16)
    shifts = cell_medians(change, SHIFT_GRID)
    brighter = int(np.count_nonzero(shifts > LIGHT_SHIFT))
    darker = int(np.count_nonzero(shifts < -LIGHT_SHIFT))
    return max(brighter, darker) >= LIGHT_CELLS


def cell_medians(change: npt.NDArray[np.int16], grid: int) -> npt.NDArray[np.float64]:
    """Return the median of each of grid x grid parts of a change picture (parts as np.array_split cuts them)."""
    # One histogram per part, all from one bincount: np.median called per part cost more than the rest of the
    # motion step (16 calls a frame); the middle values are read off the cumulative counts, exactly as np.median.
    cells = grid * grid
    counts = np.bincount((_cell_offsets(change.shape, grid) + change).ravel(), minlength=cells * CHANGE_LEVELS)
    cumulative = counts.reshape(cells, CHANGE_LEVELS).cumsum(axis=1)
    sizes = cumulative[:, -1:]
    low = np.count_nonzero(cumulative <= (sizes - 1) // 2, axis=1)
    high = np.count_nonzero(cumulative <= sizes // 2, axis=1)
    return cast(npt.NDArray[np.float64], (low + high - 2 * 255) / 2)


@functools.lru_cache(maxsize=8)
def _cell_offsets(shape: tuple[int, ...], grid: int) -> npt.NDArray[np.intp]:
    """Return, per pixel, where its part's histogram starts in the joint bincount (shifted so -255 is 0)."""
    rows = np.repeat(np.arange(grid), [len(part) for part in np.array_split(np.arange(shape[0]), grid)])
    columns = np.repeat(np.arange(grid), [len(part) for part in np.array_split(np.arange(shape[1]), grid)])
    offsets = (rows[:, None] * grid + columns[None, :]) * CHANGE_LEVELS + 255
    return offsets.astype(np.intp)


def _touch(a: Box, b: Box) -> bool:
    """Tell whether two boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
