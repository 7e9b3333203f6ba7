"""The storage disk running out, on a real (small, tmpfs) file system: warned, told once, cleared when room returns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from homewarden.hub.disk_space import LOW_SPACE_BYTES, DiskSpaceWatch
from homewarden.notify.bus import StorageProblem
from video.small_disk import mounted_small_disk

MIB = 2**20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a 160 MiB tmpfs for the test: room for the warning level and a file that goes below it."""
    with mounted_small_disk(tmp_path / "disk", "160m") as folder:
        yield folder


def fill(path: Path, mebibytes: int) -> None:
    """Write ``mebibytes`` of data to ``path``."""
    with path.open("wb") as file:
        for _ in range(mebibytes):
            file.write(b"\0" * MIB)


def test_low_space_is_a_problem_told_once_and_cleared_when_room_returns(small_disk: Path) -> None:
    told: list[StorageProblem] = []
    watch = DiskSpaceWatch(small_disk, 7, told.append)
    assert watch.check().problem is None
    assert told == []
    fill(small_disk / "footage", 160 - LOW_SPACE_BYTES // MIB + 10)
    state = watch.check()
    assert state.problem is not None
    assert "almost full" in state.problem
    watch.check()
    assert [(t.home_id, t.problem is not None) for t in told] == [(7, True)]
    (small_disk / "footage").unlink()
    assert watch.check().problem is None
    assert [t.problem is None for t in told] == [False, True]


def test_a_clip_that_failed_for_want_of_space_is_a_problem_until_there_is_room(small_disk: Path) -> None:
    told: list[StorageProblem] = []
    watch = DiskSpaceWatch(small_disk, 1, told.append)
    fill(small_disk / "footage", 150)
    with pytest.raises(OSError, match="No space left on device") as full:
        fill(small_disk / "clip.mp4", 20)
    watch.clip_failed(f"clip not written: {full.value.strerror}")
    problem = watch.state.problem
    assert problem is not None
    assert problem.startswith("the storage disk is full")
    # Space returns: the next look clears it, and the household is told.
    (small_disk / "footage").unlink()
    (small_disk / "clip.mp4").unlink()
    assert watch.check().problem is None
    assert [t.problem is None for t in told] == [False, True]
