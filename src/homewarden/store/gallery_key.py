"""The gallery key: the AES-256 key that encrypts household face embeddings, kept by the hub beside the home key.

Unlike footage, embeddings must be read unattended: `homewarden run` matches faces without the owner's
passphrase. So the hub holds this key in its key folder (``gallery-key.bin``, readable by its owner only), never
in the database: a database dump, a backup of it or a remote PostgreSQL server holds ciphertext without its key.
A copy is sealed to the home's public key (``gallery-key.sealed``), so the owner can restore a lost key with the
passphrase (`homewarden keys unlock`); a key rotation re-seals that copy like every data key.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from homewarden.i18n import _
from homewarden.store.crypto import (
    SEALED_DATA_KEY_SIZE,
    HomePublicKey,
    Keyring,
    SealedObjectError,
    seal_data_key,
    sealed_data_key_id,
)
from homewarden.store.keys import HomeKeyFile, write_private_file

log = logging.getLogger(__name__)

GALLERY_KEY_NAME = "gallery-key.bin"
SEALED_COPY_NAME = "gallery-key.sealed"
KEY_SIZE = 32
NONCE_SIZE = 12
KEY_ID_BYTES = 8
_KEY_HEADER = struct.Struct(">4sB")  # magic, version
_KEY_MAGIC = b"HWGK"
_FORMAT_VERSION = 1


class GalleryKeyError(Exception):
    """The gallery key cannot be used; the message names no secret."""


class MissingGalleryKeyError(GalleryKeyError):
    """The hub has no gallery key file."""


class CorruptGalleryKeyError(GalleryKeyError):
    """The gallery key file or its sealed copy is damaged."""


class GalleryDecryptionError(GalleryKeyError):
    """A stored ciphertext failed authentication: changed, damaged, or moved to another row."""


def gallery_key_id(key: bytes) -> str:
    """Return the short id that names a gallery key in the rows it encrypted."""
    return hashlib.sha256(b"homewarden gallery key id\x00" + key).digest()[:KEY_ID_BYTES].hex()


class GalleryKey:
    """An unlocked gallery key: AES-256-GCM with a fresh random nonce per message."""

    def __init__(self, key: bytes) -> None:
        """Hold ``key`` (32 bytes)."""
        if len(key) != KEY_SIZE:
            raise ValueError(f"a gallery key has {KEY_SIZE} bytes")
        self._key = key
        self.key_id = gallery_key_id(key)

    def __repr__(self) -> str:
        """Name the key id only, so a key in a log or traceback shows no secret."""
        return f"GalleryKey({self.key_id})"

    @property
    def raw(self) -> bytes:
        """Return the key bytes (to seal or store them)."""
        return self._key

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> tuple[bytes, bytes]:
        """Return a fresh nonce and the ciphertext of ``plaintext`` bound to ``associated_data``."""
        # Random 96-bit nonces: a household enrols a few hundred photos, far below the 2^32 messages per key
        # NIST SP 800-38D allows with random nonces.
        nonce = os.urandom(NONCE_SIZE)
        return nonce, AESGCM(self._key).encrypt(nonce, plaintext, associated_data)

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        """Return the plaintext, or raise if any byte or the associated data changed."""
        try:
            return AESGCM(self._key).decrypt(nonce, ciphertext, associated_data)
        except (InvalidTag, ValueError):
            raise GalleryDecryptionError("failed authentication") from None


@dataclass(frozen=True)
class _SealedCopy:
    gallery_key_id: str
    home_key_id: str
    sealed: bytes


class GalleryKeyFile:
    """The hub's gallery key file, its copy sealed to the home key, and the operations on them."""

    def __init__(self, folder: Path, home_key: HomeKeyFile) -> None:
        """Keep the key in ``folder`` (the home key's folder); seal its copy to ``home_key``."""
        self.path = folder / GALLERY_KEY_NAME
        self.sealed_path = folder / SEALED_COPY_NAME
        self.home_key = home_key

    @classmethod
    def in_folder(cls, folder: Path) -> GalleryKeyFile:
        """Return the gallery key file of the storage folder ``folder``."""
        return cls(folder, HomeKeyFile.in_folder(folder))

    def exists(self) -> bool:
        """Tell whether the hub holds the gallery key."""
        return self.path.exists()

    def load(self) -> GalleryKey:
        """Return the gallery key, or say that it is missing or damaged."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise MissingGalleryKeyError(_("no face gallery key in {folder}").format(folder=self.path.parent)) from None
        except OSError as exc:
            raise CorruptGalleryKeyError(
                _("cannot read {path}: {problem}").format(path=self.path, problem=exc.strerror or exc)
            ) from None
        if len(data) != _KEY_HEADER.size + KEY_SIZE or _KEY_HEADER.unpack_from(data) != (_KEY_MAGIC, _FORMAT_VERSION):
            raise CorruptGalleryKeyError(
                _("{path} is not a Homewarden gallery key (damaged or truncated)").format(path=self.path)
            )
        return GalleryKey(data[_KEY_HEADER.size :])

    def create(self) -> GalleryKey:
        """Make a new gallery key, sealing its copy to the home key first; refuse before the home has a key."""
        self.home_key.public_key()  # refuse before anything (even the home key's lock file) is written
        key = GalleryKey(os.urandom(KEY_SIZE))
        # The sealed copy first: a crash in between leaves a copy nobody needs, never a key without a copy.
        self._write_sealed_copy(key)
        write_private_file(self.path, _KEY_HEADER.pack(_KEY_MAGIC, _FORMAT_VERSION) + key.raw)
        log.info("created face gallery key %s in %s", key.key_id, self.path)
        return key

    def ensure_sealed_copy(self, key: GalleryKey) -> bool:
        """Seal a copy of ``key`` to the current home key unless one is there already; return whether it wrote."""
        try:
            copy = self._read_sealed_copy()
        except CorruptGalleryKeyError:
            copy = None  # the hub holds the key itself, so a damaged copy is simply made again
        current = self.home_key.public_key().key_id
        if copy is not None and (copy.gallery_key_id, copy.home_key_id) == (key.key_id, current):
            return False
        self._write_sealed_copy(key)
        return True

    def restore(self, keyring: Keyring) -> GalleryKey | None:
        """Write the hub's gallery key back from its sealed copy; return it, or None when there is no copy."""
        copy = self._read_sealed_copy()
        if copy is None:
            return None
        key = self._open(copy, keyring)
        write_private_file(self.path, _KEY_HEADER.pack(_KEY_MAGIC, _FORMAT_VERSION) + key.raw)
        log.info("restored face gallery key %s from %s", key.key_id, self.sealed_path)
        return key

    def reseal(self, keyring: Keyring, recipient: HomePublicKey) -> int:
        """Re-seal the copy to ``recipient`` (a rotation) if it is sealed to another key; return 1 if it was."""
        copy = self._read_sealed_copy()
        if copy is None or copy.home_key_id == recipient.key_id:
            return 0
        key = self._open(copy, keyring)
        self._write_sealed(key, recipient)
        return 1

    def count_sealed_to(self, key_ids: set[str]) -> int:
        """Return 1 if the copy is sealed to one of ``key_ids``, else 0."""
        with contextlib.suppress(CorruptGalleryKeyError):
            copy = self._read_sealed_copy()
            return int(copy is not None and copy.home_key_id in key_ids)
        return 0

    def destroy(self) -> bool:
        """Overwrite and delete the key and its sealed copy; return whether there was a key."""
        existed = self.path.exists()
        for path in (self.path, self.sealed_path):
            _overwrite_and_delete(path)
        if existed:
            log.info("destroyed the face gallery key %s", self.path)
        return existed

    def _open(self, copy: _SealedCopy, keyring: Keyring) -> GalleryKey:
        try:
            key = GalleryKey(keyring.open_data_key(copy.sealed))
        except SealedObjectError as exc:
            raise CorruptGalleryKeyError(
                _("cannot open {path}: {problem}").format(path=self.sealed_path, problem=exc)
            ) from None
        if key.key_id != copy.gallery_key_id:
            raise CorruptGalleryKeyError(
                _("{path} was changed: it names another gallery key").format(path=self.sealed_path)
            )
        return key

    def _write_sealed_copy(self, key: GalleryKey) -> None:
        with self.home_key.sealing() as public_key:
            self._write_sealed(key, public_key)

    def _write_sealed(self, key: GalleryKey, recipient: HomePublicKey) -> None:
        write_private_file(self.sealed_path, bytes.fromhex(key.key_id) + seal_data_key(key.raw, recipient))

    def _read_sealed_copy(self) -> _SealedCopy | None:
        try:
            data = self.sealed_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptGalleryKeyError(
                _("cannot read {path}: {problem}").format(path=self.sealed_path, problem=exc.strerror or exc)
            ) from None
        if len(data) != KEY_ID_BYTES + SEALED_DATA_KEY_SIZE:
            raise CorruptGalleryKeyError(_("{path} is damaged (wrong length)").format(path=self.sealed_path))
        sealed = data[KEY_ID_BYTES:]
        try:
            home_key_id = sealed_data_key_id(sealed)
        except SealedObjectError:
            raise CorruptGalleryKeyError(
                _("{path} is damaged (not a sealed key)").format(path=self.sealed_path)
            ) from None
        return _SealedCopy(data[:KEY_ID_BYTES].hex(), home_key_id, sealed)


def _overwrite_and_delete(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError), path.open("r+b") as file:
        file.write(bytes(os.fstat(file.fileno()).st_size))
        file.flush()
        os.fsync(file.fileno())
    path.unlink(missing_ok=True)
