"""`homewarden run`: live cameras until stopped; SIGTERM finishes open clips and exits cleanly."""

from __future__ import annotations

import io
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from conftest import error_lines, init_home_key, media_file, read_sealed, write_config


@pytest.mark.slow
def test_sigterm_during_an_event_closes_its_clip_and_saves_it(tmp_path: Path) -> None:
    video = media_file("video/one-by-one-person-detection.mp4")
    # A file in `run` is paced like a camera; the first visitor walks in at about 6.6 s.
    config = write_config(tmp_path, f"cameras:\n  hall:\n    source: {video}\n")
    init_home_key(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(14)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "stopped cleanly" in stderr
    with sqlite3.connect(tmp_path / "data" / "homewarden.db") as connection:
        events = connection.execute("select id, label, live, start from event").fetchall()
        clips = [row[0] for row in connection.execute("select path from clip")]
    assert [(label, live) for _, label, live, _ in events] == [("person", 1)]
    # Live events carry Unix times.
    assert events[0][3] > 1_700_000_000
    assert len(clips) == 1
    with av.open(io.BytesIO(read_sealed(tmp_path, clips[0]))) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) > 50
    assert not list(tmp_path.rglob("*.partial"))


def test_run_refuses_a_config_without_cameras(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert error_lines(result.stderr) == [f"homewarden: error: {config}: no enabled cameras"]
