"""A live camera that drops mid-stream and comes back: the runner reconnects and keeps analysing.

The camera is a real HTTP MJPEG server on 127.0.0.1 (video.synthetic.MjpegCamera) that hangs up after a few seconds
of video and serves again on the next request; the runner, reader, source and detector are the real ones.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from homewarden.camera.runner import CameraRunner, RunStats
from homewarden.config import single_source_config
from homewarden.detect import create_detector
from homewarden.events.record import EventRecord
from homewarden.store.media import MediaFolder
from video.synthetic import MjpegCamera
from waiting import wait_for


@pytest.mark.timeout(60)
def test_runner_reconnects_after_the_camera_drops(tmp_path: Path) -> None:
    with MjpegCamera(fps=10, frames_per_connection=30) as camera:
        config, name = single_source_config(camera.url)
        events: list[EventRecord] = []
        runner = CameraRunner(
            name, config, create_detector(config.detector), MediaFolder(tmp_path / "media"), events.append
        )
        result: list[RunStats] = []
        thread = threading.Thread(target=lambda: result.append(runner.run_live(reconnect=True)), name="camera")
        started = time.monotonic()
        thread.start()
        try:
            wait_for(lambda: runner.stats.frames_analysed >= 5, 10, "frames from the first connection")
            wait_for(lambda: runner.stats.reconnects >= 1, 15, "the runner to reconnect after the camera hung up")
            analysed_at_reconnect = runner.stats.frames_analysed
            wait_for(lambda: runner.stats.frames_analysed >= analysed_at_reconnect + 5, 10, "frames after reconnecting")
        finally:
            runner.stop_event.set()
            thread.join(timeout=20)
        elapsed = time.monotonic() - started

    assert not thread.is_alive(), "the runner did not stop when asked"
    [stats] = result  # run_live returned normally: nothing crashed
    assert stats.reconnects >= 1
    assert camera.connections >= 2
    assert stats.frames_analysed >= analysed_at_reconnect + 5
    assert elapsed < 30
