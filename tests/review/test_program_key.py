"""The pinned program key: a rotation is accepted only when signed by the key before it; sealing to the key."""

from __future__ import annotations

import copy

import pytest
from nacl.signing import SigningKey

from homewarden.review.program_key import (
    ROTATION_PROBLEM,
    PinnedKeys,
    ProgramKey,
    ProgramKeyError,
    seal_to_program,
)
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, Keyring, SealedObjectReader, TamperedObjectError
from review.cloud_signer import program_of, rotation


def pinned(key: SigningKey) -> PinnedKeys:
    """Return the keys a hub pins when it pairs with a cloud holding ``key``."""
    return PinnedKeys((ProgramKey.from_document(program_of(key)),))


def test_a_key_whose_id_does_not_name_it_is_refused() -> None:
    document = program_of(SigningKey.generate())
    document["key_id"] = "pk_0000000000000000"
    with pytest.raises(ProgramKeyError, match="does not match its id"):
        ProgramKey.from_document(document)


def test_a_chain_of_signed_rotations_is_followed_and_older_keys_stay_known() -> None:
    first, second, third = (SigningKey.generate() for _ in range(3))
    answer = {"program": program_of(third), "rotations": [rotation(first, second), rotation(second, third)]}
    followed = pinned(first).follow(answer)
    assert followed.problem is None
    assert followed.current.key_id == program_of(third)["key_id"]
    assert [key.key_id for key in followed.keys] == [program_of(k)["key_id"] for k in (first, second, third)]
    assert followed.by_id(program_of(first)["key_id"]) is not None
    # The same answer again changes nothing; the document round-trips.
    assert followed.follow(answer) == followed
    assert PinnedKeys.from_document(followed.document()) == followed


def test_a_hub_paired_after_a_rotation_skips_the_ones_before_its_pinned_key() -> None:
    first, second, third = (SigningKey.generate() for _ in range(3))
    answer = {"program": program_of(third), "rotations": [rotation(first, second), rotation(second, third)]}
    followed = pinned(second).follow(answer)
    assert followed.problem is None
    assert followed.current.key_id == program_of(third)["key_id"]


@pytest.mark.parametrize("forgery", ["signed by the new key", "signature altered", "a link missing", "other key"])
def test_a_key_change_without_a_valid_signature_keeps_the_pinned_key_and_says_so(forgery: str) -> None:
    first, second, third = (SigningKey.generate() for _ in range(3))
    rotations = [rotation(first, second), rotation(second, third)]
    if forgery == "signed by the new key":
        rotations[0] = {**rotation(second, second), "previous_key_id": program_of(first)["key_id"]}
    elif forgery == "signature altered":
        rotations[1] = copy.deepcopy(rotations[1])
        rotations[1]["at"] = "2026-12-07T00:00:00+00:00"
    elif forgery == "a link missing":
        rotations = rotations[1:]
    answer = {"program": program_of(third), "rotations": rotations}
    if forgery == "other key":
        answer = {"program": program_of(SigningKey.generate()), "rotations": []}
    followed = pinned(first).follow(answer)
    assert followed.problem == ROTATION_PROBLEM
    assert followed.keys == pinned(first).keys


def test_a_copy_sealed_to_the_program_key_opens_with_its_private_key_for_its_donation_only() -> None:
    key = SigningKey.generate()
    copy_bytes = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 300
    body = seal_to_program(copy_bytes, "donation-0123456789", ProgramKey.from_document(program_of(key)))
    keyring = Keyring([key.to_curve25519_private_key()])
    data_key = keyring.open_data_key(body[:SEALED_DATA_KEY_SIZE])
    sealed = body[SEALED_DATA_KEY_SIZE:]

    def read(object_id: str) -> bytes:
        reader = SealedObjectReader(data_key, object_id, len(sealed), lambda start, end: sealed[start:end])
        return b"".join(reader.iter_chunks())

    assert read("donation-0123456789") == copy_bytes
    with pytest.raises(TamperedObjectError):
        read("another-donation-id")
    assert copy_bytes[40:80] not in body
