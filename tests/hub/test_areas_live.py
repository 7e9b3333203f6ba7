"""Two live cameras grouped as one area: people seen on both at once are one intrusion, one alarm, not one each.

Everything is real: each camera is GStreamer's RTSP server (tests/camera/rtsp_server.py, its own process) playing the
shared footage of people walking into a room, looped in real time; the hub is `homewarden run` as a user starts it,
PLAYing both streams over TCP, with the shipped NanoDet. Both servers start together, so the same visitor walks in
on both cameras within a second or two of each other, as one person seen by two cameras of a hall would.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera.test_rtsp_server import RtspCamera
from conftest import init_home_key, media_file, write_config

pytestmark = pytest.mark.slow

CAMERAS = ("hall", "stairs")
# The footage's first visitor walks in about 6.6 s after the servers start; the hub needs a few seconds to connect.
WAIT_SECONDS = 120.0


@pytest.fixture
def two_cameras() -> Iterator[dict[str, RtspCamera]]:
    """Start two RTSP cameras serving the same footage, one after the other at once; stop them after the test."""
    cameras = {name: RtspCamera(media_file("video/one-by-one-person-detection.mp4")) for name in CAMERAS}
    try:
        for camera in cameras.values():
            camera.start()
        yield cameras
    finally:
        for camera in cameras.values():
            camera.stop()


def person_events(database: Path) -> list[tuple[str, float, str | None]]:
    """Return (camera, start, intrusion id) of every saved person event, by start."""
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        try:
            rows = connection.execute(
                "select camera, start, intrusion_id from event where label = 'person' order by start"
            ).fetchall()
        except sqlite3.OperationalError:  # the hub is still creating its tables
            return []
    return [(str(camera), float(start), intrusion) for camera, start, intrusion in rows]


def test_one_visitor_on_two_cameras_of_an_area_is_one_intrusion(
    tmp_path: Path, two_cameras: dict[str, RtspCamera]
) -> None:
    sources = "".join(f"  {name}:\n    source: {camera.url}\n" for name, camera in two_cameras.items())
    config = write_config(tmp_path, f"cameras:\n{sources}areas:\n  house: [{', '.join(CAMERAS)}]\n")
    init_home_key(tmp_path)
    database = tmp_path / "data" / "homewarden.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until both cameras saw the first visitor (a person event is saved when it ends, or at the stop).
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(2)
            assert process.poll() is None, process.communicate()[1]
            if {camera for camera, _, _ in person_events(database)} == set(CAMERAS):
                break
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    events = person_events(database)
    first: dict[str, tuple[float, str | None]] = {}
    for camera, start, intrusion in events:
        first.setdefault(camera, (start, intrusion))
    assert set(first) == set(CAMERAS), f"person events on {sorted(first)} only: {events}"
    # The first visitor, seen by both cameras within seconds: both events belong to one intrusion of the area.
    (hall_start, hall_intrusion), (stairs_start, stairs_intrusion) = first["hall"], first["stairs"]
    assert abs(hall_start - stairs_start) < 15, first
    assert hall_intrusion is not None
    assert hall_intrusion == stairs_intrusion, events
    with sqlite3.connect(database) as connection:
        stored = connection.execute("select count(*) from intrusion where id = ?", (hall_intrusion,)).fetchone()[0]
    assert stored == 1
