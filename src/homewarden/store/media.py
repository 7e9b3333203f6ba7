"""Where event clips and snapshots live on disk, and how they get there without half-written files."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from homewarden.store.durable_files import fsync_folder, write_durably

_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")
_SAFE_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_SAFE_SUFFIX = re.compile(r"(-[0-9]+)?(\.[A-Za-z0-9]+)*")
MAX_CAMERA_FOLDER_LENGTH = 100


def camera_folder_name(camera: str) -> str:
    """Turn a camera name into a folder name that cannot climb out of, or hide in, the media folder."""
    name = _UNSAFE_CHARACTERS.sub("_", camera).lstrip(".")[:MAX_CAMERA_FOLDER_LENGTH]
    return name or "_"


class MediaFolder:
    """The folder holding every camera's clips and snapshots, one sub-folder per camera and UTC day."""

    # A sealed media folder encrypts what it stores: clips are then written in memory and handed to
    # write_atomically whole, never streamed to a plaintext temporary file.
    sealed = False

    def __init__(self, root: Path) -> None:
        """Keep media under ``root``; folders are created when the first file is written."""
        self.root = root

    def path_for(self, camera: str, event_id: str, suffix: str) -> Path:
        """Return ``<root>/<camera>/<today, UTC>/<event_id><suffix>`` for a new file of an event."""
        if not _SAFE_PART.fullmatch(event_id):
            raise ValueError(f"event id {event_id!r} is not a safe file name")
        if not _SAFE_SUFFIX.fullmatch(suffix):
            raise ValueError(f"suffix {suffix!r} is not a file extension like '.mp4' or '-2.mp4'")
        today = datetime.now(UTC).date().isoformat()
        return self.root / camera_folder_name(camera) / today / f"{event_id}{suffix}"

    def write_atomically(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` so that readers see either the old file, or the whole new one."""
        self._check_inside(path)
        write_durably(path, [data])

    def temporary_path_for(self, final: Path) -> Path:
        """Return a hidden path beside ``final`` to stream into before ``publish``; create its folder."""
        self._check_inside(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f".{final.name}.partial")

    def publish(self, temp: Path, final: Path) -> None:
        """Flush the finished ``temp`` file to disk and move it to ``final`` in one step."""
        self._check_inside(final)
        with temp.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(temp, final)
        fsync_folder(final.parent)

    def discard(self, temp: Path) -> None:
        """Remove an unfinished temporary file, if there is one."""
        self._check_inside(temp)
        temp.unlink(missing_ok=True)

    def _check_inside(self, path: Path) -> None:
        """Refuse paths outside the media folder, so a bad path cannot overwrite other files."""
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"{path} is outside the media folder {self.root}")
