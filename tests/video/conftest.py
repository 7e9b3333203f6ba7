"""Fixtures of the video tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from video.small_disk import mounted_small_disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Return a folder on a 2 MiB file system of its own, which tests may fill up (root only)."""
    with mounted_small_disk(tmp_path / "disk") as folder:
        yield folder
