"""Password hashing (Argon2id) and the rule for a new password."""

from __future__ import annotations

import functools
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from homewarden.i18n import _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Return a hash to verify against when the user name is unknown (made once, when first needed).

    A wrong name then costs as long as a wrong password, so timing does not tell which user names exist.
    """
    return _hasher.hash("homewarden-no-such-user")


class WeakPasswordError(ValueError):
    """A new password that does not meet the rule."""


def _normalise(password: str) -> str:
    # The same passphrase typed on two keyboards must give the same bytes (é as one code point or two).
    return unicodedata.normalize("NFC", password)


def check_new_password(password: str) -> None:
    """Refuse a password that is too short or absurdly long."""
    length = len(_normalise(password).strip())
    if length < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(_("a password needs at least {count} characters").format(count=MIN_PASSWORD_LENGTH))
    if length > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(_("a password has at most {count} characters").format(count=MAX_PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    """Return the Argon2id hash of a password."""
    return _hasher.hash(_normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Tell whether ``password`` matches ``stored_hash`` (None: no such user, checked against a dummy hash)."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), _normalise(password)) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Tell whether a hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
