"""Random ids, codes and tokens, and the digests under which the secret ones are stored."""

from __future__ import annotations

import hashlib
import secrets

# No 0/O, 1/I/L or U: a code read aloud or typed from a phone is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_home_id() -> str:
    """Return a fresh opaque home id: ``h_`` and 22 url-safe characters."""
    return "h_" + secrets.token_urlsafe(16)


def new_hub_id() -> str:
    """Return a fresh opaque hub id."""
    return "hub_" + secrets.token_urlsafe(16)


def new_upload_id() -> str:
    """Return a fresh multipart upload id."""
    return secrets.token_hex(16)


def new_token() -> str:
    """Return a fresh session token (256 bits)."""
    return secrets.token_urlsafe(32)


def new_code(groups: int) -> str:
    """Return a one-time code of ``groups`` groups of four characters, e.g. ``K7QM-2XHD-9RTA``."""
    characters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(groups * 4))
    return "-".join(characters[start : start + 4] for start in range(0, len(characters), 4))


def normalise_code(code: str) -> str:
    """Return a code as it is stored: upper case, without spaces or dashes (typed codes vary in both)."""
    return "".join(character for character in code.upper() if character.isalnum())


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest a secret is stored as (the secrets are random, so no slow hash is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
