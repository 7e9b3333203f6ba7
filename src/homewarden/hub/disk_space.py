"""The storage disk running out: warned on the storage page and by a notice, cleared when space returns."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homewarden.notify.bus import StorageProblem

log = logging.getLogger(__name__)

# Below this much free space a clip of a minute at 1080p (about 15 MB) may not fit: warn before it fails.
LOW_SPACE_BYTES = 64 * 2**20
NO_SPACE_TEXT = os.strerror(errno.ENOSPC)


@dataclass(frozen=True)
class DiskSpace:
    """The storage disk's free space and, when recording is at risk or failed for want of space, why."""

    free_bytes: int
    problem: str | None
    since: float | None


class DiskSpaceWatch:
    """Look at the storage disk; publish a StorageProblem when space runs out and again when it returns."""

    def __init__(self, folder: Path, home_id: int, publish: Callable[[StorageProblem], None]) -> None:
        """Watch the disk that holds ``folder``, the storage of the hub's home ``home_id``."""
        self.folder = folder
        self.home_id = home_id
        self._publish = publish
        self._lock = threading.Lock()
        self._state = DiskSpace(free_bytes=-1, problem=None, since=None)
        self._clip_failed = False

    @property
    def state(self) -> DiskSpace:
        """Return what was seen last."""
        with self._lock:
            return self._state

    def clip_failed(self, error: str) -> None:
        """Note a clip that could not be written; a full disk becomes a problem at once."""
        if NO_SPACE_TEXT.lower() in error.lower() or "no space" in error.lower():
            with self._lock:
                self._clip_failed = True
            self.check()

    def check(self) -> DiskSpace:
        """Measure the free space now; publish a change of problem."""
        measured: str | None = None
        try:
            free = shutil.disk_usage(self.folder).free
        except OSError as exc:
            free, measured = -1, f"the storage folder {self.folder} cannot be read: {exc.strerror}"
        with self._lock:
            if free >= LOW_SPACE_BYTES * 2:
                # Room again (hysteresis: twice the warning level, so it does not flap): recording goes on as usual.
                self._clip_failed = False
            problem = measured
            if problem is None and self._clip_failed:
                problem = f"the storage disk is full ({_megabytes(free)} free): clips could not be written"
            elif problem is None and 0 <= free < LOW_SPACE_BYTES:
                problem = f"the storage disk is almost full ({_megabytes(free)} free): new clips may fail"
            previous = self._state
            changed = (problem is None) != (previous.problem is None)
            since = (time.time() if problem else None) if changed else previous.since
            self._state = DiskSpace(free, problem, since)
        if changed:
            if problem:
                log.error("%s", problem)
            else:
                log.info("the storage disk has room again (%s free)", _megabytes(free))
            self._publish(StorageProblem(self.home_id, problem, free, time.time()))
        return self._state


def _megabytes(count: int) -> str:
    return f"{max(count, 0) / 2**20:.0f} MB"
