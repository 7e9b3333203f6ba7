"""Tests for the home's key file: passphrase and recovery key, rate-limited guesses, damaged files, rotation."""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path

import pytest

from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import HomePublicKey, Keyring, UnknownHomeKeyError, seal_data_key, sealed_data_key_id
from homewarden.store.keys import (
    DEFAULT_ARGON2,
    FREE_ATTEMPTS,
    Argon2Parameters,
    CorruptKeyFileError,
    HomeKeyError,
    HomeKeyExistsError,
    HomeKeyFile,
    MistypedRecoveryKeyError,
    NoHomeKeyError,
    RotationReport,
    TooManyAttemptsError,
    WeakPassphraseError,
    WrongPassphraseError,
    WrongRecoveryKeyError,
    format_recovery_key,
    parse_recovery_key,
)
from homewarden.store.vault import Vault

# Cheap Argon2 for tests that are not about its cost; the cost parameters travel in the key file.
FAST = Argon2Parameters(time_cost=1, memory_cost_kib=64, parallelism=1)
PASSPHRASE = "correct horse battery staple"
NEW_PASSPHRASE = "tr0ub4dor & 3, but longer"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def key_file(tmp_path: Path, clock: FakeClock) -> HomeKeyFile:
    return HomeKeyFile(tmp_path / "home-key.json", clock)


@pytest.fixture
def recovery_key(key_file: HomeKeyFile) -> str:
    return key_file.create(PASSPHRASE, FAST)


def vault_for(folder: Path, key_file: HomeKeyFile) -> Vault:
    return Vault(LocalFolderBlobStore(folder / "media"), LocalFolderBlobStore(folder / "data-keys"), key_file)


def test_init_writes_an_owner_only_file_with_the_public_key_and_no_plaintext_private_key(
    key_file: HomeKeyFile, recovery_key: str
) -> None:
    keyring = key_file.unlock(PASSPHRASE)
    private = bytes(keyring.private_keys()[0])
    text = key_file.path.read_text()

    assert stat.S_IMODE(key_file.path.stat().st_mode) == 0o600
    assert key_file.public_key() == keyring.public_key()
    assert private.hex() not in text
    assert base64.b64encode(private).decode() not in text
    assert PASSPHRASE not in text
    assert parse_recovery_key(recovery_key).hex() not in text
    assert len(recovery_key.split("-")) == 14
    assert all(len(group) == 4 for group in recovery_key.split("-"))


def test_default_argon2_parameters_are_recorded_in_the_key_file(tmp_path: Path) -> None:
    key_file = HomeKeyFile(tmp_path / "home-key.json")
    key_file.create(PASSPHRASE)

    recorded = json.loads(key_file.path.read_text())["passphrase"]
    assert (recorded["kdf"], recorded["time_cost"], recorded["memory_cost_kib"], recorded["parallelism"]) == (
        "argon2id",
        DEFAULT_ARGON2.time_cost,
        65536,
        4,
    )
    assert key_file.unlock(PASSPHRASE).public_key() == key_file.public_key()


def test_init_refuses_to_overwrite_and_refuses_short_passphrases(key_file: HomeKeyFile, recovery_key: str) -> None:
    before = key_file.path.read_bytes()

    with pytest.raises(HomeKeyExistsError, match="exists already"):
        key_file.create(PASSPHRASE, FAST)
    with pytest.raises(WeakPassphraseError, match="at least 8 characters"):
        HomeKeyFile(key_file.path.with_name("other.json")).create("short", FAST)
    assert key_file.path.read_bytes() == before


def test_wrong_passphrase_is_a_clear_error_that_names_no_secret(key_file: HomeKeyFile, recovery_key: str) -> None:
    with pytest.raises(WrongPassphraseError) as caught:
        key_file.unlock("correct horse battery stapler")

    assert str(caught.value) == "wrong passphrase"
    assert key_file.unlock(PASSPHRASE).current_id == key_file.public_key().key_id


def test_wrong_guesses_are_rate_limited_and_the_count_survives_a_restart(
    key_file: HomeKeyFile, recovery_key: str, clock: FakeClock
) -> None:
    for _ in range(FREE_ATTEMPTS):
        with pytest.raises(WrongPassphraseError):
            key_file.unlock("not the passphrase")

    with pytest.raises(TooManyAttemptsError, match=r"try again in 30 s"):
        key_file.unlock(PASSPHRASE)
    restarted = HomeKeyFile(key_file.path, clock)
    with pytest.raises(TooManyAttemptsError):
        restarted.unlock(PASSPHRASE)
    with pytest.raises(TooManyAttemptsError):
        restarted.unlock_with_recovery_key(recovery_key)

    clock.now += 31
    with pytest.raises(WrongPassphraseError):
        restarted.unlock("still not it")
    clock.now += 31
    with pytest.raises(TooManyAttemptsError, match=r"try again in 29 s"):
        restarted.unlock(PASSPHRASE)  # the wait doubled to 60 s
    clock.now += 30
    restarted.unlock(PASSPHRASE)
    # A right passphrase clears the count.
    for _ in range(FREE_ATTEMPTS - 1):
        with pytest.raises(WrongPassphraseError):
            restarted.unlock("nope nope nope")
    restarted.unlock(PASSPHRASE)


def test_a_damaged_attempt_count_counts_as_used_up(key_file: HomeKeyFile, recovery_key: str, clock: FakeClock) -> None:
    key_file.attempts.path.write_text("{broken")

    with pytest.raises(TooManyAttemptsError):
        key_file.unlock(PASSPHRASE)
    clock.now += 31
    key_file.unlock(PASSPHRASE)


def test_change_passphrase_keeps_the_key_and_the_recovery_key(
    tmp_path: Path, key_file: HomeKeyFile, recovery_key: str
) -> None:
    vault = vault_for(tmp_path, key_file)
    vault.put("cam/day/a.jpg", b"a snapshot")

    key_file.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, FAST)

    with pytest.raises(WrongPassphraseError):
        key_file.unlock(PASSPHRASE)
    assert vault.read("cam/day/a.jpg", key_file.unlock(NEW_PASSPHRASE)) == b"a snapshot"
    assert vault.read("cam/day/a.jpg", key_file.unlock_with_recovery_key(recovery_key)) == b"a snapshot"
    with pytest.raises(WrongPassphraseError):
        key_file.change_passphrase(PASSPHRASE, "another passphrase", FAST)
    with pytest.raises(WeakPassphraseError):
        key_file.change_passphrase(NEW_PASSPHRASE, "1234", FAST)


def test_recover_sets_a_new_passphrase_with_the_recovery_key(
    tmp_path: Path, key_file: HomeKeyFile, recovery_key: str
) -> None:
    vault = vault_for(tmp_path, key_file)
    vault.put("cam/day/a-1.mp4", b"a clip")

    # Typed by hand: lower case, spaces instead of dashes.
    key_file.recover(recovery_key.lower().replace("-", " "), NEW_PASSPHRASE, FAST)

    with pytest.raises(WrongPassphraseError):
        key_file.unlock(PASSPHRASE)
    assert vault.read("cam/day/a-1.mp4", key_file.unlock(NEW_PASSPHRASE)) == b"a clip"


def test_mistyped_and_foreign_recovery_keys_are_told_apart(key_file: HomeKeyFile, recovery_key: str) -> None:
    mistyped = ("B" if recovery_key[0] != "B" else "C") + recovery_key[1:]
    foreign = format_recovery_key(bytes(32))

    with pytest.raises(MistypedRecoveryKeyError, match="typing mistakes"):
        key_file.recover(mistyped, NEW_PASSPHRASE, FAST)
    with pytest.raises(MistypedRecoveryKeyError):
        key_file.recover(recovery_key[:-4], NEW_PASSPHRASE, FAST)
    with pytest.raises(WrongRecoveryKeyError, match="does not belong"):
        key_file.recover(foreign, NEW_PASSPHRASE, FAST)
    key_file.unlock(PASSPHRASE)


def test_recovery_keys_tolerate_digits_typed_for_lookalike_letters() -> None:
    secret = bytes(range(32))
    text = format_recovery_key(secret)

    assert parse_recovery_key(text.replace("O", "0").replace("I", "1").replace("B", "8")) == secret


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    key_file = HomeKeyFile(tmp_path / "home-key.json")

    with pytest.raises(NoHomeKeyError, match="no home key in"):
        key_file.public_key()
    with pytest.raises(NoHomeKeyError):
        key_file.unlock(PASSPHRASE)


def _edit(document: dict[str, object], change: str) -> None:
    passphrase = document["passphrase"]
    home_keys = document["home_keys"]
    assert isinstance(passphrase, dict)
    assert isinstance(home_keys, list)
    if change == "missing field":
        del passphrase["salt"]
    elif change == "bad base64":
        passphrase["nonce"] = "!!!"
    elif change == "huge argon2 memory":
        passphrase["memory_cost_kib"] = 2**40
    elif change == "other public key":
        home_keys[0]["public_key"] = base64.b64encode(bytes(32)).decode()
    elif change == "no home keys":
        document["home_keys"] = []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing field", r"passphrase: missing 'salt'"),
        ("bad base64", r"'nonce' is not base64"),
        ("huge argon2 memory", r"Argon2 parameters out of range"),
        ("other public key", r"'key_id' does not match"),
        ("no home keys", r"no home key"),
    ],
)
def test_a_damaged_key_file_is_a_clear_error(
    key_file: HomeKeyFile, recovery_key: str, change: str, message: str
) -> None:
    document = json.loads(key_file.path.read_text())
    _edit(document, change)
    key_file.path.write_text(json.dumps(document))

    with pytest.raises(CorruptKeyFileError, match=message):
        key_file.unlock(PASSPHRASE)


@pytest.mark.parametrize("damage", ["not json", "truncated", "empty"])
def test_an_unreadable_key_file_is_a_clear_error(key_file: HomeKeyFile, recovery_key: str, damage: str) -> None:
    text = key_file.path.read_bytes()
    key_file.path.write_bytes(
        {"not json": b"\x00\xff garbage", "truncated": text[: len(text) // 2], "empty": b""}[damage]
    )

    with pytest.raises(CorruptKeyFileError, match="is corrupt"):
        key_file.public_key()


def test_a_changed_private_key_ciphertext_is_reported_as_a_changed_file(
    key_file: HomeKeyFile, recovery_key: str
) -> None:
    document = json.loads(key_file.path.read_text())
    encrypted = bytearray(base64.b64decode(document["home_keys"][0]["private_key"]))
    encrypted[0] ^= 1
    document["home_keys"][0]["private_key"] = base64.b64encode(bytes(encrypted)).decode()
    key_file.path.write_text(json.dumps(document))

    with pytest.raises(CorruptKeyFileError, match="was changed"):
        key_file.unlock(PASSPHRASE)


def test_no_passphrase_or_recovery_key_reaches_a_log_or_an_error(
    tmp_path: Path, key_file: HomeKeyFile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    recovery_key = key_file.create(PASSPHRASE, FAST)
    for attempt in [lambda: key_file.unlock("wrong passphrase!"), lambda: key_file.recover("ABCD", PASSPHRASE, FAST)]:
        try:
            attempt()
        except HomeKeyError as exc:
            errors.append(str(exc))
    key_file.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, FAST)
    key_file.recover(recovery_key, PASSPHRASE, FAST)
    keyring = key_file.unlock(PASSPHRASE)

    shown = caplog.text + "\n".join(errors) + repr(keyring)
    for secret in [
        PASSPHRASE,
        NEW_PASSPHRASE,
        "wrong passphrase!",
        recovery_key,
        bytes(keyring.private_keys()[0]).hex(),
    ]:
        assert secret not in shown
    assert len(errors) == 2


class FailingResealer:
    """A vault that breaks down after re-sealing some data keys, like a rotation killed half way."""

    def __init__(self, vault: Vault, fail_after: int) -> None:
        self.vault = vault
        self.fail_after = fail_after

    def reseal(self, keyring: Keyring, recipient: HomePublicKey) -> int:
        done = 0
        for info in list(self.vault.data_keys.list()):
            if done == self.fail_after:
                raise OSError("killed")
            sealed = self.vault.data_keys.get(info.name)
            if sealed_data_key_id(sealed) != recipient.key_id:
                self.vault.data_keys.put(info.name, [seal_data_key(keyring.open_data_key(sealed), recipient)])
                done += 1
        return done

    def count_sealed_to(self, key_ids: set[str]) -> int:
        return self.vault.count_sealed_to(key_ids)


def test_rotation_reseals_every_data_key_without_touching_the_media(
    tmp_path: Path, key_file: HomeKeyFile, recovery_key: str
) -> None:
    vault = vault_for(tmp_path, key_file)
    contents = {f"cam/day/e{index}-1.mp4": bytes([index]) * (1000 * index + 1) for index in range(12)}
    for name, data in contents.items():
        vault.put(name, data)
    old_keyring = key_file.unlock(PASSPHRASE)
    media_before = {info.name: vault.objects.get(info.name) for info in vault.objects.list()}
    shown: list[str] = []

    report = key_file.rotate(PASSPHRASE, vault, shown.append, FAST)

    assert report == RotationReport(key_file.public_key().key_id, [old_keyring.current_id], 12, resumed=False)
    assert report.new_key_id != old_keyring.current_id
    assert {info.name: vault.objects.get(info.name) for info in vault.objects.list()} == media_before
    new_keyring = key_file.unlock(PASSPHRASE)
    assert new_keyring.key_ids == [report.new_key_id]
    for name, data in contents.items():
        assert vault.read(name, new_keyring) == data
        with pytest.raises(UnknownHomeKeyError):
            vault.read(name, old_keyring)
    # A rotation hands out a new recovery key; the old one no longer opens the file.
    assert len(shown) == 1
    assert shown[0] != recovery_key
    assert key_file.unlock_with_recovery_key(shown[0]).current_id == report.new_key_id
    with pytest.raises(WrongRecoveryKeyError):
        key_file.unlock_with_recovery_key(recovery_key)
    # New objects are sealed to the new key.
    vault.put("cam/day/after-1.mp4", b"after")
    assert vault.read("cam/day/after-1.mp4", new_keyring) == b"after"


def test_an_interrupted_rotation_resumes_and_nothing_is_lost(
    tmp_path: Path, key_file: HomeKeyFile, recovery_key: str
) -> None:
    vault = vault_for(tmp_path, key_file)
    for index in range(6):
        vault.put(f"cam/day/e{index}.jpg", bytes([index]) * 100)
    shown: list[str] = []

    with pytest.raises(OSError, match="killed"):
        key_file.rotate(PASSPHRASE, FailingResealer(vault, fail_after=3), shown.append, FAST)

    # Half re-sealed: both keys are still in the file, so everything opens.
    halfway = key_file.unlock(PASSPHRASE)
    assert len(halfway.key_ids) == 2
    assert all(vault.read(f"cam/day/e{index}.jpg", halfway) == bytes([index]) * 100 for index in range(6))

    report = key_file.rotate(PASSPHRASE, vault, shown.append, FAST)

    assert report.resumed
    assert report.resealed == 3
    assert len(shown) == 1  # resuming makes no second recovery key
    final = key_file.unlock(PASSPHRASE)
    assert final.key_ids == [report.new_key_id]
    assert all(vault.read(f"cam/day/e{index}.jpg", final) == bytes([index]) * 100 for index in range(6))
    assert vault.count_sealed_to(set(report.retired_key_ids)) == 0


def test_a_recorder_picks_up_the_new_public_key_after_a_rotation(tmp_path: Path, key_file: HomeKeyFile) -> None:
    key_file.create(PASSPHRASE, FAST)
    recorder_view = HomeKeyFile(key_file.path)
    before = recorder_view.public_key()

    key_file.rotate(PASSPHRASE, vault_for(tmp_path, key_file), lambda _key: None, FAST)

    with recorder_view.sealing() as current:
        assert current != before
        assert current == key_file.public_key()
