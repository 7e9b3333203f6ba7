"""The gallery key file: made beside the home key, its copy sealed to it, restored, re-sealed, destroyed."""

from __future__ import annotations

from pathlib import Path

import pytest

from homewarden.store.gallery_key import (
    CorruptGalleryKeyError,
    GalleryDecryptionError,
    GalleryKey,
    GalleryKeyFile,
    MissingGalleryKeyError,
)
from homewarden.store.keys import Argon2Parameters, HomeKeyFile, NoHomeKeyError

FAST = Argon2Parameters(time_cost=1, memory_cost_kib=64, parallelism=1)
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def gallery_key(tmp_path: Path) -> GalleryKeyFile:
    HomeKeyFile.in_folder(tmp_path).create(PASSPHRASE, FAST)
    return GalleryKeyFile.in_folder(tmp_path)


def test_create_writes_the_key_and_its_sealed_copy_for_the_owner_only(gallery_key: GalleryKeyFile) -> None:
    key = gallery_key.create()

    assert gallery_key.load().raw == key.raw
    for path in (gallery_key.path, gallery_key.sealed_path):
        assert path.stat().st_mode & 0o777 == 0o600
    assert key.raw not in gallery_key.sealed_path.read_bytes()
    assert key.key_id in repr(key)
    assert key.raw.hex() not in repr(key)
    assert not list(gallery_key.path.parent.glob("*.partial"))


def test_create_refuses_before_the_home_has_a_key(tmp_path: Path) -> None:
    with pytest.raises(NoHomeKeyError):
        GalleryKeyFile.in_folder(tmp_path / "keys").create()
    assert not (tmp_path / "keys").exists()


def test_missing_and_damaged_keys_are_told_apart(gallery_key: GalleryKeyFile) -> None:
    with pytest.raises(MissingGalleryKeyError):
        gallery_key.load()
    gallery_key.create()
    gallery_key.path.write_bytes(gallery_key.path.read_bytes()[:-1])
    with pytest.raises(CorruptGalleryKeyError, match="damaged or truncated"):
        gallery_key.load()


def test_the_owner_restores_a_lost_key_with_the_passphrase(gallery_key: GalleryKeyFile) -> None:
    key = gallery_key.create()
    gallery_key.path.unlink()

    restored = gallery_key.restore(gallery_key.home_key.unlock(PASSPHRASE))

    assert restored is not None
    assert gallery_key.load().raw == key.raw


def test_a_copy_naming_another_gallery_key_is_refused(gallery_key: GalleryKeyFile) -> None:
    gallery_key.create()
    sealed = bytearray(gallery_key.sealed_path.read_bytes())
    sealed[0] ^= 1
    gallery_key.sealed_path.write_bytes(bytes(sealed))

    with pytest.raises(CorruptGalleryKeyError, match="names another gallery key"):
        gallery_key.restore(gallery_key.home_key.unlock(PASSPHRASE))
    # Enrolment, which holds the key itself, simply seals a fresh copy.
    assert gallery_key.ensure_sealed_copy(gallery_key.load())
    assert not gallery_key.ensure_sealed_copy(gallery_key.load())


def test_rotation_reseals_the_copy_to_the_new_home_key(gallery_key: GalleryKeyFile) -> None:
    key = gallery_key.create()
    old_id = gallery_key.home_key.public_key().key_id

    report = gallery_key.home_key.rotate(PASSPHRASE, gallery_key, lambda _recovery_key: None, FAST)

    assert report.resealed == 1
    assert gallery_key.count_sealed_to({old_id}) == 0
    assert gallery_key.count_sealed_to({report.new_key_id}) == 1
    gallery_key.path.unlink()
    restored = gallery_key.restore(gallery_key.home_key.unlock(PASSPHRASE))
    assert restored is not None
    assert restored.raw == key.raw


def test_destroy_removes_the_key_and_its_copy(gallery_key: GalleryKeyFile) -> None:
    gallery_key.create()

    assert gallery_key.destroy()

    assert not gallery_key.path.exists()
    assert not gallery_key.sealed_path.exists()
    assert not gallery_key.destroy()


def test_ciphertexts_are_bound_to_their_associated_data() -> None:
    key = GalleryKey(bytes(range(32)))
    nonce, ciphertext = key.encrypt(b"embedding", b"row 1")
    assert key.decrypt(nonce, ciphertext, b"row 1") == b"embedding"
    assert key.encrypt(b"embedding", b"row 1")[0] != nonce  # a fresh nonce every time

    for changed in (
        (nonce, ciphertext, b"row 2"),
        (bytes(12), ciphertext, b"row 1"),
        (nonce, bytes([ciphertext[0] ^ 1]) + ciphertext[1:], b"row 1"),
        (nonce, ciphertext[:-1], b"row 1"),
    ):
        with pytest.raises(GalleryDecryptionError):
            key.decrypt(*changed)
