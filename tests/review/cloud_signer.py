"""What the cloud signs, made here with a real Ed25519 key held by the test (the cloud's side of the protocol).

The hub's checks are tested against these; the same checks run against the real cloud in tests/offsite/test_review.py.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from homewarden.review.cloud_chain import GENESIS_HASH, entry_hash
from homewarden.review.program_key import canonical_json, program_key_id


def signature(key: SigningKey, document: Any) -> str:
    """Sign the canonical JSON of ``document``; return base64url without padding."""
    return base64.urlsafe_b64encode(key.sign(canonical_json(document)).signature).rstrip(b"=").decode()


def program_of(key: SigningKey, created_at: str = "2026-12-06T07:00:00+00:00") -> dict[str, str]:
    """Return the ``program`` object of ``key``."""
    raw = bytes(key.verify_key)
    return {"key_id": program_key_id(raw), "verify_key": base64.b64encode(raw).decode(), "created_at": created_at}


def rotation(old: SigningKey, new: SigningKey, at: str = "2026-12-06T08:00:00+00:00") -> dict[str, Any]:
    """Return the rotation from ``old`` to ``new``, signed by ``old``."""
    body = {"previous_key_id": program_of(old)["key_id"], "program": program_of(new), "at": at}
    return {**body, "signature": signature(old, body)}


@dataclass
class CloudChain:
    """The cloud's one audit chain for every home, signed with ``key``."""

    key: SigningKey
    entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def head(self) -> str:
        """Return the newest entry's hash."""
        return self.entries[-1]["entry_hash"] if self.entries else GENESIS_HASH

    def add(self, home_id: str, donation_id: str, action: str, actor: str = "cloud") -> dict[str, Any]:
        """Append an entry; return its receipt."""
        content = {
            "seq": len(self.entries) + 1,
            "at": f"2026-12-06T07:{len(self.entries):02d}:00+00:00",
            "home_id": home_id,
            "donation_id": donation_id,
            "action": action,
            "actor": actor,
            "details": {},
        }
        content_hash = hashlib.sha256(canonical_json(content)).hexdigest()
        prev = self.head
        body = {
            "content": content,
            "content_hash": content_hash,
            "prev_hash": prev,
            "entry_hash": entry_hash(prev, content_hash),
            "key_id": program_of(self.key)["key_id"],
        }
        receipt = {**body, "signature": signature(self.key, body)}
        self.entries.append(receipt)
        return receipt

    def checkpoint(self) -> dict[str, Any]:
        """Return a signed checkpoint of the head."""
        body = {
            "seq": len(self.entries),
            "head_hash": self.head,
            "at": "2026-12-06T09:00:00+00:00",
            "key_id": program_of(self.key)["key_id"],
        }
        return {**body, "signature": signature(self.key, body)}

    def links(self, after: int, upto: int | None = None) -> list[tuple[int, str, str]]:
        """Return the links (seq, content hash, entry hash) after ``after``."""
        chosen = self.entries[after:upto]
        return [(e["content"]["seq"], e["content_hash"], e["entry_hash"]) for e in chosen]
