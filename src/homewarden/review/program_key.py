"""The review program's public key as the hub pins it, its signed rotations, and sealing a donated copy to it.

The cloud holds the program's Ed25519 signing key; the hub receives the public half when it pairs and pins it. A new
key is accepted only through a chain of rotations, each signed by the key before it, starting at the pinned one
(docs/cloud-protocol.md, "Review program"). A donated copy is sealed to the key's X25519 form in the vault format of
off-site objects, with the donation id bound as associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from homewarden.store.crypto import HomePublicKey, encrypt_object, new_data_key, seal_data_key

KEY_ID_PREFIX = "pk_"
RAW_KEY_SIZE = 32


class ProgramKeyError(ValueError):
    """A program key, rotation or signature the hub refuses; the message says why in plain words."""


def canonical_json(document: Any) -> bytes:
    """Return the bytes the cloud signs for ``document`` (sorted keys, no spaces, UTF-8)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def program_key_id(raw_verify_key: bytes) -> str:
    """Return a program key's id: ``pk_`` and the first 16 hex digits of the raw key's SHA-256."""
    return KEY_ID_PREFIX + hashlib.sha256(raw_verify_key).hexdigest()[:16]


def decode_signature(text: str) -> bytes:
    """Decode a base64url signature without padding."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ProgramKeyError("a signature is not base64url") from None


@dataclass(frozen=True)
class ProgramKey:
    """One public key of the review program."""

    key_id: str
    verify_key: bytes
    created_at: str

    @classmethod
    def from_document(cls, document: Any) -> ProgramKey:
        """Read a ``program`` object; refuse one whose key id does not name its key."""
        try:
            raw = base64.b64decode(str(document["verify_key"]), validate=True)
            key = cls(str(document["key_id"]), raw, str(document["created_at"]))
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise ProgramKeyError("the cloud's review key is malformed") from None
        if len(raw) != RAW_KEY_SIZE or program_key_id(raw) != key.key_id:
            raise ProgramKeyError(f"the cloud's review key {key.key_id} does not match its id")
        return key

    def document(self) -> dict[str, str]:
        """Return the ``program`` object."""
        return {
            "key_id": self.key_id,
            "verify_key": base64.b64encode(self.verify_key).decode("ascii"),
            "created_at": self.created_at,
        }

    def verify(self, document: dict[str, Any], signature: str) -> None:
        """Check ``signature`` over the canonical JSON of ``document``; raise ProgramKeyError if not this key's."""
        try:
            VerifyKey(self.verify_key).verify(canonical_json(document), decode_signature(signature))
        except (BadSignatureError, ValueError):
            raise ProgramKeyError(f"a signature is not by the review key {self.key_id}") from None

    def sealing_key(self) -> HomePublicKey:
        """Return the key's X25519 form, which donated copies are sealed to."""
        return HomePublicKey.from_bytes(bytes(VerifyKey(self.verify_key).to_curve25519_public_key()))


@dataclass(frozen=True)
class PinnedKeys:
    """The key pinned at pairing and every key accepted since through signed rotations, oldest first."""

    keys: tuple[ProgramKey, ...]
    problem: str | None = None

    @property
    def current(self) -> ProgramKey:
        """Return the newest accepted key (donations are sealed to it)."""
        return self.keys[-1]

    def by_id(self, key_id: str) -> ProgramKey | None:
        """Return the accepted key of this id (receipts signed before a rotation name an older one)."""
        return next((key for key in self.keys if key.key_id == key_id), None)

    def document(self) -> dict[str, Any]:
        """Return what the pairing folder keeps."""
        return {"keys": [key.document() for key in self.keys], "problem": self.problem}

    @classmethod
    def from_document(cls, document: Any) -> PinnedKeys:
        """Read what the pairing folder keeps."""
        try:
            keys = tuple(ProgramKey.from_document(item) for item in document["keys"])
            problem = document.get("problem")
        except (KeyError, TypeError, AttributeError):
            raise ProgramKeyError("the pinned review key file is damaged") from None
        if not keys:
            raise ProgramKeyError("the pinned review key file holds no key")
        return cls(keys, None if problem is None else str(problem))

    def follow(self, answer: Any) -> PinnedKeys:
        """Accept the cloud's rotations from the newest pinned key on; keep the pinned keys if the chain is broken."""
        try:
            announced = ProgramKey.from_document(answer["program"])
            rotations = list(answer.get("rotations") or [])
        except (KeyError, TypeError, AttributeError, ProgramKeyError):
            return PinnedKeys(self.keys, ROTATION_PROBLEM)
        if announced.key_id == self.current.key_id:
            return PinnedKeys(self.keys) if announced == self.current else PinnedKeys(self.keys, ROTATION_PROBLEM)
        keys = list(self.keys)
        try:
            for rotation in rotations:
                previous_id = str(rotation["previous_key_id"])
                new_key = ProgramKey.from_document(rotation["program"])
                if any(key.key_id == new_key.key_id for key in keys):
                    continue  # accepted at an earlier refresh
                if previous_id != keys[-1].key_id:
                    continue  # before the pinned key: the hub paired after it
                signed = {"previous_key_id": previous_id, "program": rotation["program"], "at": rotation["at"]}
                keys[-1].verify(signed, str(rotation["signature"]))
                keys.append(new_key)
        except (KeyError, TypeError, AttributeError, ProgramKeyError):
            return PinnedKeys(self.keys, ROTATION_PROBLEM)
        if keys[-1] != announced:
            return PinnedKeys(self.keys, ROTATION_PROBLEM)
        return PinnedKeys(tuple(keys))


ROTATION_PROBLEM = "the cloud's review key changed without a valid signature"


def seal_to_program(plaintext: bytes, donation_id: str, key: ProgramKey) -> bytes:
    """Seal a donated copy to the program key: sealed data key, then the HWSEAL ciphertext bound to the donation id."""
    data_key = new_data_key()
    return seal_data_key(data_key, key.sealing_key()) + b"".join(encrypt_object(data_key, donation_id, [plaintext]))
