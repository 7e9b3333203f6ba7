"""The newest analysed frame of every camera, for live view: kept as a reference, made a JPEG only when watched."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.camera.reader import Sample

# A camera that has published no frame for this long is shown offline even if its reader has not noticed yet.
ONLINE_WITHIN = 10.0
DEFAULT_QUALITY = 80
BOX_THICKNESS = 2
LABEL_SCALE = 0.5
LABEL_PADDING = 3
# BGR; a label not listed is drawn in the last colour.
LABEL_COLOURS = {
    "person": (60, 60, 230),
    "cat": (230, 160, 40),
    "dog": (40, 190, 230),
    "car": (200, 200, 200),
}
OTHER_COLOUR = (80, 220, 80)


@dataclass(frozen=True)
class LiveObject:
    """An object the camera is following now: its label, score, box (detect-size pixels) and who, for a person."""

    label: str
    score: float
    box: tuple[int, int, int, int]
    sub_label: str | None = None


@dataclass(frozen=True)
class LiveImage:
    """One camera frame as a JPEG; time is the frame's time on the source clock (Unix seconds for live cameras)."""

    jpeg: bytes
    seq: int
    time: float
    width: int
    height: int


@dataclass(frozen=True)
class CameraLiveStatus:
    """Whether a camera is delivering frames: when it last did (Unix seconds), how many, and why not if not."""

    online: bool
    last_frame_at: float | None
    frames_published: int
    offline_reason: str | None


@dataclass
class CameraFeed:
    """A camera's newest frame and what is known about its delivery (guarded by LiveFrames' lock)."""

    sample: Sample | None = None
    objects: tuple[LiveObject, ...] = ()
    seq: int = 0
    published_at: float | None = None
    published_monotonic: float | None = None
    offline_reason: str | None = None
    # Encodings of the newest frame only, by (boxes, quality): a new frame makes them stale.
    encoded: dict[tuple[bool, int], LiveImage] = field(default_factory=dict)
    # Held while encoding, so viewers asking at once for the same frame wait for one encoding instead of each doing it.
    encode_lock: threading.Lock = field(default_factory=threading.Lock)


class LiveFrames:
    """Keep every camera's newest analysed frame and the objects on it; encode JPEGs on demand (thread-safe)."""

    def __init__(self) -> None:
        self._feeds: dict[str, CameraFeed] = {}
        self._changed = threading.Condition()

    def publish(self, camera: str, sample: Sample, objects: Sequence[LiveObject]) -> None:
        """Make a frame the camera's newest; its pixels are not touched until someone watches."""
        with self._changed:
            feed = self._feeds.setdefault(camera, CameraFeed())
            feed.sample = sample
            feed.objects = tuple(objects)
            feed.seq += 1
            feed.published_at = time.time()
            feed.published_monotonic = time.monotonic()
            feed.encoded = {}
            self._changed.notify_all()

    def mark_offline(self, camera: str, reason: str) -> None:
        """Record that a camera's source failed or ended, and why."""
        with self._changed:
            self._feeds.setdefault(camera, CameraFeed()).offline_reason = reason
            self._changed.notify_all()

    def mark_online(self, camera: str) -> None:
        """Record that a camera's source is open again."""
        with self._changed:
            self._feeds.setdefault(camera, CameraFeed()).offline_reason = None

    def cameras(self) -> dict[str, CameraLiveStatus]:
        """Return every camera that published a frame or reported a failure, with its status."""
        now = time.monotonic()
        with self._changed:
            return {
                name: CameraLiveStatus(
                    online=feed.offline_reason is None
                    and feed.published_monotonic is not None
                    and now - feed.published_monotonic <= ONLINE_WITHIN,
                    last_frame_at=feed.published_at,
                    frames_published=feed.seq,
                    offline_reason=feed.offline_reason,
                )
                for name, feed in self._feeds.items()
            }

    def latest_jpeg(self, camera: str, boxes: bool, quality: int = DEFAULT_QUALITY) -> LiveImage | None:
        """Return the camera's newest frame as a JPEG (with its objects drawn if asked), or None before any frame."""
        with self._changed:
            feed = self._feeds.get(camera)
            if feed is None or feed.sample is None:
                return None
            cached = feed.encoded.get((boxes, quality))
            if cached is not None:
                return cached
        with feed.encode_lock:
            with self._changed:
                sample, objects, seq = feed.sample, feed.objects, feed.seq
                cached = feed.encoded.get((boxes, quality))
                if cached is not None or sample is None:
                    return cached
            image = encode_jpeg(sample, objects if boxes else (), seq, quality)
            with self._changed:
                if feed.seq == seq:
                    feed.encoded[(boxes, quality)] = image
            return image

    def wait_for_newer(
        self, camera: str, after_seq: int, timeout: float, boxes: bool = False, quality: int = DEFAULT_QUALITY
    ) -> LiveImage | None:
        """Wait up to timeout seconds for a frame newer than after_seq; return it as a JPEG, or None if none came."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                feed = self._feeds.get(camera)
                if feed is not None and feed.sample is not None and feed.seq > after_seq:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
        return self.latest_jpeg(camera, boxes, quality)


def encode_jpeg(sample: Sample, objects: Sequence[LiveObject], seq: int, quality: int) -> LiveImage:
    """Encode a frame at detect size as a JPEG, drawing the objects' boxes and labels on a copy."""
    pixels = sample.image
    if objects:
        # The analyser may still be reading this frame's pixels: draw on a copy.
        pixels = draw_objects(pixels.copy(), objects)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode a frame as JPEG")
    height, width = pixels.shape[:2]
    return LiveImage(encoded.tobytes(), seq, sample.time, width, height)


def draw_objects(pixels: npt.NDArray[np.uint8], objects: Sequence[LiveObject]) -> npt.NDArray[np.uint8]:
    """Draw each object's box and a filled label ("person 87%", or the member's name) onto the pixels."""
    for obj in objects:
        colour = LABEL_COLOURS.get(obj.label, OTHER_COLOUR)
        x1, y1, x2, y2 = obj.box
        cv2.rectangle(pixels, (x1, y1), (x2, y2), colour, BOX_THICKNESS)
        text = f"{obj.sub_label or obj.label} {obj.score:.0%}"
        (text_width, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, LABEL_SCALE, 1)
        # Above the box when there is room, inside it at the top edge of the picture.
        top = y1 - text_height - baseline - 2 * LABEL_PADDING
        top = top if top >= 0 else y1
        bottom = top + text_height + baseline + 2 * LABEL_PADDING
        cv2.rectangle(pixels, (x1, top), (x1 + text_width + 2 * LABEL_PADDING, bottom), colour, cv2.FILLED)
        cv2.putText(
            pixels,
            text,
            (x1 + LABEL_PADDING, bottom - baseline - LABEL_PADDING),
            cv2.FONT_HERSHEY_SIMPLEX,
            LABEL_SCALE,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return pixels
