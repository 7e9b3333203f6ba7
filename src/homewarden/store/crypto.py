"""Sealed media objects: a fresh data key per object, AES-256-GCM in chunks, the key sealed to the home's public key.

A sealed object is a 12-byte header followed by chunks. Every chunk is ``chunk_size`` bytes of plaintext (the last
one may be shorter, even empty) encrypted with AES-256-GCM, so it grows by a 16-byte tag. Each chunk's associated
data binds the header, the chunk's index, whether it is the last chunk, and the object's id (its name in the store):
reordered, dropped, truncated, spliced or renamed chunks all fail authentication.

The data key is sealed to the home's X25519 public key with a libsodium sealed box, so whoever records needs no
secret, and only the holder of the home's private key can open it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

MAGIC = b"HWSEAL"
FORMAT_VERSION = 1
HEADER = struct.Struct(">6sBxI")  # magic, version, reserved, plaintext bytes per chunk
TAG_SIZE = 16
DATA_KEY_SIZE = 32
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
_CHUNK_POSITION = struct.Struct(">QB")  # chunk index, last-chunk flag

DATA_KEY_MAGIC = b"HWDK"
DATA_KEY_HEADER = struct.Struct(">4sB8s")  # magic, version, id of the home key it is sealed to
SEALED_BOX_OVERHEAD = 48  # the sender's ephemeral public key and the MAC
SEALED_DATA_KEY_SIZE = DATA_KEY_HEADER.size + SEALED_BOX_OVERHEAD + DATA_KEY_SIZE
KEY_ID_BYTES = 8


class SealedObjectError(Exception):
    """A sealed object or sealed data key that cannot be opened."""


class TamperedObjectError(SealedObjectError):
    """Stored bytes failed authentication: they were changed, damaged, truncated or moved."""


class UnknownHomeKeyError(SealedObjectError):
    """A data key sealed to a home key that the unlocked keyring does not hold."""


def key_id_for(public_key: bytes) -> str:
    """Return the short id that names a home public key in sealed data keys and the key file."""
    return hashlib.sha256(b"homewarden home key id\x00" + public_key).digest()[:KEY_ID_BYTES].hex()


@dataclass(frozen=True)
class HomePublicKey:
    """The home's public key: all a recorder needs to seal data keys."""

    key_id: str
    public_key: bytes

    @classmethod
    def from_bytes(cls, public_key: bytes) -> HomePublicKey:
        """Name raw X25519 public key bytes by their key id."""
        if len(public_key) != PublicKey.SIZE:
            raise ValueError(f"a home public key has {PublicKey.SIZE} bytes, not {len(public_key)}")
        return cls(key_id_for(public_key), public_key)


class Keyring:
    """Unlocked home private keys by key id: the current one, and any a rotation has not finished retiring."""

    def __init__(self, private_keys: Sequence[PrivateKey]) -> None:
        """Hold ``private_keys``; the first is the current home key."""
        if not private_keys:
            raise ValueError("a keyring needs at least one private key")
        self._keys = {key_id_for(bytes(key.public_key)): key for key in private_keys}
        self.current_id = key_id_for(bytes(private_keys[0].public_key))

    def __repr__(self) -> str:
        """Name the key ids only, so a keyring in a log or traceback shows no secret."""
        return f"Keyring(current={self.current_id}, ids={sorted(self._keys)})"

    @property
    def key_ids(self) -> list[str]:
        """Return the ids of the keys held."""
        return list(self._keys)

    def private_keys(self) -> list[PrivateKey]:
        """Return the held private keys, the current one first."""
        return list(self._keys.values())

    def public_key(self) -> HomePublicKey:
        """Return the current home public key."""
        return HomePublicKey.from_bytes(bytes(self._keys[self.current_id].public_key))

    def open_data_key(self, sealed: bytes) -> bytes:
        """Open a sealed data key with whichever held private key it was sealed to."""
        key_id, box = _split_sealed_data_key(sealed)
        private_key = self._keys.get(key_id)
        if private_key is None:
            raise UnknownHomeKeyError(f"data key sealed to home key {key_id}, which this keyring does not hold")
        try:
            data_key = SealedBox(private_key).decrypt(box)
        except CryptoError:
            raise TamperedObjectError("sealed data key failed authentication") from None
        if len(data_key) != DATA_KEY_SIZE:
            raise TamperedObjectError("sealed data key has the wrong length")
        return data_key


def new_data_key() -> bytes:
    """Return a fresh random AES-256 key for exactly one object."""
    return AESGCM.generate_key(bit_length=256)


def seal_data_key(data_key: bytes, recipient: HomePublicKey) -> bytes:
    """Seal ``data_key`` to the home's public key; only the home's private key can open it."""
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"data keys have {DATA_KEY_SIZE} bytes")
    box = SealedBox(PublicKey(recipient.public_key)).encrypt(data_key)
    return DATA_KEY_HEADER.pack(DATA_KEY_MAGIC, FORMAT_VERSION, bytes.fromhex(recipient.key_id)) + bytes(box)


def sealed_data_key_id(sealed: bytes) -> str:
    """Return the id of the home key a sealed data key is sealed to."""
    return _split_sealed_data_key(sealed)[0]


def _split_sealed_data_key(sealed: bytes) -> tuple[str, bytes]:
    if len(sealed) != SEALED_DATA_KEY_SIZE:
        raise TamperedObjectError(f"sealed data key has {len(sealed)} bytes, not {SEALED_DATA_KEY_SIZE}")
    magic, version, key_id = DATA_KEY_HEADER.unpack_from(sealed)
    if magic != DATA_KEY_MAGIC or version != FORMAT_VERSION:
        raise TamperedObjectError("not a Homewarden sealed data key (bad magic or version)")
    return key_id.hex(), sealed[DATA_KEY_HEADER.size :]


def sealed_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Return the size of the sealed object holding ``plaintext_size`` bytes."""
    chunks = max(1, -(-plaintext_size // chunk_size))
    return HEADER.size + plaintext_size + chunks * TAG_SIZE


def encrypt_object(
    data_key: bytes, object_id: str, plaintext: Iterable[bytes], chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield the sealed object's header, then each encrypted chunk, reading ``plaintext`` as it goes."""
    _check_chunk_size(chunk_size)
    header = HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size)
    cipher = AESGCM(data_key)
    object_bytes = object_id.encode()
    yield header
    index = 0
    pending: bytes | None = None
    for piece in _rechunk(plaintext, chunk_size):
        # A chunk is only known to be the last once the next one fails to arrive, so each waits one step.
        if pending is not None:
            yield cipher.encrypt(_nonce(index), pending, _associated_data(header, index, False, object_bytes))
            index += 1
        pending = piece
    yield cipher.encrypt(_nonce(index), pending or b"", _associated_data(header, index, True, object_bytes))


def _rechunk(pieces: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    """Cut a stream of byte strings of any sizes into chunks of exactly ``chunk_size`` (the last may be shorter)."""
    buffer = bytearray()
    for piece in pieces:
        view = memoryview(piece)
        if buffer:
            # Top up the partial chunk first; slicing views (not deleting from a buffer) keeps a whole clip
            # handed over in one piece from being copied once per chunk.
            taken = chunk_size - len(buffer)
            buffer += view[:taken]
            view = view[taken:]
            if len(buffer) < chunk_size:
                continue
            yield bytes(buffer)
            buffer = bytearray()
        while len(view) >= chunk_size:
            yield bytes(view[:chunk_size])
            view = view[chunk_size:]
        buffer += view
    if buffer:
        yield bytes(buffer)


def _nonce(index: int) -> bytes:
    # Each data key seals exactly one object, once, so the chunk index is a nonce that never repeats under a key.
    return bytes(4) + index.to_bytes(8, "big")


def _associated_data(header: bytes, index: int, last: bool, object_id: bytes) -> bytes:
    return header + _CHUNK_POSITION.pack(index, 1 if last else 0) + object_id


def _check_chunk_size(chunk_size: int) -> None:
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes")


class SealedObjectReader:
    """Decrypt any byte range of one sealed object, reading only the chunks that hold it."""

    def __init__(
        self, data_key: bytes, object_id: str, stored_size: int, read_stored: Callable[[int, int], bytes]
    ) -> None:
        """Read the header through ``read_stored(start, end)``; ``stored_size`` is the sealed object's size."""
        self._cipher = AESGCM(data_key)
        self._object_id = object_id.encode()
        self._read_stored = read_stored
        if stored_size < HEADER.size + TAG_SIZE:
            raise TamperedObjectError(f"sealed object {object_id} is too short ({stored_size} bytes)")
        self._header = read_stored(0, HEADER.size)
        magic, version, chunk_size = HEADER.unpack(self._header)
        if magic != MAGIC or version != FORMAT_VERSION:
            raise TamperedObjectError(f"{object_id} is not a Homewarden sealed object (bad magic or version)")
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise TamperedObjectError(f"sealed object {object_id} names an impossible chunk size")
        self.chunk_size: int = chunk_size
        body = stored_size - HEADER.size
        stored_chunk = chunk_size + TAG_SIZE
        self.chunk_count: int = -(-body // stored_chunk)
        last_stored = body - (self.chunk_count - 1) * stored_chunk
        if last_stored < TAG_SIZE:
            raise TamperedObjectError(f"sealed object {object_id} was truncated inside a chunk tag")
        self._size: int = (self.chunk_count - 1) * chunk_size + last_stored - TAG_SIZE
        self._size_verified = False

    @property
    def size(self) -> int:
        """Return the plaintext size, authenticated by decrypting the last chunk (a truncation fails here)."""
        if not self._size_verified:
            self._decrypt_chunks(self.chunk_count - 1, self.chunk_count)
            self._size_verified = True
        return self._size

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Return plaintext bytes ``start`` to ``end`` (exclusive, clipped to the size), authenticating them."""
        size = self.size
        end = size if end is None else min(end, size)
        if start < 0 or end < start:
            raise ValueError(f"bad byte range {start}-{end}")
        if start == end:
            return b""
        first = start // self.chunk_size
        last = (end - 1) // self.chunk_size
        plaintext = b"".join(self._decrypt_chunks(first, last + 1))
        offset = start - first * self.chunk_size
        return plaintext[offset : offset + end - start]

    def iter_chunks(self, chunks_per_read: int = 16) -> Iterator[bytes]:
        """Yield the whole plaintext in order, a few chunks per storage read, authenticating every byte."""
        for first in range(0, self.chunk_count, chunks_per_read):
            yield from self._decrypt_chunks(first, min(first + chunks_per_read, self.chunk_count))
        self._size_verified = True

    def _decrypt_chunks(self, first: int, stop: int) -> list[bytes]:
        stored_chunk = self.chunk_size + TAG_SIZE
        base = HEADER.size + first * stored_chunk
        stored = self._read_stored(base, HEADER.size + stop * stored_chunk)
        chunks = []
        for index in range(first, stop):
            piece = stored[(index - first) * stored_chunk : (index - first + 1) * stored_chunk]
            last = index == self.chunk_count - 1
            try:
                chunks.append(
                    self._cipher.decrypt(
                        _nonce(index), piece, _associated_data(self._header, index, last, self._object_id)
                    )
                )
            except InvalidTag:
                raise TamperedObjectError(
                    f"sealed object {self._object_id.decode()} failed authentication at chunk {index}"
                ) from None
        return chunks
