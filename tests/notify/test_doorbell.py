"""A doorbell press on a real camera pipeline: the clip starts with the pre-roll, and the visitor is named.

The camera is a CameraRunner paced like a live camera (wall-clock times) over real footage: the one-by-one
clip, or a clip composed here from a test face photo held in front of the camera.
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import media_file
from homewarden.camera.runner import CameraRunner
from homewarden.config import HomewardenConfig
from homewarden.detect import create_detector
from homewarden.events.record import EventRecord
from homewarden.notify.bus import DoorbellPressed, HubBus, Message
from homewarden.store.media import MediaFolder
from waiting import wait_for

# A camera paced like a live one over real footage, for tens of seconds per test.
pytestmark = pytest.mark.slow

PRESS_AFTER = 12.0
RING_SECONDS = 6.0
FPS = 10


class Camera:
    """A camera runner on its own thread, its finished events, and what a bus subscriber heard."""

    def __init__(self, folder: Path, source: Path, faces: dict[str, object]) -> None:
        """Configure the front door camera over ``source`` with a doorbell "front"; nothing runs yet."""
        self.config = HomewardenConfig.model_validate(
            {
                "cameras": {"front_door": {"source": str(source)}},
                "doorbells": {"front": {"camera": "front_door"}},
                "faces": faces,
                "storage": {"folder": str(folder / "data")},
            }
        )
        self.events: list[EventRecord] = []
        self.heard: list[Message] = []
        self.bus = HubBus()
        self.bus.subscribe("test", self.heard.append)
        self.runner = CameraRunner(
            "front_door",
            self.config,
            create_detector(self.config.detector),
            MediaFolder(folder / "media"),
            self.events.append,
            wall_clock=True,
            bus=self.bus,
        )
        self.thread = threading.Thread(target=self.runner.run_live, kwargs={"reconnect": False}, name="front_door")

    def __enter__(self) -> Camera:
        self.bus.start()
        self.thread.start()
        wait_for(lambda: self.runner.pipeline is not None and self.runner.pipeline.last_time > 0, 20, "a first frame")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.runner.stop_event.set()
        self.thread.join(timeout=30)
        self.bus.stop()

    def press(self) -> str:
        """Press the bell now; return the event recording it."""
        event_id = self.runner.ring("front", RING_SECONDS)
        assert event_id is not None, "the camera is running"
        return event_id

    def doorbell_message(self, event_id: str) -> DoorbellPressed | None:
        """Return the DoorbellPressed the subscriber heard for a press, if any yet."""
        found = [m for m in list(self.heard) if isinstance(m, DoorbellPressed) and m.event_id == event_id]
        return found[0] if found else None


def decoded_span(path: str) -> tuple[int, float]:
    """Return how many frames a clip decodes to and the seconds from its first frame to past its last."""
    with av.open(path) as container:
        times = [float(frame.time) for frame in container.decode(video=0) if frame.time is not None]
    return len(times), max(times) - min(times) + 1 / FPS


@pytest.mark.timeout(90)
def test_a_doorbell_press_produces_a_clip_with_pre_roll(tmp_path: Path) -> None:
    video = media_file("video/one-by-one-person-detection.mp4")
    # Faces off: this test is about the clip; the visitor is left unknown and announced when the 4 s look ends.
    camera = Camera(tmp_path, video, {"enabled": False})
    with camera:
        started = time.time()
        time.sleep(max(0.0, started + PRESS_AFTER - time.time()))
        before_press = time.time()
        event_id = camera.press()
        pressed = time.time()
        wait_for(lambda: any(record.id == event_id for record in camera.events), 30, "the doorbell event to end")
        camera.bus.flush()
    [record] = [record for record in camera.events if record.id == event_id]

    assert record.label == "doorbell"
    assert record.attributes == {"doorbell": "front"}
    assert record.live
    # The event starts at the press: between asking and the answer (however long a busy machine takes to answer).
    assert before_press - 0.1 <= record.start <= pressed + 0.1, (record.start - before_press, pressed - before_press)
    assert record.end == pytest.approx(record.start + RING_SECONDS)
    assert record.clip_error is None
    [clip] = record.clips
    # Pre-roll 5 s, cut at a keyframe (one a second in this footage): the clip starts 4 to 6 s before the press.
    assert record.start - 6.0 <= clip.start <= record.start - 4.0, (clip.start - record.start, clip)
    # Recorded for the ring's 6 s and the post-roll after them.
    assert clip.end >= record.start + RING_SECONDS, (clip.end - record.start, clip)
    frames, seconds = decoded_span(clip.path)
    assert seconds == pytest.approx(clip.end - clip.start, abs=0.3)
    assert seconds >= 4.0 + RING_SECONDS
    assert frames >= seconds * FPS - 2

    message = camera.doorbell_message(event_id)
    assert message is not None, f"no DoorbellPressed among {[type(m).__name__ for m in camera.heard]}"
    assert message.camera == "front_door"
    assert message.at == record.start
    assert message.visitor is None
    assert message.snapshot_jpeg is not None
    snapshot = cv2.imdecode(np.frombuffer(message.snapshot_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert snapshot is not None
    assert snapshot.shape[:2] == (432, 768)
    assert record.snapshot is not None
    assert Path(record.snapshot).read_bytes() == message.snapshot_jpeg


def photo_clip(photo: Path, path: Path, seconds: float = 30.0) -> Path:
    """Write an H.264 clip of a photo held in front of a 768x432 camera (a keyframe every second)."""
    image = cv2.imread(str(photo))
    assert image is not None, photo
    height = 400
    width = round(image.shape[1] * height / image.shape[0])
    canvas = np.full((432, 768, 3), 90, np.uint8)
    left = (768 - width) // 2
    canvas[16 : 16 + height, left : left + width] = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(canvas[:, :, ::-1], dtype=np.uint8)
    with av.open(str(path), mode="w") as output:
        stream = output.add_stream("libx264", rate=FPS, options={"g": str(FPS), "keyint_min": str(FPS)})
        stream.width, stream.height = 768, 432
        stream.pix_fmt = "yuv420p"
        for index in range(round(seconds * FPS)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("photo", "visitor"),
    [("faces/enroll/obama/obama.jpg", "obama"), ("faces/probe/johnsnow_test1.jpg", "stranger")],
    ids=["member", "stranger"],
)
def test_the_visitor_at_the_door_is_named_or_a_stranger(tmp_path: Path, photo: str, visitor: str) -> None:
    enrolled = media_file("faces/enroll/obama/obama.jpg").parents[1]
    # Longer than the test runs, and stopped once the scene is settled: a source closed (at its end, or on stop)
    # while the camera opens an event's clip crashes PyAV (reported; not this test's subject).
    clip = photo_clip(media_file(photo), tmp_path / "visitor.mp4")
    camera = Camera(tmp_path, clip, {"enabled": True, "gallery_folder": str(enrolled)})
    with camera:
        event_id = camera.press()
        wait_for(lambda: camera.doorbell_message(event_id) is not None, 30, "the doorbell to be announced")
        # Stopped once 4 s of video after the press were analysed: the person in the photo (if the detector sees one)
        # is an event by then, so no clip is being opened as the source closes (see above).
        pipeline = camera.runner.pipeline
        assert pipeline is not None
        pressed_at = camera.doorbell_message(event_id).at  # type: ignore[union-attr]
        wait_for(lambda: pipeline.last_time >= pressed_at + 4.0, 30, "4 s of video after the press")
    message = camera.doorbell_message(event_id)
    assert message is not None
    assert message.visitor == visitor
    assert message.snapshot_jpeg is not None
    assert message.snapshot_jpeg[:2] == b"\xff\xd8"
    [record] = [record for record in camera.events if record.id == event_id]
    assert record.sub_label == visitor
