"""A looping file camera (the demo camera): replayed from its start at once, with clock times, until stopped."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from homewarden.camera.live import LiveFrames, LiveObject
from homewarden.camera.reader import Sample
from homewarden.camera.runner import CameraRunner, RunStats
from homewarden.config import HomewardenConfig, single_source_config
from homewarden.detect import create_detector
from homewarden.events.record import EventRecord
from homewarden.store.media import MediaFolder
from video.synthetic import read_index, write_video
from waiting import wait_for

SECONDS = 1.0
FPS = 10


class FrameLog(LiveFrames):
    """LiveFrames that also keeps each published frame's time and barcode number."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[float, int]] = []

    def publish(self, camera: str, sample: Sample, objects: Sequence[LiveObject]) -> None:
        super().publish(camera, sample, objects)
        self.frames.append((sample.time, read_index(sample._frame)))


def passes_seen(live: FrameLog) -> int:
    """Count the passes over the file in the frames analysed: the frame number starts over at each one."""
    indices = [index for _, index in list(live.frames)]
    return 1 + sum(1 for earlier, later in itertools.pairwise(indices) if later < earlier) if indices else 0


def looping_config(source: str) -> tuple[HomewardenConfig, str]:
    config, name = single_source_config(source)
    camera = config.cameras[name].model_copy(update={"loop": True})
    return config.model_copy(update={"cameras": {name: camera}}), name


def start(runner: CameraRunner) -> tuple[threading.Thread, list[RunStats]]:
    result: list[RunStats] = []
    thread = threading.Thread(target=lambda: result.append(runner.run_live(reconnect=True)), name="camera")
    thread.start()
    return thread, result


@pytest.mark.timeout(60)
def test_a_looping_file_is_read_again_and_again_until_stopped(tmp_path: Path) -> None:
    video = write_video(tmp_path / "short.mp4", seconds=SECONDS, fps=FPS)
    config, name = looping_config(str(video))
    events: list[EventRecord] = []
    live = FrameLog()
    runner = CameraRunner(
        name, config, create_detector(config.detector), MediaFolder(tmp_path / "media"), events.append, live=live
    )
    thread, result = start(runner)
    started = time.monotonic()
    try:
        # Analysed frames of the third pass, not only its opening: the analysis thread runs behind the reader.
        wait_for(lambda: passes_seen(live) >= 3, 15, "frames of three passes")
        assert live.cameras()[name].online
    finally:
        runner.stop_event.set()
        thread.join(timeout=15)
    elapsed = time.monotonic() - started

    assert not thread.is_alive(), "the runner did not stop when asked"
    [stats] = result
    assert stats.replays >= 2
    assert stats.reconnects == 0, "a replay is no reconnection"
    assert elapsed >= 2 * (SECONDS - 2 / FPS), "each pass is paced like a camera"
    indices = [index for _, index in live.frames]
    # Every pass starts again from the file's start (on a busy machine the newest frame wins, so the very first frame
    # of a pass may be skipped; the numbering still starts over).
    assert passes_seen(live) >= 3, f"the frames come round again on every pass: {indices}"
    assert indices[0] == 0
    times = [at for at, _ in live.frames]
    assert all(earlier < later for earlier, later in itertools.pairwise(times)), "times keep moving forward"
    assert abs(times[-1] - time.time()) < 10, "times are the clock's"
    assert stats.frames_analysed > SECONDS * 5
    assert live.cameras()[name].offline_reason == "stopped"


@pytest.mark.timeout(30)
def test_a_looping_file_that_cannot_be_opened_backs_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config, name = looping_config(str(tmp_path / "missing.mp4"))
    live = LiveFrames()
    runner = CameraRunner(
        name, config, create_detector(config.detector), MediaFolder(tmp_path / "media"), lambda _: None, live=live
    )
    with caplog.at_level(logging.WARNING):
        thread, result = start(runner)
        try:
            wait_for(lambda: name in live.cameras(), 10, "the failure to be reported")
            time.sleep(1.5)  # past the first one-second backoff
        finally:
            runner.stop_event.set()
            thread.join(timeout=15)

    assert not thread.is_alive()
    [stats] = result
    assert (stats.frames_analysed, stats.replays) == (0, 0)
    warnings = [record.getMessage() for record in caplog.records if "missing.mp4: no such file" in record.getMessage()]
    assert warnings == [f"camera {name}: {tmp_path / 'missing.mp4'}: no such file; retrying in 1 s"], "logged once"


def test_a_file_that_does_not_loop_ends(tmp_path: Path) -> None:
    video = write_video(tmp_path / "short.mp4", seconds=SECONDS, fps=FPS)
    config, name = single_source_config(str(video))
    live = LiveFrames()
    runner = CameraRunner(
        name, config, create_detector(config.detector), MediaFolder(tmp_path / "media"), lambda _: None, live=live
    )

    stats = runner.run_live(reconnect=True)

    assert stats.replays == 0
    status = live.cameras()[name]
    assert not status.online
    assert status.offline_reason == f"{video}: the video ended"
