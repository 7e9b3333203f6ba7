"""Tests for laying out and writing event media files."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from homewarden.store.media import MediaFolder, camera_folder_name


def test_path_for_puts_files_under_camera_and_utc_day(tmp_path: Path) -> None:
    """Files go to <root>/<camera>/<YYYY-MM-DD>/<event id><suffix>."""
    before = datetime.now(UTC).date().isoformat()
    path = MediaFolder(tmp_path).path_for("front_door", "4b1f0c3e-8d2a-4f3b-9c1e-0a2b3c4d5e6f", ".mp4")
    after = datetime.now(UTC).date().isoformat()

    assert path.parent.parent == tmp_path / "front_door"
    assert path.parent.name in {before, after}
    assert path.name == "4b1f0c3e-8d2a-4f3b-9c1e-0a2b3c4d5e6f.mp4"


@pytest.mark.parametrize(
    ("camera", "folder"),
    [
        ("front_door", "front_door"),
        ("Front Door", "Front_Door"),
        ("../../etc", "_.._etc"),
        ("..", "_"),
        (".hidden", "hidden"),
        ("garage/left", "garage_left"),
        ("Küche", "K_che"),
        ("", "_"),
    ],
)
def test_camera_names_become_safe_folder_names(camera: str, folder: str) -> None:
    """Separators, leading dots and non-ASCII characters cannot escape or hide from the media folder."""
    assert camera_folder_name(camera) == folder


def test_long_camera_names_are_shortened() -> None:
    """A camera name cannot produce a folder name longer than file systems allow."""
    assert len(camera_folder_name("x" * 1000)) == 100


@pytest.mark.parametrize(("event_id", "suffix"), [("../escape", ".mp4"), (".hidden", ".mp4"), ("ok", "/x.mp4")])
def test_path_for_rejects_unsafe_event_ids_and_suffixes(tmp_path: Path, event_id: str, suffix: str) -> None:
    """Event ids and suffixes come from our own code, so an unsafe one is a bug worth stopping."""
    with pytest.raises(ValueError, match=r"safe file name|file extension"):
        MediaFolder(tmp_path).path_for("front_door", event_id, suffix)


def test_write_atomically_creates_the_folder_and_writes_the_bytes(tmp_path: Path) -> None:
    """The file appears complete, readable by its owner only, with no temporary file left beside it."""
    media = MediaFolder(tmp_path)
    path = media.path_for("front_door", "event-1", ".jpg")

    media.write_atomically(path, b"jpeg bytes")

    assert path.read_bytes() == b"jpeg bytes"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]


def test_write_atomically_replaces_an_existing_file(tmp_path: Path) -> None:
    """Writing again swaps in the new content whole."""
    media = MediaFolder(tmp_path)
    path = media.path_for("front_door", "event-1", ".jpg")
    media.write_atomically(path, b"old")

    media.write_atomically(path, b"new")

    assert path.read_bytes() == b"new"
    assert list(path.parent.iterdir()) == [path]


def test_write_atomically_leaves_no_temporary_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed flush to disk removes the temporary file, keeps the old file and re-raises."""
    media = MediaFolder(tmp_path)
    path = media.path_for("front_door", "event-1", ".jpg")
    media.write_atomically(path, b"old")

    def failing_fsync(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("homewarden.store.media.os.fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        media.write_atomically(path, b"new")

    assert path.read_bytes() == b"old"
    assert list(path.parent.iterdir()) == [path]


def test_write_atomically_refuses_paths_outside_the_media_folder(tmp_path: Path) -> None:
    """A path that escapes the root is refused before anything is written."""
    media = MediaFolder(tmp_path / "media")
    outside = tmp_path / "media" / ".." / "elsewhere.jpg"

    with pytest.raises(ValueError, match="outside the media folder"):
        media.write_atomically(outside, b"data")

    assert not (tmp_path / "elsewhere.jpg").exists()


def test_temporary_path_is_hidden_beside_the_final_file(tmp_path: Path) -> None:
    """The temporary name sits in the same folder (so the rename is atomic) and starts with a dot."""
    media = MediaFolder(tmp_path)
    final = media.path_for("front_door", "event-1", ".mp4")

    temp = media.temporary_path_for(final)

    assert temp.parent == final.parent
    assert temp.parent.is_dir()
    assert re.fullmatch(r"\.event-1\.mp4\.partial", temp.name)


def test_publish_moves_the_finished_file_into_place(tmp_path: Path) -> None:
    """A streamed clip appears under its final name only once published."""
    media = MediaFolder(tmp_path)
    final = media.path_for("front_door", "event-1", ".mp4")
    temp = media.temporary_path_for(final)
    with temp.open("wb") as clip:
        clip.write(b"first half ")
        assert not final.exists()
        clip.write(b"second half")

    media.publish(temp, final)

    assert final.read_bytes() == b"first half second half"
    assert not temp.exists()


def test_discard_removes_an_unfinished_file_and_tolerates_a_missing_one(tmp_path: Path) -> None:
    """Discarding cleans up after a failed recording, and is safe to call twice."""
    media = MediaFolder(tmp_path)
    final = media.path_for("front_door", "event-1", ".mp4")
    temp = media.temporary_path_for(final)
    temp.write_bytes(b"half a clip")

    media.discard(temp)
    media.discard(temp)

    assert list(final.parent.iterdir()) == []
