"""Files that are either whole or absent: written beside their place, flushed, renamed in, the folder flushed."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

# The hub's files hold footage, keys and accounts of a home: no other user of the machine may read them.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
PRIVATE_UMASK = 0o077


@contextlib.contextmanager
def new_files_private() -> Iterator[None]:
    """Create every file and folder readable by this user only while the block runs, whatever the umask was.

    The umask covers what libraries create too (SQLite's -wal and -shm, folders made by mkdir), which a chmod after
    the fact would leave readable for a moment.
    """
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(path: Path, mode: int) -> None:
    """Give ``path`` ``mode`` if group or others may use it (an older version or another command made it so)."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(mode)


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and its missing parents) readable by this user only, or make an existing one so."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    make_private(folder, PRIVATE_FOLDER)


def create_private_temporary(path: Path) -> tuple[int, str]:
    """Create a hidden temporary file beside `path`, readable by its owner only; return its descriptor and name."""
    for attempt in range(2):
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        try:
            # mkstemp creates the file readable by its owner only, which suits keys and footage of people's homes.
            return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        except FileNotFoundError:
            # A delete elsewhere removed the folder once it was empty, between mkdir and mkstemp.
            if attempt:
                raise
    raise AssertionError("unreachable")


def write_durably(path: Path, chunks: Iterable[bytes]) -> int:
    """Write `chunks` to `path` so that readers see the old file or the whole new one; return the bytes written."""
    descriptor, temp_name = create_private_temporary(path)
    written = 0
    try:
        with os.fdopen(descriptor, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
                written += len(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return written


def create_once(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` unless it exists; return whether this call made it.

    The file is written whole beside its place and linked in, never renamed over: of processes racing to make the same
    key, the first one's wins and the others read it (a rename would let a loser replace a key already sealed with).
    """
    descriptor, temporary = create_private_temporary(path)
    made = False
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            made = True
    finally:
        Path(temporary).unlink(missing_ok=True)
    fsync_folder(path.parent)
    return made


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries so a rename or unlink in it survives a power cut."""
    with contextlib.suppress(FileNotFoundError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def remove_unfinished_writes(folder: Path) -> int:
    """Delete the temporary files of writes a killed process left under ``folder``; return how many went.

    Call it only while nothing writes there (the hub does, before its cameras start).
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for temp in folder.rglob(".*.partial"):
        if temp.is_file():
            temp.unlink(missing_ok=True)
            removed += 1
    return removed
