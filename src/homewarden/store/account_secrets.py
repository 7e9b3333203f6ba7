"""The key that seals account secrets at rest (two-factor seeds), kept in a file of the hub, never in the database.

A TOTP seed must be read to check a code, so it cannot be hashed like a password; it is sealed with AES-256-GCM under
a key in the storage folder (``account-secrets.key``, readable by the hub's user only, made on first use). A database
dump, a backup of it or a remote PostgreSQL server then holds ciphertext only. Each sealed value is bound to the row
it belongs to, so a seed copied into another user's row does not open.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from homewarden.store.durable_files import create_once

log = logging.getLogger(__name__)

ACCOUNT_SECRETS_KEY_NAME = "account-secrets.key"
KEY_SIZE = 32
NONCE_SIZE = 12
# base64url has no ".", so a sealed value is never mistaken for a base32 seed stored in clear by an older hub.
SEALED_PREFIX = "v1."
_KEY_HEADER = struct.Struct(">4sB")  # magic, version
_KEY_MAGIC = b"HWAS"
_FORMAT_VERSION = 1


class AccountSecretError(Exception):
    """An account secret cannot be sealed or opened; the message names no secret."""


class AccountSecretKey:
    """An open account-secrets key: AES-256-GCM with a fresh random nonce per value."""

    def __init__(self, key: bytes) -> None:
        """Hold ``key`` (32 bytes)."""
        if len(key) != KEY_SIZE:
            raise ValueError(f"an account-secrets key has {KEY_SIZE} bytes")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        """Show no key material in a log or traceback."""
        return "AccountSecretKey(…)"

    def seal(self, secret: str, bound_to: str) -> str:
        """Return ``secret`` sealed and bound to ``bound_to`` (what the row is, e.g. ``totp:7``), as text."""
        nonce = os.urandom(NONCE_SIZE)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), bound_to.encode())
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, sealed: str, bound_to: str) -> str:
        """Return the secret of a sealed value, or raise if it was changed, damaged or moved to another row."""
        if not is_sealed(sealed):
            raise AccountSecretError("an account secret is stored unsealed")
        try:
            data = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :])
            return self._aead.decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], bound_to.encode()).decode()
        except (binascii.Error, InvalidTag, ValueError):
            raise AccountSecretError(
                f"an account secret failed authentication ({bound_to}): damaged, moved, or sealed with another key"
            ) from None


def is_sealed(value: str) -> bool:
    """Tell whether a stored value is sealed (not a secret an older hub stored in clear)."""
    return value.startswith(SEALED_PREFIX)


class AccountSecretKeyFile:
    """The account-secrets key file of a storage folder, made when first needed."""

    def __init__(self, path: Path) -> None:
        """Keep the key at ``path``."""
        self.path = path
        self._key: AccountSecretKey | None = None

    @classmethod
    def in_folder(cls, folder: Path) -> AccountSecretKeyFile:
        """Return the key file of the storage folder ``folder``."""
        return cls(folder.resolve() / ACCOUNT_SECRETS_KEY_NAME)

    def key(self) -> AccountSecretKey:
        """Return the key, creating the file the first time a secret is sealed."""
        if self._key is None:
            self._key = self._read() or self._create()
        return self._key

    def _read(self) -> AccountSecretKey | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AccountSecretError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if len(data) != _KEY_HEADER.size + KEY_SIZE or _KEY_HEADER.unpack_from(data) != (_KEY_MAGIC, _FORMAT_VERSION):
            raise AccountSecretError(f"{self.path} is not a Homewarden account-secrets key (damaged or truncated)")
        return AccountSecretKey(data[_KEY_HEADER.size :])

    def _create(self) -> AccountSecretKey:
        # The hub and a `users` command starting at once must not each make a key: the loser reads the winner's.
        if create_once(self.path, _KEY_HEADER.pack(_KEY_MAGIC, _FORMAT_VERSION) + os.urandom(KEY_SIZE)):
            log.info("created the account-secrets key %s", self.path)
        key = self._read()
        if key is None:
            raise AccountSecretError(f"{self.path} vanished while it was made")
        return key
