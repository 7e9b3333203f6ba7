"""Tests for sealed objects: chunked AES-256-GCM under a fresh data key, the key sealed to the home's public key."""

from __future__ import annotations

import os
import random

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.public import PrivateKey, SealedBox

from homewarden.store.crypto import (
    HEADER,
    SEALED_DATA_KEY_SIZE,
    TAG_SIZE,
    HomePublicKey,
    Keyring,
    SealedObjectReader,
    TamperedObjectError,
    UnknownHomeKeyError,
    encrypt_object,
    new_data_key,
    seal_data_key,
    sealed_data_key_id,
    sealed_size,
)

CHUNK = 1024


def seal(plaintext: bytes, object_id: str = "front/2026-01-01/event-1.mp4", chunk_size: int = CHUNK) -> bytes:
    return b"".join(encrypt_object(DATA_KEY, object_id, [plaintext], chunk_size))


def reader_for(
    sealed: bytes, object_id: str = "front/2026-01-01/event-1.mp4", key: bytes | None = None
) -> SealedObjectReader:
    return SealedObjectReader(key or DATA_KEY, object_id, len(sealed), lambda start, end: sealed[start:end])


def open_all(sealed: bytes, object_id: str = "front/2026-01-01/event-1.mp4") -> bytes:
    return b"".join(reader_for(sealed, object_id).iter_chunks())


DATA_KEY = bytes(range(32))
PLAIN = os.urandom(3 * CHUNK + 17)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_of_every_size_around_chunk_boundaries(size: int) -> None:
    plaintext = PLAIN[:size]
    sealed = seal(plaintext)

    assert len(sealed) == sealed_size(size, CHUNK)
    assert open_all(sealed) == plaintext
    assert reader_for(sealed).size == size


def test_plaintext_arriving_in_odd_pieces_seals_like_one_piece() -> None:
    pieces = [PLAIN[:5], PLAIN[5:5], PLAIN[5:2000], PLAIN[2000:2001], PLAIN[2001:]]
    sealed = b"".join(encrypt_object(DATA_KEY, "x", pieces, CHUNK))

    assert sealed == seal(PLAIN, "x")


def test_chunks_are_standard_aes_gcm_with_the_documented_nonce_and_associated_data() -> None:
    """The format is plain AES-256-GCM that any library can open, given the layout in crypto.py's docstring."""
    sealed = seal(PLAIN, "cam/day/e.jpg")
    header = sealed[: HEADER.size]
    first = sealed[HEADER.size : HEADER.size + CHUNK + TAG_SIZE]
    nonce = bytes(4) + (0).to_bytes(8, "big")
    associated = header + (0).to_bytes(8, "big") + b"\x00" + b"cam/day/e.jpg"

    assert AESGCM(DATA_KEY).decrypt(nonce, first, associated) == PLAIN[:CHUNK]


def test_random_byte_ranges_read_only_the_chunks_that_hold_them() -> None:
    sealed = seal(PLAIN)
    reads: list[int] = []

    def read_stored(start: int, end: int) -> bytes:
        reads.append(len(sealed[start:end]))
        return sealed[start:end]

    reader = SealedObjectReader(DATA_KEY, "front/2026-01-01/event-1.mp4", len(sealed), read_stored)
    assert reader.size == len(PLAIN)  # authenticates the last chunk once
    generator = random.Random(4)
    for _ in range(200):
        start = generator.randrange(0, len(PLAIN))
        end = generator.randrange(start, len(PLAIN) + 10)
        reads.clear()
        assert reader.read(start, end) == PLAIN[start:end]
        chunks_needed = (min(end, len(PLAIN)) - 1) // CHUNK - start // CHUNK + 1 if end > start else 0
        assert sum(reads) <= chunks_needed * (CHUNK + TAG_SIZE)
    assert reader.read(10, 10) == b""
    assert reader.read(len(PLAIN) - 3) == PLAIN[-3:]


def test_every_changed_byte_makes_reading_fail() -> None:
    """Flip each byte of a three-and-a-bit-chunk object in turn: reading it whole always fails."""
    sealed = bytearray(seal(PLAIN))
    for position in range(len(sealed)):
        sealed[position] ^= 0x01
        with pytest.raises(TamperedObjectError):
            open_all(bytes(sealed))
        sealed[position] ^= 0x01
    assert open_all(bytes(sealed)) == PLAIN


@pytest.mark.parametrize("cut", [1, TAG_SIZE, CHUNK + TAG_SIZE - 17, 17 + TAG_SIZE])
def test_truncation_fails_even_at_a_chunk_boundary(cut: int) -> None:
    sealed = seal(PLAIN)
    truncated = sealed[:-cut]

    with pytest.raises(TamperedObjectError):
        open_all(truncated)
    with pytest.raises(TamperedObjectError):
        _ = reader_for(truncated).size


def test_a_range_of_a_truncated_object_fails_because_its_size_is_authenticated() -> None:
    """The first chunk is intact, but the reader refuses to serve any range of an object that lost its end."""
    sealed = seal(PLAIN)
    without_last_chunk = sealed[: HEADER.size + 3 * (CHUNK + TAG_SIZE)]

    with pytest.raises(TamperedObjectError):
        reader_for(without_last_chunk).read(0, 10)


def test_reordered_and_appended_chunks_fail() -> None:
    sealed = seal(PLAIN)
    size = CHUNK + TAG_SIZE
    header, chunks = sealed[: HEADER.size], sealed[HEADER.size :]
    first, second, rest = chunks[:size], chunks[size : 2 * size], chunks[2 * size :]

    with pytest.raises(TamperedObjectError):
        open_all(header + second + first + rest)
    with pytest.raises(TamperedObjectError):
        open_all(sealed + first)


def test_chunks_spliced_from_another_object_or_a_renamed_object_fail() -> None:
    """Same key even (which never happens): the object id in the associated data still tells them apart."""
    ours = seal(PLAIN, "cam/day/a.mp4")
    theirs = seal(PLAIN, "cam/day/b.mp4")
    size = CHUNK + TAG_SIZE

    spliced = ours[: HEADER.size + size] + theirs[HEADER.size + size :]
    with pytest.raises(TamperedObjectError):
        open_all(spliced, "cam/day/a.mp4")
    with pytest.raises(TamperedObjectError):
        open_all(ours, "cam/day/b.mp4")


def test_equal_chunks_of_one_object_encrypt_differently_and_each_object_gets_a_fresh_key() -> None:
    """Nonces never repeat: within an object the chunk index differs; across objects the key does."""
    repeated = bytes(CHUNK) * 3
    sealed = seal(repeated)
    size = CHUNK + TAG_SIZE
    chunks = [sealed[HEADER.size + i * size : HEADER.size + (i + 1) * size] for i in range(3)]

    assert len(set(chunks)) == 3
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) == 32 for key in keys)


def test_a_wrong_data_key_fails() -> None:
    with pytest.raises(TamperedObjectError):
        b"".join(reader_for(seal(PLAIN), key=bytes(32)).iter_chunks())


def test_not_a_sealed_object_is_refused() -> None:
    with pytest.raises(TamperedObjectError, match="too short"):
        reader_for(b"HWSEAL")
    with pytest.raises(TamperedObjectError, match="not a Homewarden sealed object"):
        reader_for(b"\x00\x00\x00\x18ftypisom" + bytes(100))


def test_a_data_key_sealed_to_the_public_key_opens_only_with_the_private_key() -> None:
    home = PrivateKey.generate()
    stranger = PrivateKey.generate()
    public = HomePublicKey.from_bytes(bytes(home.public_key))
    data_key = new_data_key()

    sealed = seal_data_key(data_key, public)

    assert len(sealed) == SEALED_DATA_KEY_SIZE
    assert sealed_data_key_id(sealed) == public.key_id
    assert Keyring([home]).open_data_key(sealed) == data_key
    with pytest.raises(UnknownHomeKeyError):
        Keyring([stranger]).open_data_key(sealed)
    # The box itself is an ordinary libsodium sealed box.
    assert SealedBox(home).decrypt(sealed[-80:]) == data_key


def test_a_sealed_data_key_relabelled_for_another_home_key_fails() -> None:
    home, other = PrivateKey.generate(), PrivateKey.generate()
    sealed = seal_data_key(new_data_key(), HomePublicKey.from_bytes(bytes(home.public_key)))
    relabelled = sealed[:5] + bytes.fromhex(Keyring([other]).current_id) + sealed[13:]

    with pytest.raises(TamperedObjectError):
        Keyring([other, home]).open_data_key(relabelled)


def test_every_changed_byte_of_a_sealed_data_key_fails() -> None:
    home = PrivateKey.generate()
    keyring = Keyring([home])
    sealed = bytearray(seal_data_key(new_data_key(), keyring.public_key()))
    for position in range(len(sealed)):
        sealed[position] ^= 0x80
        with pytest.raises((TamperedObjectError, UnknownHomeKeyError)):
            keyring.open_data_key(bytes(sealed))
        sealed[position] ^= 0x80


def test_a_keyring_never_shows_its_keys() -> None:
    home = PrivateKey.generate()
    keyring = Keyring([home])

    shown = repr(keyring)
    assert bytes(home).hex() not in shown
    assert keyring.current_id in shown
