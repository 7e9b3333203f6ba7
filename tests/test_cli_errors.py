"""`homewarden analyze` with bad input: exit code 2, one line on stderr, nothing printed and nothing stored."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_config
from video.synthetic import write_video


def good_video(folder: Path) -> str:
    return str(write_video(folder / "good.mp4", seconds=2))


def missing_file(folder: Path) -> str:
    return str(folder / "nothing-here.mp4")


def not_a_video(folder: Path) -> str:
    path = folder / "notes.mp4"
    path.write_text("shopping list: milk, eggs\n")
    return str(path)


def truncated(folder: Path) -> str:
    full = write_video(folder / "full.mp4", seconds=4)  # no faststart: the index is at the end, and is cut off
    path = folder / "cut.mp4"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    return str(path)


def unreachable_rtsp(_folder: Path) -> str:
    return "rtsp://admin:hunter2@127.0.0.1:1/x"


CASES = {
    "missing file": (missing_file, "", "nothing-here.mp4: no such file"),
    "not a video": (not_a_video, "", "notes.mp4: not a video file, or its data is corrupt"),
    "truncated": (truncated, "", "cut.mp4: not a video file, or its data is corrupt"),
    "unreachable rtsp": (
        unreachable_rtsp,
        "",
        "rtsp://admin:***@127.0.0.1:1/x: cannot connect (Connection refused)",
    ),
    "unknown config key": (good_video, "record:\n  colour: red\n", "record.colour: Extra inputs are not permitted"),
    "out-of-range value": (
        good_video,
        "record:\n  max_clip: 1000\n",
        "record.max_clip: Input should be less than or equal to 300",
    ),
    "unknown camera key": (
        good_video,
        "cameras:\n  hall:\n    source: x.mp4\n    fps: 5\n",
        "cameras.hall.fps: Extra inputs are not permitted",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_error_line_and_nothing_is_stored(tmp_path: Path, case: str) -> None:
    make_source, config_text, expected = CASES[case]
    source = make_source(tmp_path)
    config = write_config(tmp_path, config_text)
    media = tmp_path / "clips"
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "analyze", source, "--json", "--config", str(config), "--out", str(media)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("homewarden: error: ")
    assert lines[0].endswith(expected)
    assert "hunter2" not in result.stderr
    assert result.stdout == ""
    assert not media.exists()
    database = tmp_path / "data" / "homewarden.db"
    if database.exists():
        with sqlite3.connect(database) as connection:
            assert connection.execute("select count(*) from event").fetchone() == (0,)
    assert [path for path in (tmp_path / "data").rglob("*") if path.suffix in (".mp4", ".jpg")] == []


def test_python_dash_m_homewarden_cli_runs_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "homewarden.cli", "analyze", missing_file(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("homewarden: error: ")
