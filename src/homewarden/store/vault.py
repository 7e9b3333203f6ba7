"""The vault: media objects sealed as they are stored, opened only with the home's unlocked keyring.

Each object is two blobs: its ciphertext (``<name>.sealed`` in the object store) and its data key sealed to the
home's public key (``<name>.key`` in the data-key store). Shredding deletes the sealed data key first: from then on
no key can open the ciphertext, even a copy of it kept elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from homewarden.store.blobs import BlobNotFoundError, BlobStore, check_blob_name
from homewarden.store.crypto import (
    DEFAULT_CHUNK_SIZE,
    SEALED_DATA_KEY_SIZE,
    HomePublicKey,
    Keyring,
    SealedObjectError,
    SealedObjectReader,
    TamperedObjectError,
    encrypt_object,
    new_data_key,
    seal_data_key,
    sealed_data_key_id,
    sealed_size,
)

log = logging.getLogger(__name__)

SEALED_SUFFIX = ".sealed"
DATA_KEY_SUFFIX = ".key"


class ObjectNotFoundError(SealedObjectError):
    """No such object: it was never stored, or it was shredded."""


class RecipientSource(Protocol):
    """Where a vault gets the home public key to seal new data keys to."""

    def sealing(self) -> contextlib.AbstractContextManager[HomePublicKey]:
        """Hold the current public key steady (against a rotation) while one data key is sealed."""


class FixedRecipient:
    """A recipient that never changes: for tests, benchmarks and one-off tools."""

    def __init__(self, public_key: HomePublicKey) -> None:
        """Seal every data key to ``public_key``."""
        self.public_key = public_key

    @contextlib.contextmanager
    def sealing(self) -> Iterator[HomePublicKey]:
        """Yield the fixed public key."""
        yield self.public_key


@dataclass(frozen=True)
class StoredObject:
    """One object in the vault: its name, the bytes it takes (ciphertext and sealed key), when it was written."""

    name: str
    stored_bytes: int
    modified: float


def stored_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Return the bytes an object of ``plaintext_size`` takes in the vault, sealed data key included."""
    return sealed_size(plaintext_size, chunk_size) + SEALED_DATA_KEY_SIZE


class Vault:
    """Seal objects into a blob store, open them with the keyring, shred them, and re-seal keys on rotation."""

    def __init__(
        self,
        objects: BlobStore,
        data_keys: BlobStore,
        recipient: RecipientSource | None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        """Store ciphertext in ``objects`` and sealed data keys in ``data_keys``; seal to ``recipient``.

        A vault without a recipient can read, shred and re-seal, but not store new objects.
        """
        self.objects = objects
        self.data_keys = data_keys
        self.recipient = recipient
        self.chunk_size = chunk_size
        self._reseal_lock = threading.Lock()

    def put(self, name: str, plaintext: bytes | Iterable[bytes]) -> int:
        """Encrypt ``plaintext`` under a fresh data key and store it as ``name``; return the bytes stored.

        The object becomes visible only once both the ciphertext and its sealed data key are stored; a failure
        (a full disk, say) leaves neither and re-raises.
        """
        check_blob_name(name)
        if self.recipient is None:
            raise ValueError("this vault has no public key to seal to")
        pieces = [plaintext] if isinstance(plaintext, bytes) else plaintext
        data_key = new_data_key()
        written = self.objects.put(name + SEALED_SUFFIX, encrypt_object(data_key, name, pieces, self.chunk_size))
        try:
            with self.recipient.sealing() as public_key:
                sealed = seal_data_key(data_key, public_key)
                written += self.data_keys.put(name + DATA_KEY_SUFFIX, [sealed])
        except BaseException:
            self.objects.delete(name + SEALED_SUFFIX)
            raise
        return written

    def open(self, name: str, keyring: Keyring) -> SealedObjectReader:
        """Return a reader of the object's plaintext; any changed byte makes reading fail."""
        check_blob_name(name)
        try:
            sealed_key = self.data_keys.get(name + DATA_KEY_SUFFIX)
            info = self.objects.stat(name + SEALED_SUFFIX)
        except BlobNotFoundError:
            raise ObjectNotFoundError(f"no object {name} (never stored, or deleted)") from None
        try:
            data_key = keyring.open_data_key(sealed_key)
            return SealedObjectReader(
                data_key, name, info.size, lambda start, end: self.objects.get(name + SEALED_SUFFIX, start, end)
            )
        except TamperedObjectError as exc:
            log.warning("refused object %s: %s", name, exc)
            raise

    def read(self, name: str, keyring: Keyring) -> bytes:
        """Return an object's whole plaintext."""
        reader = self.open(name, keyring)
        try:
            return b"".join(reader.iter_chunks())
        except TamperedObjectError as exc:
            log.warning("refused object %s: %s", name, exc)
            raise

    def exists(self, name: str) -> bool:
        """Tell whether the object can still be opened (its sealed data key exists)."""
        return self.data_keys.exists(check_blob_name(name) + DATA_KEY_SUFFIX)

    def shred(self, name: str) -> bool:
        """Destroy the object's sealed data key, then its ciphertext; return whether there was an object."""
        check_blob_name(name)
        had_key = self.data_keys.delete(name + DATA_KEY_SUFFIX)
        had_object = self.objects.delete(name + SEALED_SUFFIX)
        # Again: a rotation may have re-written the sealed key between the two deletes above.
        had_key = self.data_keys.delete(name + DATA_KEY_SUFFIX) or had_key
        return had_key or had_object

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Yield every object (and any ciphertext whose key is gone), with the bytes it takes, in name order."""
        key_sizes = {
            info.name.removesuffix(DATA_KEY_SUFFIX): info.size
            for info in self.data_keys.list(prefix)
            if info.name.endswith(DATA_KEY_SUFFIX)
        }
        for info in self.objects.list(prefix):
            if info.name.endswith(SEALED_SUFFIX):
                name = info.name.removesuffix(SEALED_SUFFIX)
                yield StoredObject(name, info.size + key_sizes.pop(name, 0), info.modified)
        for name, size in sorted(key_sizes.items()):
            yield StoredObject(name, size, 0.0)  # a sealed key left without its ciphertext by a crash

    def usage(self) -> int:
        """Return the bytes every stored object takes."""
        return sum(stored.stored_bytes for stored in self.list())

    def reseal(self, keyring: Keyring, recipient: HomePublicKey) -> int:
        """Re-seal every data key not sealed to ``recipient`` (a rotation); the media is not touched."""
        resealed = 0
        with self._reseal_lock:
            for info in list(self.data_keys.list()):
                if not info.name.endswith(DATA_KEY_SUFFIX):
                    continue
                try:
                    sealed = self.data_keys.get(info.name)
                except BlobNotFoundError:
                    continue  # shredded meanwhile
                try:
                    if sealed_data_key_id(sealed) == recipient.key_id:
                        continue
                    data_key = keyring.open_data_key(sealed)
                except SealedObjectError as exc:
                    # A damaged key cannot be opened by any home key; re-sealing cannot save it, nor should it
                    # stop the others from moving to the new key.
                    log.warning("cannot re-seal the data key of %s: %s", info.name, exc)
                    continue
                self.data_keys.put(info.name, [seal_data_key(data_key, recipient)])
                name = info.name.removesuffix(DATA_KEY_SUFFIX)
                if not self.objects.exists(name + SEALED_SUFFIX):
                    # Shredded while being re-sealed: do not bring its key back.
                    self.data_keys.delete(info.name)
                    continue
                resealed += 1
        return resealed

    def count_sealed_to(self, key_ids: set[str]) -> int:
        """Return how many data keys are sealed to one of ``key_ids``."""
        count = 0
        for info in self.data_keys.list():
            with contextlib.suppress(BlobNotFoundError, SealedObjectError):
                if sealed_data_key_id(self.data_keys.get(info.name)) in key_ids:
                    count += 1
        return count
