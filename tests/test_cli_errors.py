"""`homewarden analyze` with bad input: exit code 2, one line on stderr, nothing printed and nothing stored."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import error_lines, media_file, write_config
from homewarden.cli import main
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
    "unknown config key": (good_video, "record:\n  colour: red\n", "record.colour: unknown key"),
    "out-of-range value": (
        good_video,
        "record:\n  max_clip: 1000\n",
        "record.max_clip: Input should be less than or equal to 300",
    ),
    "unknown camera key": (
        good_video,
        "cameras:\n  hall:\n    source: x.mp4\n    fps: 5\n",
        "cameras.hall.fps: unknown key",
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
    # Besides the error, the one line saying which config and database the command uses (when the config loads).
    lines = error_lines(result.stderr)
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


def member_folder(household: Path, name: str, *photos: Path) -> Path:
    """Make a member's sub-folder in a one-run household folder with copies of some photos."""
    folder = household / name
    folder.mkdir(parents=True)
    for photo in photos:
        (folder / photo.name).write_bytes(photo.read_bytes())
    return folder


def obama() -> Path:
    return media_file("faces/enroll/obama/obama.jpg")


def missing_folder(folder: Path) -> Path:
    return folder / "nobody-here"


def empty_folder(folder: Path) -> Path:
    household = folder / "household"
    household.mkdir()
    return household


def photos_without_member_folders(folder: Path) -> Path:
    household = empty_folder(folder)
    (household / "obama.jpg").write_bytes(obama().read_bytes())
    return household


def a_photo_instead_of_a_folder(folder: Path) -> Path:
    photo = folder / "obama.jpg"
    photo.write_bytes(obama().read_bytes())
    return photo


def a_member_without_photos(folder: Path) -> Path:
    household = empty_folder(folder)
    member_folder(household, "obama", obama())
    (member_folder(household, "bob") / "notes.txt").write_text("photos to come\n")
    return household


def a_file_that_is_not_a_photo(folder: Path) -> Path:
    household = empty_folder(folder)
    (member_folder(household, "bob") / "bob.jpg").write_text("shopping list: milk, eggs\n")
    return household


def a_photo_without_a_face(folder: Path) -> Path:
    household = empty_folder(folder)
    wall = np.full((480, 640, 3), 128, np.uint8)
    cv2.imwrite(str(member_folder(household, "obama", obama()) / "wall.jpg"), wall)
    return household


def a_bad_member_name(folder: Path) -> Path:
    household = empty_folder(folder)
    member_folder(household, "unknown", obama())
    return household


FACES_CASES = {
    "missing folder": (
        missing_folder,
        "nobody-here: no such folder; give a folder with one sub-folder of photos per member",
    ),
    "empty folder": (empty_folder, "household: no member sub-folders (one folder of photos per member)"),
    "photos without member folders": (
        photos_without_member_folders,
        "household: no member sub-folders (one folder of photos per member); the photos directly in it belong in a "
        "sub-folder named after their member",
    ),
    "a photo instead of a folder": (
        a_photo_instead_of_a_folder,
        "obama.jpg: not a folder; give a folder with one sub-folder of photos per member",
    ),
    "a member without photos": (
        a_member_without_photos,
        "household/bob: no photos (JPEG, PNG, BMP or WebP) of this member",
    ),
    "a file that is not a photo": (
        a_file_that_is_not_a_photo,
        "household/bob/bob.jpg: not a photo (JPEG, PNG, BMP or WebP)",
    ),
    "a photo without a face": (
        a_photo_without_a_face,
        "household/obama/wall.jpg: no face found; use a photo that shows the face from the front",
    ),
    "a reserved member name": (
        a_bad_member_name,
        "household/unknown: member name 'unknown' is reserved for faces that match nobody",
    ),
}


def household_analysis(folder: Path, household: Path, given_by: str) -> list[str]:
    """Return the arguments of `analyze` on a good video with a one-run household by `--faces DIR` or the config."""
    config = write_config(folder, f"faces:\n  gallery_folder: {household}\n" if given_by == "config" else "")
    faces = ["--faces", str(household)] if given_by == "--faces" else []
    return ["analyze", good_video(folder), "--json", "--config", str(config), "--out", str(folder / "clips"), *faces]


def assert_nothing_started(folder: Path) -> None:
    """Check that the run stopped before it opened or wrote anything: no clips, no database, no storage folder."""
    assert not (folder / "clips").exists()
    assert not (folder / "data").exists()


# In process, so the whole matrix costs no interpreter start-ups; the real process is checked below.
@pytest.mark.parametrize("given_by", ["--faces", "config"])
@pytest.mark.parametrize("case", list(FACES_CASES))
def test_a_faces_folder_that_cannot_be_a_household_stops_analyze_before_it_starts(
    tmp_path: Path, case: str, given_by: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_household, expected = FACES_CASES[case]
    arguments = household_analysis(tmp_path, make_household(tmp_path), given_by)

    code = main(arguments)

    out, err = capsys.readouterr()
    assert (code, out, error_lines(err)) == (2, "", [f"homewarden: error: {tmp_path}/{expected}"])
    assert_nothing_started(tmp_path)


@pytest.mark.parametrize("given_by", ["--faces", "config"])
def test_a_bad_faces_folder_is_one_line_from_a_real_process(tmp_path: Path, given_by: str) -> None:
    """Exit code 2 and one line, once the face models have loaded: no traceback, no warning, nothing on stdout."""
    arguments = household_analysis(tmp_path, a_photo_without_a_face(tmp_path), given_by)
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", *arguments], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert error_lines(result.stderr) == [f"homewarden: error: {tmp_path}/{FACES_CASES['a photo without a face'][1]}"]
    assert result.stdout == ""
    assert_nothing_started(tmp_path)


def test_python_dash_m_homewarden_cli_runs_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "homewarden.cli", "analyze", missing_file(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert error_lines(result.stderr)[0].startswith("homewarden: error: ")
