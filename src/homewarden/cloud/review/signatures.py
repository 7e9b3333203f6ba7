"""What the review program signs, and how: canonical JSON under the program key (docs/cloud-protocol.md)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any, Protocol


class Signer(Protocol):
    """Something that signs with the program's current key: ``key_id`` and ``sign``."""

    @property
    def key_id(self) -> str:
        """Return the id of the signing key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        ...


def canonical_json(value: Any) -> bytes:
    """Return the one byte string of ``value`` that every signature and hash covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_signature(signature: bytes) -> str:
    """Return a signature as base64url without padding."""
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")


def decode_signature(text: str) -> bytes:
    """Return the bytes of a base64url signature (padding optional)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(fields: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """Return ``fields`` with the signer's ``key_id`` and a ``signature`` over the canonical JSON of both."""
    unsigned = {**fields, "key_id": signer.key_id}
    return {**unsigned, "signature": encode_signature(signer.sign(canonical_json(unsigned)))}


def iso(moment: datetime) -> str:
    """Return a time as the review program writes it: UTC, to the microsecond, so it reads back to the same text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
