"""Faults the hub survives, each against the real part: PostgreSQL restarted mid-event, `kill -9` mid-clip."""

from __future__ import annotations

import io
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import psycopg
import pytest

from conftest import init_home_key, media_file, read_sealed, write_config
from homewarden.hub.hub import Hub
from homewarden.notify.bus import EventEnded, EventStarted, Message
from services import private_postgres
from waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_an_event_that_ends_while_postgres_restarts_is_saved_once_it_is_back(tmp_path: Path) -> None:
    video = media_file("video/one-by-one-person-detection.mp4")  # the first visitor walks in at about 6.6 s
    with private_postgres(Path(tempfile.mkdtemp(prefix="homewarden-pg-"))) as postgres:
        config = tmp_path / "homewarden.yaml"
        config.write_text(
            f"storage:\n  folder: {tmp_path / 'data'}\n  database_url: {postgres.url}\n"
            f"cameras:\n  hall:\n    source: {video}\n"
        )
        init_home_key(tmp_path)
        hub = Hub.build(config, "run")
        heard: list[Message] = []
        hub.services.bus.subscribe("test", heard.append)
        try:
            hub.start(wait_for_setup=False)
            wait_for(lambda: any(isinstance(m, EventStarted) for m in heard), 40, "the first visitor's event")
            postgres.stop()
            wait_for(lambda: any(isinstance(m, EventEnded) for m in heard), 60, "the event to end")
            ended = next(m.record for m in heard if isinstance(m, EventEnded))
            wait_for(lambda: ended.id in hub.outbox.pending(), 10, "the event to wait on disk")
            time.sleep(3)  # the outbox tries again (and is refused) while the server is down
            postgres.start()
            conninfo = f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres"

            def saved() -> bool:
                with psycopg.connect(conninfo) as connection:
                    return connection.execute("select count(*) from event where id = %s", (ended.id,)).fetchone() == (
                        1,
                    )

            wait_for(saved, 60, "the event to be saved after the restart")
        finally:
            hub.stop()
        with psycopg.connect(conninfo) as connection:
            clips = [row[0] for row in connection.execute("select path from clip where event_id = %s", (ended.id,))]
    assert hub.outbox.pending() == []
    assert clips
    with av.open(io.BytesIO(read_sealed(tmp_path, clips[0]))) as container:
        assert sum(1 for _ in container.decode(video=0)) > 20


def test_a_hub_killed_mid_clip_restarts_with_every_earlier_event_intact(tmp_path: Path) -> None:
    video = media_file("video/one-by-one-person-detection.mp4")
    config = write_config(tmp_path, f"cameras:\n  hall:\n    source: {video}\n    loop: true\n")
    init_home_key(tmp_path)
    command = [sys.executable, "-m", "homewarden", "run", "--config", str(config)]
    database = tmp_path / "data" / "homewarden.db"

    def saved_events() -> list[tuple[str, str]]:
        if not database.exists():
            return []
        with sqlite3.connect(database) as connection:
            try:
                return list(
                    connection.execute("select event.id, path from event join clip on clip.event_id = event.id")
                )
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                return []  # the hub is still creating its tables

    first_log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=first_log, text=True)
    try:
        wait_for(lambda: len(saved_events()) >= 1, 90, "the first visit's event")
        # The second visitor walks in at about 33 s: kill the hub while that clip is being recorded.
        started = time.monotonic()
        wait_for(lambda: time.monotonic() - started > 8, 20, "the second visit")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first_log.close()
    before = saved_events()
    # What a write cut short leaves behind (a hidden temporary file beside its object).
    leftover = tmp_path / "data" / "media" / "hall" / ".orphan.sealed.x1y2.partial"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"half a clip")
    second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (tmp_path / "data" / "hub-status.json").exists() and not leftover.exists(), 60, "a restart")
        time.sleep(5)
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=90)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    assert second.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert not list((tmp_path / "data").rglob("*.partial"))
    with sqlite3.connect(database) as connection:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
        clip_paths = {row[0] for row in connection.execute("select path from clip")}
    for event_id, path in before:
        assert path in clip_paths, f"event {event_id} lost its clip"
        with av.open(io.BytesIO(read_sealed(tmp_path, path))) as container:
            assert sum(1 for _ in container.decode(video=0)) > 20
