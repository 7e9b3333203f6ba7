"""Live view: the newest frame of each camera, made a JPEG only when watched, once per frame however many watch."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from conftest import ONE_BY_ONE, media_file
from homewarden.camera.live import LiveFrames, LiveImage, LiveObject
from homewarden.camera.reader import Sample
from homewarden.camera.runner import CameraRunner
from homewarden.config import single_source_config
from homewarden.detect import create_detector
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource
from video.synthetic import write_video

DETECT_SIZE = (160, 120)
PERSON = LiveObject("person", 0.87, (40, 30, 100, 110), None)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    """Return the frames of a one-second synthetic video as analysis samples at 160x120."""
    path = write_video(tmp_path_factory.mktemp("live") / "room.mp4", seconds=1.0)
    with av.open(str(path)) as container:
        return [Sample(index / 10, frame, DETECT_SIZE) for index, frame in enumerate(container.decode(video=0))]


def decoded(image: LiveImage) -> npt.NDArray[np.uint8]:
    pixels = cv2.imdecode(np.frombuffer(image.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None, "not a JPEG"
    return pixels


def test_nothing_to_show_before_a_frame(samples: list[Sample]) -> None:
    live = LiveFrames()

    assert live.latest_jpeg("porch", boxes=False) is None
    assert live.cameras() == {}


def test_publishing_keeps_the_frame_and_converts_nothing(samples: list[Sample]) -> None:
    live = LiveFrames()
    sample = Sample(5.0, samples[0]._frame, DETECT_SIZE)  # a fresh sample: nothing converted yet

    live.publish("porch", sample, [PERSON])

    assert sample._bgr is None, "publish must not touch the pixels"
    assert sample._yuv is None
    status = live.cameras()["porch"]
    assert (status.online, status.frames_published, status.offline_reason) == (True, 1, None)
    assert status.last_frame_at is not None
    assert abs(status.last_frame_at - time.time()) < 5


def test_the_jpeg_is_the_frame_at_detect_size(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[3], [])

    image = live.latest_jpeg("porch", boxes=False)

    assert image is not None
    assert (image.seq, image.time, image.width, image.height) == (1, samples[3].time, *DETECT_SIZE)
    pixels = decoded(image)
    assert pixels.shape == (120, 160, 3)
    # JPEG is lossy; the picture is still the frame, within a few levels.
    assert np.abs(pixels.astype(int) - samples[3].image.astype(int)).mean() < 4


def test_boxes_are_drawn_on_a_copy(samples: list[Sample]) -> None:
    live = LiveFrames()
    sample = samples[4]
    before = sample.image.copy()
    live.publish("porch", sample, [PERSON])

    plain = decoded(live.latest_jpeg("porch", boxes=False))  # type: ignore[arg-type]
    boxed = decoded(live.latest_jpeg("porch", boxes=True))  # type: ignore[arg-type]

    difference = np.abs(boxed.astype(int) - plain.astype(int)).sum(axis=2)
    x1, y1, x2, y2 = PERSON.box
    assert difference[y1 + 5 : y2 - 5, x1].mean() > 60, "the box's left edge is drawn"
    assert difference[y1 - 14 : y1, x1 + 2 : x1 + 40].mean() > 60, "the label is drawn above the box"
    assert difference[y1 + 10 : y2 - 10, x1 + 10 : x2 - 10].mean() < 4, "inside the box the picture is untouched"
    assert np.array_equal(sample.image, before), "the analyser's pixels are not drawn on"


def test_many_viewers_cost_one_encoding(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[0], [PERSON])

    first = live.latest_jpeg("porch", boxes=True)
    assert live.latest_jpeg("porch", boxes=True) is first
    assert live.latest_jpeg("porch", boxes=False) is not first, "with and without boxes are two pictures"

    live.publish("porch", samples[1], [PERSON])
    newer = live.latest_jpeg("porch", boxes=True)
    assert newer is not None
    assert newer is not first
    assert newer.seq == 2


def test_viewers_asking_at_once_share_one_encoding(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[2], [PERSON])
    found: list[LiveImage | None] = []
    threads = [threading.Thread(target=lambda: found.append(live.latest_jpeg("porch", True))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert len(found) == 8
    assert len({id(image) for image in found}) == 1


def test_cameras_are_kept_apart(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[0], [])
    live.publish("garden", samples[5], [])
    live.publish("garden", samples[6], [])

    porch, garden = live.latest_jpeg("porch", False), live.latest_jpeg("garden", False)

    assert porch is not None
    assert garden is not None
    assert (porch.seq, porch.time, garden.seq, garden.time) == (1, samples[0].time, 2, samples[6].time)
    assert {name: status.frames_published for name, status in live.cameras().items()} == {"porch": 1, "garden": 2}


def test_waiting_for_a_newer_frame_times_out(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[0], [])

    started = time.monotonic()
    assert live.wait_for_newer("porch", after_seq=1, timeout=0.3) is None
    assert 0.25 <= time.monotonic() - started < 2
    assert live.wait_for_newer("garden", after_seq=0, timeout=0.05) is None


def test_waiting_for_a_newer_frame_returns_it(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[0], [])
    assert live.wait_for_newer("porch", after_seq=0, timeout=0.0) is not None, "a frame newer than 0 is there"

    publisher = threading.Timer(0.2, lambda: live.publish("porch", samples[1], [PERSON]))
    publisher.start()
    started = time.monotonic()
    image = live.wait_for_newer("porch", after_seq=1, timeout=5, boxes=True)
    publisher.join()

    assert image is not None
    assert (image.seq, image.time) == (2, samples[1].time)
    assert time.monotonic() - started < 3
    assert image is live.latest_jpeg("porch", boxes=True), "the stream's encoding serves the other viewers"


def test_a_failed_source_shows_offline_until_it_is_back(samples: list[Sample]) -> None:
    live = LiveFrames()
    live.publish("porch", samples[0], [])

    live.mark_offline("porch", "rtsp://porch/stream: cannot connect")
    status = live.cameras()["porch"]
    assert (status.online, status.offline_reason) == (False, "rtsp://porch/stream: cannot connect")
    live.publish("porch", samples[1], [])
    assert not live.cameras()["porch"].online, "a frame read before the failure does not bring it back"

    live.mark_online("porch")
    assert live.cameras()["porch"].online


class RecordingLiveFrames(LiveFrames):
    """LiveFrames that also keeps every published object list, and stops a runner once a person shows up."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[float, tuple[LiveObject, ...]]] = []
        self.runner_stop: threading.Event | None = None

    def publish(self, camera: str, sample: Sample, objects: Sequence[LiveObject]) -> None:
        super().publish(camera, sample, objects)
        self.published.append((sample.time, tuple(objects)))
        if self.runner_stop is not None and any(obj.label == "person" for obj in objects):
            self.runner_stop.set()


@pytest.mark.timeout(120)
def test_the_pipeline_publishes_every_frame_with_the_people_it_follows(tmp_path: Path) -> None:
    video = media_file(ONE_BY_ONE)
    config, name = single_source_config(str(video))
    live = RecordingLiveFrames()
    detector = create_detector(config.detector)
    runner = CameraRunner(name, config, detector, MediaFolder(tmp_path), lambda _: None, live=live)
    live.runner_stop = runner.stop_event
    source = VideoSource(str(video))
    source.open()

    stats = runner.run_file(source)

    assert len(live.published) == stats.frames_analysed
    people = [obj for _, objects in live.published for obj in objects if obj.label == "person"]
    assert people, "the person walking in is shown"
    width, height = runner.pipeline.analyzer.frame_size  # type: ignore[union-attr]
    for obj in people:
        x1, y1, x2, y2 = obj.box
        assert 0 <= x1 < x2 < width
        assert 0 <= y1 < y2 < height
        assert 0 < obj.score <= 1
    image = live.latest_jpeg(name, boxes=True)
    assert image is not None
    assert decoded(image).shape == (height, width, 3)
