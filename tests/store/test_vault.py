"""Tests for the blob store and the vault: atomic writes, ranged reads, tampering, crypto-shredding, sealed media."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from homewarden.store.blobs import BlobNotFoundError, LocalFolderBlobStore
from homewarden.store.crypto import Keyring, TamperedObjectError, UnknownHomeKeyError
from homewarden.store.keys import Argon2Parameters, HomeKeyFile
from homewarden.store.sealed_media import SealedMediaFolder
from homewarden.store.vault import FixedRecipient, ObjectNotFoundError, Vault, stored_size

CLIP = os.urandom(200_000)


class FillingUpBlobStore(LocalFolderBlobStore):
    """A local folder on a disk that fills up after ``room`` more bytes."""

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        return super().put(name, self._until_full(chunks))

    def _until_full(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if len(chunk) > self.room:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.room -= len(chunk)
            yield chunk


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([PrivateKey.generate()])


@pytest.fixture
def vault(tmp_path: Path, keyring: Keyring) -> Vault:
    return Vault(
        LocalFolderBlobStore(tmp_path / "media"),
        LocalFolderBlobStore(tmp_path / "data-keys", overwrite_on_delete=True),
        FixedRecipient(keyring.public_key()),
    )


def all_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


# The blob store.


def test_blobs_are_written_whole_read_by_range_listed_and_deleted(tmp_path: Path) -> None:
    blobs = LocalFolderBlobStore(tmp_path / "blobs")

    assert blobs.put("cam/day/a.bin", [b"0123", b"456789"]) == 10
    blobs.put("cam/other/b.bin", [b"x"])

    assert blobs.get("cam/day/a.bin") == b"0123456789"
    assert blobs.get("cam/day/a.bin", 2, 5) == b"234"
    assert blobs.get("cam/day/a.bin", 8, 100) == b"89"
    assert blobs.get("cam/day/a.bin", 20) == b""
    assert blobs.stat("cam/day/a.bin").size == 10
    assert [info.name for info in blobs.list()] == ["cam/day/a.bin", "cam/other/b.bin"]
    assert [info.name for info in blobs.list("cam/o")] == ["cam/other/b.bin"]
    assert stat.S_IMODE(blobs.path_of("cam/day/a.bin").stat().st_mode) == 0o600
    assert blobs.delete("cam/day/a.bin")
    assert not blobs.delete("cam/day/a.bin")
    assert not (tmp_path / "blobs" / "cam" / "day").exists()  # empty folders go too
    with pytest.raises(BlobNotFoundError):
        blobs.get("cam/day/a.bin")


@pytest.mark.parametrize("name", ["", "/abs", "../up", "a/../b", ".hidden", "a//b", "a/.partial", "sp ace"])
def test_unsafe_blob_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="blob name"):
        LocalFolderBlobStore(tmp_path).put(name, [b"x"])


def test_a_disk_filling_up_mid_write_leaves_no_partial_blob_and_keeps_the_old_one(tmp_path: Path) -> None:
    blobs = FillingUpBlobStore(tmp_path, room=10**9)
    blobs.put("cam/day/a.bin", [b"old"])
    blobs.room = 5000

    with pytest.raises(OSError, match="No space left"):
        blobs.put("cam/day/a.bin", [bytes(4000), bytes(4000)])

    assert blobs.get("cam/day/a.bin") == b"old"
    assert all_files(tmp_path) == [blobs.path_of("cam/day/a.bin")]


def test_a_write_in_progress_is_invisible_to_list_and_get(tmp_path: Path) -> None:
    blobs = LocalFolderBlobStore(tmp_path)
    seen: list[list[str]] = []

    def chunks() -> Iterator[bytes]:
        yield b"first half"
        seen.append([info.name for info in blobs.list()])
        assert not blobs.exists("cam/a.bin")
        yield b"second half"

    blobs.put("cam/a.bin", chunks())

    assert seen == [[]]
    assert blobs.get("cam/a.bin") == b"first halfsecond half"


def test_overwriting_deletes_zero_the_bytes_first(tmp_path: Path) -> None:
    """A second hard link to the file shows what happened to its blocks: they were zeroed before the unlink."""
    blobs = LocalFolderBlobStore(tmp_path / "keys", overwrite_on_delete=True)
    blobs.put("cam/a.key", [b"secret data key bytes"])
    witness = tmp_path / "witness"
    os.link(blobs.path_of("cam/a.key"), witness)

    blobs.delete("cam/a.key")

    assert witness.read_bytes() == bytes(len(b"secret data key bytes"))


# The vault.


def test_objects_round_trip_and_serve_byte_ranges(vault: Vault, keyring: Keyring) -> None:
    written = vault.put("front/2026-01-01/e-1.mp4", CLIP)

    assert written == stored_size(len(CLIP))
    assert vault.read("front/2026-01-01/e-1.mp4", keyring) == CLIP
    reader = vault.open("front/2026-01-01/e-1.mp4", keyring)
    assert reader.size == len(CLIP)
    assert reader.read(65_000, 140_000) == CLIP[65_000:140_000]
    assert [stored.name for stored in vault.list()] == ["front/2026-01-01/e-1.mp4"]
    assert vault.usage() == written


def test_stored_bytes_hold_no_plaintext(tmp_path: Path, vault: Vault) -> None:
    plaintext = b"\x00\x00\x00\x18ftypisom" + b"a very recognisable frame " * 5000
    vault.put("front/2026-01-01/e-1.mp4", plaintext)

    for path in all_files(tmp_path):
        data = path.read_bytes()
        assert b"ftypisom" not in data
        assert b"recognisable" not in data


def test_recording_needs_only_the_public_key(tmp_path: Path, keyring: Keyring) -> None:
    """A vault that holds nothing but the public key stores objects it cannot open itself."""
    recorder = Vault(
        LocalFolderBlobStore(tmp_path / "media"),
        LocalFolderBlobStore(tmp_path / "data-keys"),
        FixedRecipient(keyring.public_key()),
    )
    recorder.put("cam/day/e.jpg", b"jpeg")

    with pytest.raises(UnknownHomeKeyError):
        recorder.read("cam/day/e.jpg", Keyring([PrivateKey.generate()]))
    assert recorder.read("cam/day/e.jpg", keyring) == b"jpeg"


@pytest.mark.parametrize("position", [0, 7, 12, 13, 1000, 65_550, 100_000, -17, -1])
def test_a_changed_byte_of_stored_ciphertext_makes_reading_fail_and_is_logged(
    tmp_path: Path, vault: Vault, keyring: Keyring, position: int, caplog: pytest.LogCaptureFixture
) -> None:
    vault.put("front/day/e-1.mp4", CLIP)
    path = LocalFolderBlobStore(tmp_path / "media").path_of("front/day/e-1.mp4.sealed")
    data = bytearray(path.read_bytes())
    data[position] ^= 0x04
    path.write_bytes(bytes(data))

    with pytest.raises(TamperedObjectError):
        vault.read("front/day/e-1.mp4", keyring)
    assert "refused object front/day/e-1.mp4" in caplog.text


def test_every_changed_byte_of_a_stored_data_key_makes_opening_fail(
    tmp_path: Path, vault: Vault, keyring: Keyring
) -> None:
    vault.put("front/day/e.jpg", b"snapshot")
    path = LocalFolderBlobStore(tmp_path / "data-keys").path_of("front/day/e.jpg.key")
    original = path.read_bytes()
    for position in range(len(original)):
        changed = bytearray(original)
        changed[position] ^= 0x10
        path.write_bytes(bytes(changed))
        # A changed key id names a home key nobody holds; any other change fails authentication.
        with pytest.raises((TamperedObjectError, UnknownHomeKeyError)):
            vault.read("front/day/e.jpg", keyring)
    path.write_bytes(original)
    assert vault.read("front/day/e.jpg", keyring) == b"snapshot"


def test_objects_swapped_between_names_fail(vault: Vault, keyring: Keyring) -> None:
    """Both blobs of one event's clip moved over another's: the object id in the associated data catches it."""
    vault.put("front/day/a-1.mp4", b"clip of a" * 100)
    vault.put("front/day/b-1.mp4", b"clip of b" * 100)
    for store, suffix in [(vault.objects, ".sealed"), (vault.data_keys, ".key")]:
        store.put("front/day/b-1.mp4" + suffix, [store.get("front/day/a-1.mp4" + suffix)])

    with pytest.raises(TamperedObjectError):
        vault.read("front/day/b-1.mp4", keyring)


def test_a_shredded_object_cannot_be_opened_even_from_a_kept_copy_of_its_ciphertext(
    vault: Vault, keyring: Keyring
) -> None:
    vault.put("front/day/e-1.mp4", CLIP)
    kept_copy = vault.objects.get("front/day/e-1.mp4.sealed")

    assert vault.shred("front/day/e-1.mp4")

    assert not vault.exists("front/day/e-1.mp4")
    assert list(vault.list()) == []
    with pytest.raises(ObjectNotFoundError, match="deleted"):
        vault.read("front/day/e-1.mp4", keyring)
    # Someone restores the ciphertext from a backup: without its sealed data key it stays sealed.
    vault.objects.put("front/day/e-1.mp4.sealed", [kept_copy])
    with pytest.raises(ObjectNotFoundError):
        vault.read("front/day/e-1.mp4", keyring)
    assert not vault.shred("front/day/never-stored.jpg")


def test_a_full_disk_while_storing_leaves_no_object(tmp_path: Path, keyring: Keyring) -> None:
    for filling in ["objects", "data keys"]:
        objects = FillingUpBlobStore(tmp_path / "media", room=50_000 if filling == "objects" else 10**9)
        data_keys = FillingUpBlobStore(tmp_path / "data-keys", room=10 if filling == "data keys" else 10**9)
        vault = Vault(objects, data_keys, FixedRecipient(keyring.public_key()))

        with pytest.raises(OSError, match="No space left"):
            vault.put("front/day/e-1.mp4", CLIP)

        assert not vault.exists("front/day/e-1.mp4")
        assert all_files(tmp_path) == []


# The sealed media folder.


def test_sealed_media_paths_writes_and_discards(tmp_path: Path, vault: Vault, keyring: Keyring) -> None:
    media = SealedMediaFolder(tmp_path / "media", vault)
    path = media.path_for("front", "event-1", ".jpg")

    media.write_atomically(path, b"jpeg bytes")

    assert path.name == "event-1.jpg.sealed"
    assert path.is_file()
    name = media.object_name(path)
    assert name is not None
    assert name.endswith("/event-1.jpg")
    assert vault.read(name, keyring) == b"jpeg bytes"
    with pytest.raises(TypeError, match="never streamed"):
        media.temporary_path_for(path)
    media.discard(path)
    assert not vault.exists(name)
    assert media.object_name(tmp_path / "elsewhere.jpg.sealed") is None
    with pytest.raises(ValueError, match="not a sealed object path"):
        media.write_atomically(tmp_path / "media" / "plain.jpg", b"x")


def test_rotation_during_shredding_does_not_bring_a_key_back(vault: Vault, keyring: Keyring) -> None:
    """Re-sealing a key whose object was shredded meanwhile deletes the re-sealed key again."""
    vault.put("front/day/e.jpg", b"x")
    new_keyring = Keyring([PrivateKey.generate()])
    vault.objects.delete("front/day/e.jpg.sealed")  # the shred got as far as the ciphertext

    assert vault.reseal(keyring, new_keyring.public_key()) == 0
    assert not vault.data_keys.exists("front/day/e.jpg.key")


def test_a_key_file_gone_while_recording_fails_the_write_like_a_broken_disk(tmp_path: Path) -> None:
    """`storage delete --everything` while `run` records: the next object is refused, nothing is left behind."""
    key_file = HomeKeyFile(tmp_path / "home-key.json")
    key_file.create("a passphrase for this test", Argon2Parameters(time_cost=1, memory_cost_kib=64, parallelism=1))
    vault = Vault(LocalFolderBlobStore(tmp_path / "media"), LocalFolderBlobStore(tmp_path / "data-keys"), key_file)
    media = SealedMediaFolder(tmp_path / "media", vault)
    key_file.destroy()

    with pytest.raises(OSError, match=r"cannot seal event-1-1\.mp4\.sealed: no home key in") as caught:
        media.write_atomically(media.path_for("front", "event-1", "-1.mp4"), b"clip")

    assert caught.value.errno == errno.ENOKEY
    assert all_files(tmp_path) == [tmp_path / "home-key.lock"]
