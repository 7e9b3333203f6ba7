"""The key that seals reviewers' and admins' TOTP secrets: made once, private, bound to the account."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from homewarden.cloud.review.reviewers import SEED_KEY_FILE, StaffSeedKey
from homewarden.errors import RefusedError


def test_processes_racing_to_make_the_key_share_one(tmp_path: Path) -> None:
    folder = tmp_path / "review-keys"
    keys = [StaffSeedKey(folder) for _ in range(8)]
    sealed: list[bytes] = [b""] * len(keys)
    start = threading.Barrier(len(keys))

    def seal(index: int) -> None:
        start.wait()
        sealed[index] = keys[index].seal(f"SECRET{index}", "ann")

    threads = [threading.Thread(target=seal, args=(index,)) for index in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Whoever sealed, a fresh reader of the one file opens every seed.
    reader = StaffSeedKey(folder)
    assert [reader.open(blob, "ann") for blob in sealed] == [f"SECRET{index}" for index in range(len(keys))]
    assert stat.S_IMODE((folder / SEED_KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [path.name for path in folder.iterdir()] == [SEED_KEY_FILE]


def test_a_seed_opens_only_for_its_account_and_only_with_the_key(tmp_path: Path) -> None:
    key = StaffSeedKey(tmp_path)
    sealed = key.seal("JBSWY3DPEHPK3PXP", "ann")

    with pytest.raises(RefusedError, match="belongs to another account"):
        key.open(sealed, "bob")
    (tmp_path / SEED_KEY_FILE).unlink()
    with pytest.raises(RefusedError, match="is missing: restore it from a backup"):
        StaffSeedKey(tmp_path).open(sealed, "ann")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
