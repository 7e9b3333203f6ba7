"""`analyze --realtime` paces a file like a camera: it takes the video's own time, and frames may be dropped."""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pytest

from conftest import init_home_key, media_file, write_config
from homewarden.cli import main


@pytest.mark.slow
def test_realtime_takes_the_videos_duration_and_still_finds_the_people(tmp_path: Path) -> None:
    video = media_file("video/head-pose-face-detection-female-and-male.gif")  # 4.7 s, two people
    config = write_config(tmp_path)
    init_home_key(tmp_path)
    out = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        code = main(["analyze", str(video), "--realtime", "--json", "--config", str(config)])
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed >= 4.5
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [event["label"] for event in events] == ["person", "person"]
    # A file stays a file: times are seconds from its start, not wall-clock times.
    assert all(isinstance(event["start"], float) and 0 <= event["start"] < 5 for event in events)
