"""The program key folder: made once, rotated with a statement the old key signs, old copies still open."""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest
from nacl.signing import VerifyKey

from cloud.review.conftest import seal_to_program
from homewarden.cloud.review.keys import (
    ProgramKeyError,
    ProgramKeys,
    UnknownProgramKeyError,
    key_id_of,
    verify_rotations,
)
from homewarden.cloud.review.signatures import canonical_json, decode_signature
from homewarden.store.crypto import TamperedObjectError, UnknownHomeKeyError

DONATION = "d_0123456789abcdef"


def test_the_first_use_makes_one_private_key_apart_and_private(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    keys = ProgramKeys(folder)

    first = keys.current()
    again = ProgramKeys(folder).current()
    program = keys.program()

    assert first.key_id == again.key_id
    assert first.key_id == key_id_of(base64.b64decode(program["verify_key"]))
    assert re.fullmatch(r"pk_[0-9a-f]{16}", first.key_id)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    key_file = folder / f"{first.key_id}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() == bytes(first.signing_key)
    assert set(program) == {"key_id", "verify_key", "created_at"}
    assert "signing_key" not in repr(first)
    with pytest.raises(ProgramKeyError, match="already holds the review program key"):
        keys.create()


def test_a_rotation_is_signed_by_the_old_key_and_old_copies_still_open(tmp_path: Path) -> None:
    keys = ProgramKeys(tmp_path / "keys")
    pinned = keys.program()
    old_copy = seal_to_program(pinned, DONATION, b"a clip sealed before the rotation")

    first_rotation = keys.rotate()
    second_rotation = keys.rotate()
    current = keys.program()
    new_copy = seal_to_program(current, "d_another_copy_0001", b"a clip sealed after")

    assert keys.rotations() == [first_rotation, second_rotation]
    assert first_rotation["previous_key_id"] == pinned["key_id"]
    unsigned = {key: first_rotation[key] for key in ("previous_key_id", "program", "at")}
    VerifyKey(base64.b64decode(pinned["verify_key"])).verify(
        canonical_json(unsigned), decode_signature(first_rotation["signature"])
    )
    assert verify_rotations(pinned, keys.rotations()) == current
    assert verify_rotations(first_rotation["program"], keys.rotations()) == current
    # Another process (an API worker) sees the rotation without restarting.
    assert ProgramKeys(tmp_path / "keys").program() == current
    assert keys.open_copy(DONATION, old_copy) == b"a clip sealed before the rotation"
    assert keys.open_copy("d_another_copy_0001", new_copy) == b"a clip sealed after"
    assert len(keys.held_key_ids()) == 3


def test_a_forged_rotation_does_not_verify(tmp_path: Path) -> None:
    keys = ProgramKeys(tmp_path / "keys")
    pinned = keys.program()
    rotation = keys.rotate()
    impostor = ProgramKeys(tmp_path / "impostor").program()

    forged = {**rotation, "program": impostor}

    with pytest.raises(ProgramKeyError, match="is not signed by it"):
        verify_rotations(pinned, [forged])


def test_a_copy_opens_only_under_its_own_donation_id_and_held_key(tmp_path: Path) -> None:
    keys = ProgramKeys(tmp_path / "keys")
    copy = seal_to_program(keys.program(), DONATION, b"clip")
    stranger = seal_to_program(ProgramKeys(tmp_path / "other").program(), DONATION, b"clip")

    with pytest.raises(TamperedObjectError):
        keys.open_copy("d_renamed_copy_00001", copy)
    with pytest.raises(UnknownHomeKeyError):
        keys.open_copy(DONATION, stranger)


def test_forgetting_an_old_key_leaves_its_copies_unopenable_and_keeps_the_current(tmp_path: Path) -> None:
    keys = ProgramKeys(tmp_path / "keys")
    old = keys.current().key_id
    copy = seal_to_program(keys.program(), DONATION, b"clip")
    keys.rotate()

    keys.forget(old)

    assert not keys.holds(old)
    assert not (tmp_path / "keys" / f"{old}.key").exists()
    with pytest.raises(UnknownHomeKeyError):
        keys.open_copy(DONATION, copy)
    with pytest.raises(UnknownProgramKeyError):
        keys.key(old)
    with pytest.raises(ProgramKeyError, match="is the current review program key"):
        keys.forget(keys.current().key_id)
    # The record of rotations stays whole: a hub pinned to the old key still follows it.
    assert verify_rotations(keys.first_program(), keys.rotations()) == keys.program()


def test_a_key_folder_others_may_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    ProgramKeys(folder).current()
    os.chmod(folder, 0o755)

    with pytest.raises(ProgramKeyError, match=r"may be read by other users \(mode 755\): run `chmod 700"):
        ProgramKeys(folder).current()


def test_a_damaged_key_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key_id = ProgramKeys(folder).current().key_id
    (folder / f"{key_id}.key").write_bytes(b"short")

    with pytest.raises(ProgramKeyError, match=f"{key_id}.key is damaged"):
        ProgramKeys(folder).current()
