"""A real file system that fills up: a 2 MiB tmpfs mounted for one test (root only), and a file that fills it."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

DISK_SIZE = "2m"


@contextlib.contextmanager
def mounted_small_disk(folder: Path, size: str = DISK_SIZE) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``folder`` until the block ends; fail loudly where mounting is not allowed.

    The suite runs as root on its CI machine; a full disk is worth testing for real rather than skipping.
    """
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.fail("mounting a small tmpfs (a real full disk) needs root: run the suite as root", pytrace=False)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}", pytrace=False)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte with one file; return it (deleting it gives the space back)."""
    filler = disk / "filler"
    block = b"\0" * 65536
    with filler.open("wb", buffering=0) as file:
        while True:
            try:
                file.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return filler


def leftovers(disk: Path) -> list[Path]:
    """Return the half-written files on the disk (hidden .partial files and anything but MP4s)."""
    return [path for path in disk.rglob("*") if path.is_file() and path.name != "filler" and path.suffix != ".mp4"] + [
        path for path in disk.rglob(".*") if path.is_file()
    ]
