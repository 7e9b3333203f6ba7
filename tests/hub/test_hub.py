"""The hub that `run`, `serve` and `demo` share: several cameras with people at once, state, status, offline notice."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import error_lines, init_home_key, media_file, write_config
from homewarden.cli import main
from homewarden.hub.hub import Hub
from homewarden.notify.bus import CameraOffline, CameraStatusChanged, Message

pytestmark = pytest.mark.slow

CAMERAS = ["hall", "kitchen", "garage", "porch"]


def status_of(config: Path) -> tuple[int, dict[str, object]]:
    """Run `homewarden status --json` as a user would; return its exit code and what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "status", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert error_lines(result.stderr) == [], result.stderr
    return result.returncode, json.loads(result.stdout)


def test_four_cameras_with_people_at_once_all_keep_their_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Faces walking towards the camera, on four cameras at once: every camera looks for faces at the same moment
    # (the household was loaded by each camera thread, migrating the database, before the hub built it once).
    video = media_file("video/face-demographics-walking.gif")
    cameras = "".join(f"  {name}:\n    source: {video}\n    loop: true\n" for name in CAMERAS)
    config = write_config(tmp_path, f"cameras:\n{cameras}")
    init_home_key(tmp_path)
    assert (
        main(["faces", "enroll", "obama", str(media_file("faces/enroll/obama/obama.jpg")), "--config", str(config)])
        == 0
    )
    capsys.readouterr()
    process = subprocess.Popen(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        code, status = -1, {}
        while time.monotonic() < deadline:
            time.sleep(2)
            assert process.poll() is None, process.communicate()[1]
            if (tmp_path / "data" / "hub-status.json").exists():
                code, status = status_of(config)
                cameras_state = status["cameras"]
                assert isinstance(cameras_state, dict)
                if code == 0 and all(c["frames_analysed"] > 30 for c in cameras_state.values()):
                    break
        assert code == 0, status
        assert status["running"] is True
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert " failed" not in stderr
    with sqlite3.connect(tmp_path / "data" / "homewarden.db") as connection:
        per_camera = dict(
            connection.execute("select camera, count(*) from event where label = 'person' group by camera")
        )
    assert sorted(per_camera) == sorted(CAMERAS), per_camera
    code, status = status_of(config)
    assert code == 1
    assert status["running"] is False
    cameras_state = status["cameras"]
    assert isinstance(cameras_state, dict)
    assert {c["state"] for c in cameras_state.values()} == {"stopped"}


def closed_port() -> int:
    """Return a local port nobody listens on (a camera that is unplugged)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unplugged_camera_is_shown_down_and_raises_the_offline_notice_when_armed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = media_file("video/people-detection.gif")
    config = write_config(
        tmp_path,
        f"cameras:\n  hall:\n    source: {video}\n    loop: true\n"
        f"  door:\n    source: rtsp://127.0.0.1:{closed_port()}/stream\n"
        "alarm:\n  mode: away\n  camera_offline_after: 5\n",
    )
    init_home_key(tmp_path)
    hub = Hub.build(config, "run")
    heard: list[Message] = []
    hub.services.bus.subscribe("test", heard.append)
    try:
        hub.start(wait_for_setup=False)
        deadline = time.monotonic() + 40
        while not any(isinstance(m, CameraOffline) for m in heard):
            assert time.monotonic() < deadline, heard
            time.sleep(0.2)
        assert main(["status", "--config", str(config)]) == 1
        printed = capsys.readouterr().out
    finally:
        hub.stop()
    offline = [m for m in heard if isinstance(m, CameraOffline)]
    assert [(m.camera, m.mode) for m in offline] == [("door", "away")]
    assert "connection refused" in offline[0].reason.lower()
    assert offline[0].at - offline[0].down_since >= 5
    changes = [(m.camera, m.state) for m in heard if isinstance(m, CameraStatusChanged)]
    assert ("door", "reconnecting") in changes
    assert ("hall", "online") in changes
    assert ("hall", "reconnecting") not in changes
    assert "hub running" in printed
    assert "  hall: online" in printed
    door_line = next(line for line in printed.splitlines() if line.startswith("  door:"))
    assert "reconnecting" in door_line
    assert "refused" in door_line.lower()


def test_status_before_any_hub_ran_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "cameras:\n  hall:\n    source: rtsp://127.0.0.1:1/x\n")
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("homewarden: error: no hub has reported")


def test_status_of_a_hub_that_died_says_it_is_not_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from homewarden.camera.health import CameraHealth
    from homewarden.hub.status import status_path, write_status

    config = write_config(tmp_path, "cameras:\n  hall:\n    source: rtsp://127.0.0.1:1/x\n")
    (tmp_path / "data").mkdir()
    # What a hub killed with SIGKILL leaves: its last status, written a minute before.
    path = status_path(tmp_path / "data")
    write_status(path, "run", {"hall": CameraHealth("hall", "online", None, time.time() - 600)})
    old = time.time() - 60
    document = json.loads(path.read_text())
    document["written_at"] = old
    path.write_text(json.dumps(document))
    assert main(["status", "--config", str(config)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("hub NOT running: its last status is of")
    assert "  hall: online" in printed
