"""Blob storage: named byte strings that can be put whole, read by range, listed and deleted.

The interface is what an S3-compatible bucket offers (PUT, ranged GET, HEAD, DELETE, LIST), so a bucket can
replace the local folder later without touching the callers.
"""

from __future__ import annotations

import errno
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from homewarden.store.durable_files import fsync_folder, write_durably

# Parts may not start with a dot: that keeps ".." out, and hides the temporary files of writes in progress.
_NAME_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
MAX_NAME_LENGTH = 1024
ZEROS = bytes(64 * 1024)


class BlobNotFoundError(LookupError):
    """No blob has the name asked for."""


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob's name, size in bytes, and when it was last written (Unix seconds)."""

    name: str
    size: int
    modified: float


def check_blob_name(name: str) -> str:
    """Return ``name`` if it is a relative, '/'-separated name of safe parts; raise ValueError otherwise."""
    if not name or len(name) > MAX_NAME_LENGTH or not all(_NAME_PART.fullmatch(part) for part in name.split("/")):
        raise ValueError(f"blob name {name!r} must be '/'-separated parts of letters, digits, '_', '-' and '.'")
    return name


class BlobStore(ABC):
    """Named blobs: whole writes that appear atomically, ranged reads, listing and deletion."""

    @abstractmethod
    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        """Store the concatenated ``chunks`` under ``name``, replacing any blob there; return the bytes written.

        Readers see the old blob or the whole new one, never part of it; a failed put leaves nothing behind.
        """

    @abstractmethod
    def get(self, name: str, start: int = 0, end: int | None = None) -> bytes:
        """Return bytes ``start`` to ``end`` (exclusive; clipped to the blob's size) of a blob."""

    @abstractmethod
    def stat(self, name: str) -> BlobInfo:
        """Return a blob's size and modification time."""

    @abstractmethod
    def delete(self, name: str) -> bool:
        """Delete a blob; return whether there was one."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Yield every blob whose name starts with ``prefix``, in name order."""

    def exists(self, name: str) -> bool:
        """Tell whether a blob is stored under ``name``."""
        try:
            self.stat(name)
        except BlobNotFoundError:
            return False
        return True


class LocalFolderBlobStore(BlobStore):
    """Blobs as files under one folder, readable by their owner only, written through a temporary file."""

    def __init__(self, root: Path, *, overwrite_on_delete: bool = False) -> None:
        """Keep blobs under ``root``; with ``overwrite_on_delete``, zero a blob's bytes before unlinking it.

        Overwriting is for small secrets such as sealed data keys: it defeats undeleting the file on most
        disks, though not on copy-on-write file systems or flash that remaps blocks.
        """
        self.root = root
        self.overwrite_on_delete = overwrite_on_delete

    def path_of(self, name: str) -> Path:
        """Return the file that holds the blob ``name``."""
        return self.root.joinpath(*check_blob_name(name).split("/"))

    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        """Write into a hidden temporary file beside the blob, flush it to disk, then rename it into place."""
        return write_durably(self.path_of(name), chunks)

    def get(self, name: str, start: int = 0, end: int | None = None) -> bytes:
        """Read a byte range of the blob's file."""
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad byte range {start}-{end}")
        try:
            with self.path_of(name).open("rb") as file:
                file.seek(start)
                return file.read() if end is None else file.read(end - start)
        except FileNotFoundError:
            raise BlobNotFoundError(name) from None

    def stat(self, name: str) -> BlobInfo:
        """Return the size and modification time of the blob's file."""
        try:
            result = self.path_of(name).stat()
        except FileNotFoundError:
            raise BlobNotFoundError(name) from None
        return BlobInfo(name, result.st_size, result.st_mtime)

    def delete(self, name: str) -> bool:
        """Remove the blob's file (zeroed first when asked) and any folders it leaves empty."""
        path = self.path_of(name)
        try:
            if self.overwrite_on_delete:
                _overwrite_with_zeros(path)
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_folder(path.parent)
        self._remove_empty_folders(path.parent)
        return True

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Walk the folder in name order, skipping hidden files (writes in progress)."""
        if not self.root.is_dir():
            return
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            relative = Path(folder).relative_to(self.root).as_posix()
            for file_name in sorted(files):
                if file_name.startswith("."):
                    continue
                name = file_name if relative == "." else f"{relative}/{file_name}"
                if not name.startswith(prefix):
                    continue
                try:
                    result = Path(folder, file_name).stat()
                except FileNotFoundError:
                    continue  # deleted while listing
                yield BlobInfo(name, result.st_size, result.st_mtime)

    def _remove_empty_folders(self, folder: Path) -> None:
        root = self.root.resolve()
        while folder.resolve() != root and folder.resolve().is_relative_to(root):
            try:
                folder.rmdir()
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    return
                raise
            folder = folder.parent


def _overwrite_with_zeros(path: Path) -> None:
    with path.open("r+b") as file:
        remaining = os.fstat(file.fileno()).st_size
        while remaining > 0:
            remaining -= file.write(ZEROS[: min(remaining, len(ZEROS))])
        file.flush()
        os.fsync(file.fileno())
