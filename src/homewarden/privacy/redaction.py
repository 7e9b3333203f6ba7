"""Make the copy of a clip a reviewer may see: every face blurred in every frame, no sound, no metadata.

Faces are found with dlib's HOG detector every ``FACE_INTERVAL`` seconds and people with the object detector every
``PERSON_INTERVAL`` seconds. Each finding joins a track, and a track's box is interpolated between its sightings and
held for ``LEAD_SECONDS`` before the first and ``HOLD_SECONDS`` after the last, so a face cannot flicker into view
between two searches. Faces are pixelated to ``PIXELATE_BLOCKS`` blocks across a generously dilated box: the detail
is averaged away, not hidden, so no detector or person can bring it back. The head of every person the object
detector finds is pixelated too (it catches heads seen from the side or behind that HOG misses), and with
``mask_people`` the whole person is filled solid.

The copy is a new H.264 stream (yuv420p, +faststart) in a new MP4: nothing of the source's container, its audio,
subtitles, data streams or metadata is carried over.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import math
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from homewarden.config.model import NanoDetConfig
from homewarden.detect import ObjectDetector, create_detector
from homewarden.faces.dlib_models import load_face_models
from homewarden.video.fields import uncombed_i420

Image = npt.NDArray[np.uint8]
# Frames are kept as the encoder takes them: I420, the Y plane (h rows) then U and V (h / 4 rows each, w wide).
I420Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]

# Reviewers need no more than 720p; larger sources are scaled down to this width (and encode faster).
MAX_WIDTH = 1280
# Seconds between searches. HOG is the main cost (about 65 ms on a 1280x720 frame, 37 ms at 960x540); at
# these intervals a walking face moves well within the dilation, and interpolation follows it in between.
FACE_INTERVAL = 0.2
PERSON_INTERVAL = 0.4
# A track is drawn this long before its first and after its last sighting: a face turning towards the camera
# is recognisable a moment before HOG is sure of it. Both must be at least the longest search interval.
LEAD_SECONDS = 0.6
HOLD_SECONDS = 0.6
# HOG searches a copy scaled so that its width is about this (small sources are enlarged so faces from about
# 40 px are found, large ones searched as they are so faces from 80 px are), and with a lower threshold than
# dlib's default: a false face costs a blurred patch, a missed one a person's privacy.
FACE_SEARCH_WIDTH = 960
MAX_FACE_SEARCH_SCALE = 2.0
HOG_THRESHOLD_ADJUST = -0.3
PERSON_MIN_SCORE = 0.25
# Face boxes from HOG run from the eyebrows to the chin: widen them 1.6 x and reach up for forehead and hair.
FACE_WIDEN = 1.6
FACE_UP, FACE_DOWN = 0.6, 0.25
# A person's head: the top 28 % of a standing person's box, or more of a close-up's (mostly head) box.
HEAD_DEPTH = 0.28
HEAD_DEPTH_PER_WIDTH = 0.6
HEAD_MARGIN_X, HEAD_MARGIN_UP = 0.15, 0.05
PERSON_DILATE = 0.08
# Held and interpolated boxes grow this fraction of their width per frame away from a sighting (at most
# MAX_HELD_GROWTH), and interpolated boxes by half the distance moved between the two sightings.
HELD_GROWTH_PER_FRAME = 0.03
MAX_HELD_GROWTH = 0.4
PIXELATE_BLOCKS = 8
MASK_COLOUR = (96, 96, 96)
# The same grey in limited-range luma (BT.601: 16 + 219 * level / 255), chroma neutral.
MASK_LUMA = round(16 + 219 * MASK_COLOUR[0] / 255)
X264_PRESET = "veryfast"
X264_CRF = "23"
MP4_OPTIONS = {"movflags": "+faststart", "fflags": "+bitexact"}
DEFAULT_FPS = 10.0
# Decoded frames waiting for their detections; bounds memory to about this many frames beyond the lag.
DECODE_QUEUE = 8


class RedactionError(Exception):
    """A clip that cannot be redacted (not a video, damaged, truncated); nothing was written."""


@dataclass(frozen=True)
class RedactedClip:
    """The redacted copy and what redaction did to it."""

    mp4: bytes
    frames: int
    faces_blurred: int  # face and head boxes drawn, over all frames
    people_masked: int  # person boxes filled, over all frames
    width: int
    height: int
    duration: float
    seconds_taken: float


@dataclass
class Track:
    """One face or person followed across searches: the frames it was seen in and its box there."""

    frames: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)

    def box_at(self, index: int, lead: int, hold: int) -> Box | None:
        """Return the box to draw in frame ``index``, or None when the track is not near it."""
        first, last = self.frames[0], self.frames[-1]
        if index < first:
            return _grow(self.boxes[0], first - index) if first - index <= lead else None
        if index > last:
            return _grow(self.boxes[-1], index - last) if index - last <= hold else None
        position = bisect.bisect_left(self.frames, index)
        if self.frames[position] == index:
            return self.boxes[position]
        before, after = self.frames[position - 1], self.frames[position]
        start, end = np.asarray(self.boxes[position - 1]), np.asarray(self.boxes[position])
        weight = (index - before) / (after - before)
        box = start + (end - start) * weight
        moved = np.abs(end - start) / 2
        return (box[0] - moved[0], box[1] - moved[1], box[2] + moved[2], box[3] + moved[3])


class Tracker:
    """Join each search's boxes to the tracks they continue, by overlap or nearness."""

    def __init__(self, lead: int, hold: int) -> None:
        self.lead, self.hold = lead, hold
        self.tracks: list[Track] = []

    def observe(self, index: int, boxes: list[Box]) -> None:
        """Add the boxes found in frame ``index`` (searched in frame order)."""
        live = [track for track in self.tracks if index - track.frames[-1] <= self.hold + self.lead]
        taken: set[int] = set()
        for box in sorted(boxes, key=_area, reverse=True):
            best, best_cost = None, math.inf
            for number, track in enumerate(live):
                if number in taken:
                    continue
                cost = _distance(track.boxes[-1], box)
                if cost < best_cost:
                    best, best_cost = number, cost
            if best is not None and best_cost < 1.0:
                taken.add(best)
                live[best].frames.append(index)
                live[best].boxes.append(box)
            else:
                self.tracks.append(Track([index], [box]))

    def boxes_at(self, index: int) -> list[Box]:
        """Return the boxes to draw in frame ``index``."""
        boxes = (track.box_at(index, self.lead, self.hold) for track in self.tracks)
        return [box for box in boxes if box is not None]

    def forget_before(self, index: int) -> None:
        """Drop tracks that can no longer be drawn in frame ``index`` or later."""
        self.tracks = [track for track in self.tracks if track.frames[-1] + self.hold >= index]


def redact_clip(
    source: bytes | Path, *, mask_people: bool = False, detector: ObjectDetector | None = None
) -> RedactedClip:
    """Return a copy of a clip with every face blurred (and people masked if asked), without sound or metadata."""
    started = time.perf_counter()
    models = load_face_models()
    people = detector or create_detector(NanoDetConfig(threads=1))
    with _open_source(source) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)
        width, height = _output_size(stream.codec_context.width, stream.codec_context.height)
        expected = int(stream.frames or 0)
        face_stride = max(1, round(fps * FACE_INTERVAL))
        person_stride = max(1, round(fps * PERSON_INTERVAL))
        lead = max(math.ceil(fps * LEAD_SECONDS), person_stride)
        hold = max(math.ceil(fps * HOLD_SECONDS), person_stride)
        faces, persons = Tracker(lead, hold), Tracker(lead, hold)
        face_jobs: dict[int, Future[list[Box]]] = {}
        person_jobs: dict[int, Future[list[Box]]] = {}
        pending: deque[tuple[int, int, I420Image]] = deque()
        lag = lead + max(face_stride, person_stride)
        counts = {"faces": 0, "people": 0}

        def find_faces(image: I420Image) -> list[Box]:
            # HOG on the luma plane: a third cheaper than on colour and it finds the same faces.
            luma = image[:height]
            scale = min(MAX_FACE_SEARCH_SCALE, FACE_SEARCH_WIDTH / width)
            size = (round(width * scale), round(height * scale))
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            searched = np.ascontiguousarray(cv2.resize(luma, size, interpolation=interpolation))
            # The dlib detector is shared with the cameras' face finder and is not thread-safe: its lock guards it.
            with models.lock:
                rects, _, _ = models.detector.run(searched, 0, HOG_THRESHOLD_ADJUST)
            return [
                _face_box((r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale)) for r in rects
            ]

        people_lock = threading.Lock()

        def find_people(image: I420Image) -> list[Box]:
            bgr = cast(Image, cv2.cvtColor(image, cv2.COLOR_YUV2BGR_I420))
            # One call at a time on the detector, whichever pool thread runs it.
            with people_lock:
                found = people.detect(bgr, PERSON_MIN_SCORE)
            return [d.box for d in found if d.label == "person"]

        def resolve(until: int) -> None:
            for jobs, tracker in ((face_jobs, faces), (person_jobs, persons)):
                for index in [index for index in jobs if index <= until]:
                    tracker.observe(index, jobs.pop(index).result())

        def render(encoder: H264Writer) -> None:
            index, pts, image = pending.popleft()
            resolve(index + lag)
            for box in faces.boxes_at(index):
                pixelate(image, box)
                counts["faces"] += 1
            for box in persons.boxes_at(index):
                pixelate(image, _head_box(box))
                counts["faces"] += 1
                if mask_people:
                    fill(image, _dilate(box, PERSON_DILATE))
                    counts["people"] += 1
            encoder.write(image, pts)
            faces.forget_before(index)
            persons.forget_before(index)

        frames = 0
        with (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="redact") as pool,
            H264Writer(width, height, fps, stream.time_base) as encoder,
        ):
            for index, (pts, image) in enumerate(_decoded_frames(container, stream, width, height)):
                if index % face_stride == 0:
                    face_jobs[index] = pool.submit(find_faces, image)
                if index % person_stride == 0:
                    person_jobs[index] = pool.submit(find_people, image)
                pending.append((index, pts, image))
                while pending and pending[0][0] <= index - lag:
                    render(encoder)
                frames = index + 1
            if frames == 0:
                raise RedactionError("the video has no frames")
            if expected and frames < expected:
                raise RedactionError(f"the video is truncated: {frames} of its {expected} frames could be read")
            while pending:
                render(encoder)
            mp4 = encoder.finish()
    return RedactedClip(
        mp4=mp4,
        frames=frames,
        faces_blurred=counts["faces"],
        people_masked=counts["people"],
        width=width,
        height=height,
        duration=encoder.duration,
        seconds_taken=time.perf_counter() - started,
    )


def planes(image: I420Image) -> tuple[Image, Image, Image]:
    """Return views of a contiguous I420 frame's Y, U and V planes (writing to them changes the frame)."""
    height, width = image.shape[0] * 2 // 3, image.shape[1]
    flat = image.reshape(-1)  # a view: frames are contiguous
    luma, chroma = height * width, (height // 2) * (width // 2)
    return (
        image[:height],
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def pixelate(image: I420Image, box: Box) -> None:
    """Replace a box of an I420 frame by PIXELATE_BLOCKS blocks across, each its area's mean colour."""
    luma, blue, red = planes(image)
    x1, y1, x2, y2 = _pixel_box(box, luma)
    if x2 - x1 < 4 or y2 - y1 < 4:
        return
    across = min(PIXELATE_BLOCKS, x2 - x1)
    down = max(1, min(y2 - y1, round(across * (y2 - y1) / (x2 - x1))))
    _blocks(luma[y1:y2, x1:x2], across, down)
    for plane in (blue, red):
        _blocks(plane[y1 // 2 : (y2 + 1) // 2, x1 // 2 : (x2 + 1) // 2], across, down)


def fill(image: I420Image, box: Box) -> None:
    """Fill a box of an I420 frame with the mask colour (a neutral grey)."""
    luma, blue, red = planes(image)
    x1, y1, x2, y2 = _pixel_box(box, luma)
    luma[y1:y2, x1:x2] = MASK_LUMA
    for plane in (blue, red):
        plane[y1 // 2 : (y2 + 1) // 2, x1 // 2 : (x2 + 1) // 2] = 128


def _blocks(region: Image, across: int, down: int) -> None:
    small = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
    region[:] = cv2.resize(small, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST)


class H264Writer:
    """Encode BGR frames into an in-memory H.264 MP4 (yuv420p, +faststart, no metadata)."""

    def __init__(
        self, width: int, height: int, fps: float, time_base: Fraction | None, preset: str | None = None
    ) -> None:
        self.width, self.height = width, height
        self.time_base = time_base or Fraction(1, 1000)
        self.duration = 0.0
        self._first_pts: int | None = None
        self._last_pts: int | None = None
        self._frame_pts = max(1, round(1 / (fps * self.time_base)))
        # The MP4 muxer reopens its output to move the index to the front (+faststart), which a BytesIO cannot
        # do; an anonymous in-memory file can, and the copy never touches a disk.
        self._memory = os.memfd_create("homewarden-redacted", os.MFD_CLOEXEC)
        try:
            self._output: Any = av.open(f"/proc/self/fd/{self._memory}", mode="w", format="mp4", options=MP4_OPTIONS)
            self._stream: Any = self._output.add_stream(
                "libx264",
                rate=Fraction(fps).limit_denominator(1001),
                options={"preset": preset or X264_PRESET, "crf": X264_CRF},
            )
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            # Frames keep the source's timestamps: the codec's time base must be as fine as the source's, or
            # irregular timings (GIF delays) would be rounded to the nominal frame rate.
            self._stream.time_base = self.time_base
            self._stream.codec_context.time_base = self.time_base
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise RedactionError(f"cannot start the H.264 encoder: {exc}") from None

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()

    def write(self, image: Image, pts: int, image_format: str = "yuv420p") -> None:
        """Encode one frame (I420, or ``bgr24``) shown at ``pts`` in the source's time base."""
        if self._first_pts is None:
            self._first_pts = pts
        pts -= self._first_pts
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        frame = av.VideoFrame.from_ndarray(image, format=image_format)
        if image_format != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        frame.pts = pts
        frame.time_base = self.time_base
        self._output.mux(self._stream.encode(frame))
        self._last_pts = pts
        self.duration = float((pts + self._frame_pts) * self.time_base)

    def finish(self) -> bytes:
        """Flush the encoder, close the MP4 and return its bytes."""
        try:
            self._output.mux(self._stream.encode(None))
            self._output.close()
            self._output = None
            return os.pread(self._memory, os.fstat(self._memory).st_size, 0)
        except (av.error.FFmpegError, OSError) as exc:
            raise RedactionError(f"cannot finish the MP4: {exc}") from None
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop the output and its memory."""
        if getattr(self, "_output", None) is not None:
            with contextlib.suppress(av.error.FFmpegError, OSError):
                self._output.close()
            self._output = None
        if self._memory >= 0:
            os.close(self._memory)
            self._memory = -1


@contextlib.contextmanager
def _open_source(source: bytes | Path) -> Iterator[Any]:
    try:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise RedactionError(f"not a readable video: {_first_line(exc)}") from None
    try:
        if not container.streams.video:
            raise RedactionError("the file has no video stream")
        yield container
    finally:
        container.close()


def _decoded_frames(container: Any, stream: Any, width: int, height: int) -> Iterator[tuple[int, I420Image]]:
    """Decode in a thread, a few frames ahead, as I420 images of the output size with their pts."""
    frames: queue.Queue[tuple[int, I420Image] | BaseException | None] = queue.Queue(DECODE_QUEUE)
    stop = threading.Event()

    def decode() -> None:
        try:
            for index, frame in enumerate(container.decode(stream)):
                pts = frame.pts if frame.pts is not None else index
                image = _output_picture(frame, width, height)
                while not stop.is_set():
                    with contextlib.suppress(queue.Full):
                        frames.put((pts, image), timeout=0.1)
                        break
                if stop.is_set():
                    return
            frames.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            frames.put(exc)

    thread = threading.Thread(target=decode, name="redact-decode", daemon=True)
    thread.start()
    try:
        while (item := frames.get()) is not None:
            if isinstance(item, av.error.FFmpegError):
                raise RedactionError(f"the video is damaged: {_first_line(item)}")
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                frames.get_nowait()
        thread.join()


def _output_picture(frame: Any, width: int, height: int) -> I420Image:
    """Return a decoded frame as an I420 image of the output size, uncombed first if it is interlaced."""
    if frame.interlaced_frame and frame.width % 2 == 0 and frame.height % 2 == 0:
        # A combed face or body is what the detectors miss (video/fields.py), and the copy a reviewer sees would be
        # combed too: uncombed at the camera's size, before scaling blends the fields' rows.
        whole = uncombed_i420(frame.to_ndarray(format="yuv420p"), frame.width, frame.height)
        frame = av.VideoFrame.from_ndarray(whole, format="yuv420p")
    # H.264 sources are I420 already: no conversion, only a copy out of the decoder's buffer.
    return np.ascontiguousarray(frame.to_ndarray(format="yuv420p", width=width, height=height, interpolation="AREA"))


def _output_size(width: int, height: int) -> tuple[int, int]:
    if width <= 0 or height <= 0:
        raise RedactionError("the video has no picture size")
    if width > MAX_WIDTH:
        height, width = round(height * MAX_WIDTH / width), MAX_WIDTH
    # yuv420p needs even sizes.
    return max(2, width - width % 2), max(2, height - height % 2)


def _face_box(box: Box) -> Box:
    x1, y1, x2, y2 = box
    width, height = x2 - x1, y2 - y1
    extra = (FACE_WIDEN - 1) / 2 * width
    return (x1 - extra, y1 - FACE_UP * height, x2 + extra, y2 + FACE_DOWN * height)


def _head_box(person: Box) -> Box:
    x1, y1, x2, y2 = person
    width, height = x2 - x1, y2 - y1
    depth = min(height, max(HEAD_DEPTH * height, HEAD_DEPTH_PER_WIDTH * width))
    return (x1 - HEAD_MARGIN_X * width, y1 - HEAD_MARGIN_UP * height, x2 + HEAD_MARGIN_X * width, y1 + depth)


def _dilate(box: Box, fraction: float) -> Box:
    x1, y1, x2, y2 = box
    dx, dy = fraction * (x2 - x1), fraction * (y2 - y1)
    return (x1 - dx, y1 - dy, x2 + dx, y2 + dy)


def _grow(box: Box, frames_away: int) -> Box:
    return _dilate(box, min(MAX_HELD_GROWTH, HELD_GROWTH_PER_FRAME * frames_away))


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _distance(previous: Box, box: Box) -> float:
    """Return how far a box is from a track's last one, in units of their size (below 1: the same object)."""
    size = max(previous[2] - previous[0], previous[3] - previous[1], box[2] - box[0], box[3] - box[1], 1.0)
    dx = (previous[0] + previous[2] - box[0] - box[2]) / 2
    dy = (previous[1] + previous[3] - box[1] - box[3]) / 2
    return math.hypot(dx, dy) / size


def _pixel_box(box: Box, image: Image) -> tuple[int, int, int, int]:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    return (
        max(0, math.floor(x1)),
        max(0, math.floor(y1)),
        min(width, math.ceil(x2)),
        min(height, math.ceil(y2)),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
