"""A camera's RTSP server killed and restarted: the hub reconnects, and nothing seen before the drop is lost.

Everything is real: the camera is GStreamer's RTSP server (tests/camera/rtsp_server.py, run by Debian's Python as its
own process) serving the shared footage's H.264 at rtsp://127.0.0.1:PORT/live; the hub PLAYs it over TCP through
FFmpeg's RTSP client (PyAV, in homewarden.video.source), and the camera runner, recorder and NanoDet detector are the
shipped ones. The server is killed with SIGKILL in the middle of a visit, as a camera losing power would be, and
started again on the same port; or stopped with SIGSTOP, a camera that hangs with its connection open.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from conftest import media_file
from homewarden.camera.health import CameraHealth, CameraHealthBoard
from homewarden.camera.runner import CameraRunner, RunStats
from homewarden.config import single_source_config
from homewarden.detect import create_detector
from homewarden.events.record import EventRecord
from homewarden.notify.bus import EventStarted, HubBus, Message
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource
from waiting import wait_for

pytestmark = pytest.mark.slow

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

    def freeze(self) -> None:
        """Stop the server process (SIGSTOP): its connections stay open and send nothing, as a hung camera's."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        """End the server if it runs."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()  # also ends a frozen process
            self.process.communicate(timeout=10)


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCamera]:
    """Serve the footage with a visitor from a real RTSP server; end it after the test."""
    camera = RtspCamera(media_file("video/one-by-one-person-detection.mp4"))
    camera.start()
    yield camera
    camera.stop()


class HubCamera:
    """The hub's side: the real CameraRunner playing one URL in a thread, with a health board and a bus."""

    def __init__(self, url: str, media: Path) -> None:
        config, self.name = single_source_config(url)
        self.board = CameraHealthBoard([self.name])
        self.bus = HubBus()
        self.started: list[EventStarted] = []
        self.events: list[EventRecord] = []
        self.bus.subscribe("test", self._note_start)
        self.runner = CameraRunner(
            self.name,
            config,
            create_detector(config.detector),
            MediaFolder(media),
            self.events.append,
            bus=self.bus,
            health=self.board,
        )
        self._result: list[RunStats] = []
        self._thread = threading.Thread(target=self._run, name="camera")

    def _note_start(self, message: Message) -> None:
        if isinstance(message, EventStarted) and message.label == "person":
            self.started.append(message)

    def _run(self) -> None:
        self._result.append(self.runner.run_live(reconnect=True))

    def __enter__(self) -> HubCamera:
        self.bus.start()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.runner.stop_event.set()
        self._thread.join(timeout=30)
        self.bus.stop()

    def health(self) -> CameraHealth:
        """Return the camera's health as the board has it now."""
        health = self.board.health(self.name)
        assert health is not None
        return health

    def frames(self) -> int:
        """Return how many frames the runner has analysed."""
        return self.runner.stats.frames_analysed

    def stats(self) -> RunStats:
        """Return what run_live returned, checking it stopped when asked and returned normally (nothing crashed)."""
        assert not self._thread.is_alive(), "the runner did not stop when asked"
        [stats] = self._result
        return stats


@pytest.mark.timeout(300)
def test_camera_rtsp_server_killed_and_restarted(tmp_path: Path, rtsp_camera: RtspCamera) -> None:
    with HubCamera(rtsp_camera.url, tmp_path / "media") as hub:
        wait_for(lambda: hub.health().state == "online", WAIT_SECONDS, "the camera to come online")
        # The footage's first visitor walks in about 6.6 s after the server started.
        wait_for(lambda: bool(hub.started), WAIT_SECONDS, "a person event")
        visit = hub.started[0]
        wait_for(lambda: hub.frames() >= 10, WAIT_SECONDS, "frames to analyse")
        time.sleep(1.0)  # the visit goes on for a while before the camera dies
        killed_at = time.time()
        rtsp_camera.kill()

        wait_for(lambda: hub.health().state == "reconnecting", WAIT_SECONDS, "the camera to go reconnecting")
        reason = hub.health().reason
        assert reason is not None
        assert rtsp_camera.url in reason
        # The running visit ends while the camera is down, kept with its clips up to the drop.
        wait_for(lambda: any(r.id == visit.event_id for r in hub.events), WAIT_SECONDS, "the visit to be stored")
        assert hub.health().state == "reconnecting"
        [record] = [r for r in hub.events if r.id == visit.event_id]
        analysed_before_restart = hub.frames()

        rtsp_camera.start()
        wait_for(lambda: hub.health().state == "online", WAIT_SECONDS, "the camera to come back online")
        assert hub.health().reconnects >= 1
        wait_for(lambda: hub.frames() >= analysed_before_restart + 10, WAIT_SECONDS, "frames after reconnecting")
        # The restarted server plays the footage from its start: its visitors are seen again.
        wait_for(lambda: len(hub.started) >= 2, WAIT_SECONDS, "a person event after reconnecting")
    assert hub.stats().reconnects >= 1

    assert record.label == "person"
    # Frames already on their way when the server died arrive (and are stamped) a moment after the kill.
    assert record.start <= record.end <= killed_at + 1
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


@pytest.mark.timeout(300)
def test_camera_that_hangs_with_its_connection_open_is_dropped_not_waited_on(
    tmp_path: Path, rtsp_camera: RtspCamera
) -> None:
    # A camera that hangs (or loses power without closing its TCP connection) sends nothing and never hangs up:
    # FFmpeg's read must time out rather than wait for ever.
    with HubCamera(rtsp_camera.url, tmp_path / "media") as hub:
        wait_for(lambda: hub.frames() >= 10, WAIT_SECONDS, "frames to analyse")
        rtsp_camera.freeze()
        wait_for(lambda: hub.health().state == "reconnecting", WAIT_SECONDS, "the hung camera to be dropped")
        reason = hub.health().reason
        assert reason is not None
        assert rtsp_camera.url in reason
        assert reason.endswith("the camera sent nothing for 10 s")
        rtsp_camera.kill()
        analysed_before_restart = hub.frames()
        rtsp_camera.start()
        wait_for(lambda: hub.health().state == "online", WAIT_SECONDS, "the camera to come back online")
        wait_for(lambda: hub.frames() >= analysed_before_restart + 10, WAIT_SECONDS, "frames after reconnecting")
    assert hub.stats().reconnects >= 1


@pytest.mark.timeout(120)
def test_a_client_joining_the_stream_decodes_from_the_first_keyframe_it_gets(rtsp_camera: RtspCamera) -> None:
    # FFmpeg's RTSP client hands over the first keyframe before the server's clock report, without a time. Dropped
    # unread, every frame up to the next keyframe (a camera's whole first second or more, at each reconnect) could
    # not be decoded; read only to prime the decoder, they are.
    source = VideoSource(rtsp_camera.url)
    source.open()
    try:
        timed_keyframes: list[int] = []
        decoded: list[int | None] = []
        for count, (packet, raw) in enumerate(source.packets()):
            if packet.keyframe:
                timed_keyframes.append(packet.pts)
            decoded += [frame.pts for frame in source.decode(raw)]
            if len(timed_keyframes) >= 2 or count > 200:
                break
    finally:
        source.close()
    assert None not in decoded, decoded  # the primed keyframe's own picture, without a time, is not shown
    assert timed_keyframes, decoded
    # Frames shown before the first keyframe that came with a time: built on the untimed one.
    before = [pts for pts in decoded if pts is not None and pts < timed_keyframes[0]]
    assert len(before) >= 3, (timed_keyframes, decoded)
