"""A camera's RTSP server killed and restarted: the hub reconnects, and nothing seen before the drop is lost.

Everything is real: the camera is GStreamer's RTSP server (tests/camera/rtsp_server.py, run by Debian's Python as its
own process) serving the shared footage's H.264 at rtsp://127.0.0.1:PORT/live; the hub PLAYs it over TCP through
FFmpeg's RTSP client (PyAV, in homewarden.video.source), and the camera runner, recorder and NanoDet detector are the
shipped ones. The server is killed with SIGKILL in the middle of a visit, as a camera losing power would be, and
started again on the same port.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest

from conftest import shared_media
from homewarden.camera.health import CameraHealthBoard
from homewarden.camera.runner import CameraRunner, RunStats
from homewarden.config import single_source_config
from homewarden.detect import create_detector
from homewarden.events.record import EventRecord
from homewarden.notify.bus import EventStarted, HubBus, Message
from homewarden.store.media import MediaFolder

SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_HINT = "run scripts/ensure-rtsp-server.sh (Debian's python3-gi and gir1.2-gst-rtsp-server-1.0)"
# Generous limits for a busy machine: they stop a hung test, they are not what it checks.
SERVER_START_SECONDS = 30.0
WAIT_SECONDS = 60.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll until condition() holds, failing the test with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.05)


class RtspCamera:
    """GStreamer's RTSP server as a camera process that can be killed and started again on the same port."""

    def __init__(self, footage: Path) -> None:
        self.footage = footage
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/live"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start the server and wait for its ready line; fail the test, with the install hint, if it cannot."""
        if not os.access(SYSTEM_PYTHON, os.X_OK):
            pytest.fail(f"{SYSTEM_PYTHON} is missing: the RTSP server runs on Debian's Python; {INSTALL_HINT}")
        process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), str(self.port), str(self.footage)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.process = process
        assert process.stdout is not None
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            readable, _, _ = select.select([process.stdout], [], [], 0.1)
            if readable:
                line = process.stdout.readline()
                if line.startswith("ready "):
                    assert line.split()[1] == self.url
                    return
        process.kill()
        _, errors = process.communicate(timeout=10)
        pytest.fail(f"the RTSP server did not start ({errors.strip() or 'no ready line'}); {INSTALL_HINT}")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a camera losing power."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=10)

    def stop(self) -> None:
        """End the server if it runs."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            self.process.communicate(timeout=10)


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCamera]:
    """Serve the footage with a visitor from a real RTSP server; end it after the test."""
    camera = RtspCamera(shared_media("video/one-by-one-person-detection.mp4"))
    camera.start()
    yield camera
    camera.stop()


@pytest.mark.timeout(300)
def test_camera_rtsp_server_killed_and_restarted(tmp_path: Path, rtsp_camera: RtspCamera) -> None:
    config, name = single_source_config(rtsp_camera.url)
    board = CameraHealthBoard([name])
    bus = HubBus()
    started: list[EventStarted] = []

    def note_start(message: Message) -> None:
        if isinstance(message, EventStarted) and message.label == "person":
            started.append(message)

    bus.subscribe("test", note_start)
    bus.start()
    events: list[EventRecord] = []
    runner = CameraRunner(
        name,
        config,
        create_detector(config.detector),
        MediaFolder(tmp_path / "media"),
        events.append,
        bus=bus,
        health=board,
    )
    result: list[RunStats] = []
    thread = threading.Thread(target=lambda: result.append(runner.run_live(reconnect=True)), name="camera")

    def health_state() -> str:
        health = board.health(name)
        return health.state if health is not None else "unknown"

    thread.start()
    try:
        wait_for(lambda: health_state() == "online", WAIT_SECONDS, "the camera to come online")
        # The footage's first visitor walks in about 6.6 s after the server started.
        wait_for(lambda: bool(started), WAIT_SECONDS, "a person event")
        visit = started[0]
        wait_for(lambda: runner.stats.frames_analysed >= 10, WAIT_SECONDS, "frames to analyse")
        time.sleep(1.0)  # the visit goes on for a while before the camera dies
        killed_at = time.time()
        rtsp_camera.kill()

        wait_for(lambda: health_state() == "reconnecting", WAIT_SECONDS, "the camera to go reconnecting")
        down = board.health(name)
        assert down is not None
        assert down.reason, down
        assert rtsp_camera.url in down.reason
        # The running visit ends while the camera is down, kept with its clips up to the drop.
        wait_for(lambda: any(r.id == visit.event_id for r in events), WAIT_SECONDS, "the visit to be stored")
        assert health_state() == "reconnecting"
        [record] = [r for r in events if r.id == visit.event_id]
        analysed_before_restart = runner.stats.frames_analysed

        rtsp_camera.start()
        wait_for(lambda: health_state() == "online", WAIT_SECONDS, "the camera to come back online")
        back = board.health(name)
        assert back is not None
        assert back.reconnects >= 1, back
        wait_for(
            lambda: runner.stats.frames_analysed >= analysed_before_restart + 10,
            WAIT_SECONDS,
            "frames analysed after reconnecting",
        )
        # The restarted server plays the footage from its start: its visitors are seen again.
        wait_for(lambda: len(started) >= 2, WAIT_SECONDS, "a person event after reconnecting")
    finally:
        runner.stop_event.set()
        thread.join(timeout=30)
        bus.stop()

    assert not thread.is_alive(), "the runner did not stop when asked"
    [stats] = result  # run_live returned normally: nothing crashed
    assert stats.reconnects >= 1

    assert record.label == "person"
    assert record.start <= record.end <= killed_at
    assert killed_at - record.end < 10, (record.end, killed_at)
    assert record.clips, f"the visit has no clip: {record.clip_error}"
    assert record.clips[0].start <= record.start
    # Nothing seen before the drop is lost: the clips reach the last video that arrived before the kill.
    assert record.clips[-1].end <= killed_at + 1
    assert killed_at - record.clips[-1].end < 5, (record.clips[-1].end, killed_at)
    for clip in record.clips:
        with av.open(clip.path) as container:
            assert container.streams.video[0].codec_context.name == "h264"
            frames = sum(1 for _ in container.decode(video=0))
        assert frames >= (clip.end - clip.start) * 10 * 0.9  # the footage is 10 fps
