"""Read a source into the recorder (every packet) and the analyser (frames at the detect rate)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any, Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.video.fields import uncombed, uncombed_i420
from homewarden.video.recorder import BufferedFrame, BufferedItem
from homewarden.video.source import VideoSource

# OpenCV's I420 conversion reads the limited ("tv") range, luma 16-235 and chroma 16-240. Many IP cameras send the
# full ("pc") range, 0-255: read as limited, its shadows below 16 turn black, its highlights above 235 white, and the
# contrast is stretched by a sixth. Such planes are first mapped into the limited range, each level through a table.
FULL_RANGE = 2
LUMA_TO_LIMITED = np.round(16 + np.arange(256) * 219 / 255).astype(np.uint8)
CHROMA_TO_LIMITED = np.round(128 + (np.arange(256) - 128) * 224 / 255).astype(np.uint8)


def limited_range(yuv: npt.NDArray[np.uint8], height: int) -> npt.NDArray[np.uint8]:
    """Return full-range I420 planes (luma rows first, then chroma) mapped into the limited range."""
    mapped = np.empty_like(yuv)
    cv2.LUT(yuv[:height], LUMA_TO_LIMITED, dst=mapped[:height])
    cv2.LUT(yuv[height:], CHROMA_TO_LIMITED, dst=mapped[height:])
    return mapped


class Sample:
    """One frame chosen for analysis; its pixels are converted only when a stage asks for them."""

    def __init__(self, time: float, frame: Any, size: tuple[int, int]) -> None:
        self.time = time
        self._frame = frame
        self._size = size
        self._yuv: npt.NDArray[np.uint8] | None = None
        self._grey: npt.NDArray[np.uint8] | None = None
        self._bgr: npt.NDArray[np.uint8] | None = None
        self._full_bgr: npt.NDArray[np.uint8] | None = None
        # An interlaced picture is analysed uncombed (video/fields.py): combed movers are not what they are.
        self._interlaced = bool(getattr(frame, "interlaced_frame", False))

    @property
    def full_size(self) -> tuple[int, int]:
        """Return the frame's own size (width, height), as the camera sent it."""
        return int(self._frame.width), int(self._frame.height)

    def full_crop(self, box: tuple[int, int, int, int]) -> npt.NDArray[np.uint8]:
        """Return BGR pixels of a box (x1 y1 x2 y2) of the frame at the camera's full resolution."""
        if self.full_size == self._size:
            x1, y1, x2, y2 = box
            return self.image[y1:y2, x1:x2]
        planar = self._planar()
        if planar is None:
            x1, y1, x2, y2 = box
            return self._whole_bgr()[y1:y2, x1:x2]
        # Only the crop is converted: a 4K frame made BGR whole would cost more than the detector call it feeds.
        # Chroma is at half resolution, so the crop is widened to even edges and trimmed back after.
        x1, y1, x2, y2 = box
        ex1, ey1, ex2, ey2 = x1 - x1 % 2, y1 - y1 % 2, x2 + x2 % 2, y2 + y2 % 2
        width, height = self.full_size
        luma = planar[:height]
        chroma = planar[height:].reshape(2, height // 2, width // 2)
        crop_w, crop_h = ex2 - ex1, ey2 - ey1
        i420 = np.empty((crop_h * 3 // 2, crop_w), dtype=np.uint8)
        i420[:crop_h] = luma[ey1:ey2, ex1:ex2]
        quarter = i420[crop_h:].reshape(2, crop_h // 2, crop_w // 2)
        quarter[:] = chroma[:, ey1 // 2 : ey2 // 2, ex1 // 2 : ex2 // 2]
        bgr = cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)
        return cast(npt.NDArray[np.uint8], bgr[y1 - ey1 : y1 - ey1 + (y2 - y1), x1 - ex1 : x1 - ex1 + (x2 - x1)])

    def _planar(self) -> npt.NDArray[np.uint8] | None:
        # Most cameras deliver yuv420p: its luma plane is the grey picture, and one OpenCV call makes BGR,
        # several times cheaper than a general swscale conversion.
        frame = self._frame
        if frame.format.name not in ("yuv420p", "yuvj420p") or frame.width % 2 or frame.height % 2:
            return None
        if self._yuv is None:
            yuv: npt.NDArray[np.uint8] = frame.to_ndarray(format=frame.format.name)
            if frame.format.name == "yuvj420p" or getattr(frame, "color_range", 0) == FULL_RANGE:
                yuv = limited_range(yuv, frame.height)
            self._yuv = uncombed_i420(yuv, frame.width, frame.height) if self._interlaced else yuv
        return self._yuv

    def _whole_bgr(self) -> npt.NDArray[np.uint8]:
        """Return the whole frame as BGR at the camera's resolution (uncombed, if interlaced)."""
        if self._full_bgr is None:
            bgr = cast(npt.NDArray[np.uint8], self._frame.to_ndarray(format="bgr24"))
            self._full_bgr = uncombed(bgr) if self._interlaced else bgr
        return self._full_bgr

    def _fit(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        if (pixels.shape[1], pixels.shape[0]) == self._size:
            return pixels
        return cast(npt.NDArray[np.uint8], cv2.resize(pixels, self._size, interpolation=cv2.INTER_AREA))

    @property
    def grey(self) -> npt.NDArray[np.uint8]:
        """Return the frame as grey pixels at the detect size."""
        if self._grey is None:
            planar = self._planar()
            if planar is not None:
                self._grey = self._fit(planar[: self._frame.height])
            else:
                self._grey = cast(npt.NDArray[np.uint8], cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY))
        return self._grey

    @property
    def image(self) -> npt.NDArray[np.uint8]:
        """Return the frame as BGR pixels at the detect size."""
        if self._bgr is None:
            planar = self._planar()
            if planar is not None:
                self._bgr = self._fit(cast(npt.NDArray[np.uint8], cv2.cvtColor(planar, cv2.COLOR_YUV2BGR_I420)))
            elif self._interlaced:
                # Scaled only once uncombed: scaling first would blend the two fields' rows.
                self._bgr = self._fit(self._whole_bgr())
            else:
                width, height = self._size
                self._bgr = cast(
                    npt.NDArray[np.uint8], self._frame.to_ndarray(width=width, height=height, format="bgr24")
                )
        return self._bgr


class FramePacer:
    """Pick frames at a steady rate from a stream of any frame rate."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps
        self._next: float | None = None

    def due(self, at: float) -> bool:
        """Tell whether the frame at this time should be analysed."""
        # Half a frame of slack keeps a 10 fps source analysed at exactly 5 fps despite rounded timestamps.
        if self._next is not None and at < self._next - self.interval / 2:
            return False
        self._next = max((self._next or at) + self.interval, at + self.interval / 2)
        return True

    def reset(self) -> None:
        """Start over (the stream restarted)."""
        self._next = None


def read_samples(
    source: VideoSource,
    recorder: RecorderSink,
    pacer: FramePacer,
    detect_size: tuple[int, int],
    stop: threading.Event | None = None,
    realtime: bool = False,
    abandon: threading.Event | None = None,
) -> Iterator[Sample]:
    """Yield the frames to analyse, feeding every packet (or frame) to the recorder; stop or abandon end it."""
    started = time.monotonic()
    first: float | None = None

    def wait_until_due(at: float) -> None:
        nonlocal first
        first = at if first is None else first
        delay = (at - first) - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)

    for packet, raw in source.packets():
        if (stop is not None and stop.is_set()) or (abandon is not None and abandon.is_set()):
            return
        if packet.audio:
            recorder.add(packet)  # sound is copied or converted by the clip writer: never decoded here
            continue
        if not recorder.encodes:
            recorder.add(packet)
        for frame in source.decode(raw):
            at = source.frame_time(frame)
            if recorder.encodes:
                recorder.add(BufferedFrame(frame, at))
            if realtime:
                wait_until_due(at)
            if pacer.due(at):
                yield Sample(at, frame, detect_size)
    for frame in source.flush():
        at = source.frame_time(frame)
        if recorder.encodes:
            recorder.add(BufferedFrame(frame, at))
        # The decoder holds the last frames back until the end: played in real time they too wait for their time,
        # or a looping file would start its next pass before the last one's times had passed.
        if realtime:
            wait_until_due(at)
        if pacer.due(at):
            yield Sample(at, frame, detect_size)


class RecorderSink(Protocol):
    """Where read_samples puts every packet (or decoded frame) of the stream: the clip recorder."""

    @property
    def encodes(self) -> bool:
        """Tell whether frames (True) or packets (False) are recorded."""
        ...

    def add(self, item: BufferedItem) -> None:
        """Take the stream's next packet or frame."""
        ...


class HeldForRecorder:
    """Hold what the reader gives the recorder until the analysis reaches the frame it came with."""

    def __init__(self, recorder: RecorderSink) -> None:
        self.encodes = recorder.encodes
        self.items: list[BufferedItem] = []

    def add(self, item: BufferedItem) -> None:
        """Keep the stream's next packet or frame for the recorder."""
        self.items.append(item)

    def take(self) -> list[BufferedItem]:
        """Return what was kept since the last call."""
        items, self.items = self.items, []
        return items


# Frames a file's reader decodes ahead of the analysis: enough to keep decoding busy through a detector call (a few
# frames' time), few enough that 4K frames do not pile up (each about 25 MB with its converted planes).
READ_AHEAD = 4
IDLE_PUT = 0.1
Handoff = tuple[list[BufferedItem], Sample | None] | BaseException


def read_ahead(
    source: VideoSource,
    recorder: RecorderSink,
    pacer: FramePacer,
    detect_size: tuple[int, int],
    stop: threading.Event | None = None,
    realtime: bool = False,
    depth: int = READ_AHEAD,
) -> Generator[Sample, None, None]:
    """Yield what read_samples yields, read, decoded and turned grey by another thread up to `depth` frames ahead.

    Decoding and pixel conversion run outside the GIL, so on a second core they overlap the analysis of the frames
    before. The recorder gets every packet on this thread, in the same order and at the same points between frames
    as read_samples gives them: a clip ends where it would without the thread. Whatever the reader raises is raised
    here; closing this generator stops the reader and waits for it, so the source can be closed after.
    """
    handoff: queue.Queue[Handoff] = queue.Queue(maxsize=depth)
    held = HeldForRecorder(recorder)
    done = threading.Event()

    def hand(item: Handoff) -> bool:
        while not done.is_set():
            try:
                handoff.put(item, timeout=IDLE_PUT)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for sample in read_samples(source, held, pacer, detect_size, stop, realtime):
                sample.grey  # noqa: B018 - converted here, in the reader's thread, and kept
                if not hand((held.take(), sample)):
                    return
            hand((held.take(), None))
        except BaseException as exc:  # handed to the analysis, which raises it as its own
            hand(exc)

    reader = threading.Thread(target=read, name="file-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if isinstance(item, BaseException):
                raise item
            items, sample = item
            for packet in items:
                recorder.add(packet)
            if sample is None:
                return
            yield sample
    finally:
        done.set()
        reader.join()


class LatestSample:
    """A one-slot mailbox: the newest frame replaces an unread one, which is counted as dropped."""

    def __init__(self) -> None:
        self._sample: Sample | None = None
        self._condition = threading.Condition()
        self.dropped = 0
        self.closed = False

    def put(self, sample: Sample) -> None:
        """Offer a frame without ever blocking the reader."""
        with self._condition:
            if self._sample is not None:
                self.dropped += 1
            self._sample = sample
            self._condition.notify()

    def get(self, timeout: float) -> Sample | None:
        """Take the newest frame, waiting up to timeout seconds."""
        with self._condition:
            if self._sample is None and not self.closed:
                self._condition.wait(timeout)
            sample, self._sample = self._sample, None
            return sample

    def close(self) -> None:
        """Tell the reader side has finished."""
        with self._condition:
            self.closed = True
            self._condition.notify()
