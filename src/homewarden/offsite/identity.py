"""The hub's device identity (an Ed25519 key pair) and its pairing with a cloud, kept in the storage folder.

Both live in ``<storage>/offsite/``, readable by their owner only: ``device-key.pem`` (the private key; the cloud
keeps only the public half) and ``pairing.json`` (the cloud's URL, the hub id and home id it gave, the clock offset
measured when pairing). ``object-id-key`` is the secret the hub derives opaque object ids with. ``program-key.json``
holds the review program's public keys: the one the cloud gave at pairing, pinned, and each accepted since through a
rotation signed by the key before it (review/program_key.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homewarden.i18n import _
from homewarden.review.program_key import PinnedKeys
from homewarden.store.durable_files import fsync_folder
from homewarden.store.keys import write_private_file

OFFSITE_FOLDER = "offsite"
DEVICE_KEY_FILE = "device-key.pem"
PAIRING_FILE = "pairing.json"
PROGRAM_KEY_FILE = "program-key.json"
CHAIN_ARCHIVE_FOLDER = "cloud-chains"
OBJECT_ID_KEY_FILE = "object-id-key"
OBJECT_ID_KEY_SIZE = 32


class PairingError(Exception):
    """The hub's pairing cannot be read or made; the message says why."""


@dataclass(frozen=True)
class Pairing:
    """Which cloud the hub is paired with, as whom, and how far the cloud's clock is from the hub's."""

    cloud_url: str
    hub_id: str
    home_id: str
    clock_offset: float = 0.0
    paired_at: float = 0.0


def check_cloud_url(url: str) -> str:
    """Return the cloud's base URL without a trailing slash; refuse what is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise PairingError(_("{url!r} is not a cloud URL (https://host[:port][/path])").format(url=url))
    return url.strip().rstrip("/")


class OffsiteFolder:
    """The files of the off-site copies in one storage folder: device key, pairing, object-id key, outbox."""

    def __init__(self, storage_folder: Path) -> None:
        """Use ``<storage_folder>/offsite``."""
        self.path = storage_folder.resolve() / OFFSITE_FOLDER

    @property
    def device_key_path(self) -> Path:
        """Return where the device's private key is kept."""
        return self.path / DEVICE_KEY_FILE

    @property
    def pairing_path(self) -> Path:
        """Return where the pairing is kept."""
        return self.path / PAIRING_FILE

    @property
    def outbox_path(self) -> Path:
        """Return the outbox's SQLite file."""
        return self.path / "outbox.sqlite3"

    def _ensure_folder(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)

    def save_device_key(self, key: Ed25519PrivateKey) -> None:
        """Keep a device's private key (owner-only), replacing any earlier one."""
        self._ensure_folder()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private_file(self.device_key_path, pem)

    def device_key(self) -> Ed25519PrivateKey:
        """Return the device's private key."""
        try:
            loaded = serialization.load_pem_private_key(self.device_key_path.read_bytes(), password=None)
        except FileNotFoundError:
            raise PairingError(f"no device key in {self.path}: pair the hub first") from None
        except ValueError as exc:
            raise PairingError(f"device key {self.device_key_path} is damaged: {exc}") from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise PairingError(f"device key {self.device_key_path} is not an Ed25519 key")
        return loaded

    def pairing(self) -> Pairing | None:
        """Return the pairing, or None when the hub is not paired."""
        try:
            document = json.loads(self.pairing_path.read_text(encoding="utf-8"))
            return Pairing(
                cloud_url=str(document["cloud_url"]),
                hub_id=str(document["hub_id"]),
                home_id=str(document["home_id"]),
                clock_offset=float(document.get("clock_offset", 0.0)),
                paired_at=float(document.get("paired_at", 0.0)),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PairingError(f"pairing file {self.pairing_path} is damaged ({exc}): unpair and pair again") from None

    def pairing_stamp(self) -> float | None:
        """Return when the pairing file last changed (None without one): cheap, for noticing another process."""
        try:
            return self.pairing_path.stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return None

    def save_pairing(self, pairing: Pairing) -> None:
        """Keep the pairing (owner-only, whole or not at all)."""
        self._ensure_folder()
        write_private_file(self.pairing_path, (json.dumps(asdict(pairing), indent=2) + "\n").encode())

    def save_program_keys(self, keys: PinnedKeys) -> None:
        """Keep the review program's pinned keys (owner-only, whole or not at all)."""
        self._ensure_folder()
        write_private_file(self.path / PROGRAM_KEY_FILE, (json.dumps(keys.document(), indent=2) + "\n").encode())

    def forget_program_keys(self) -> None:
        """Forget the review program's keys (a cloud that gave none at pairing)."""
        (self.path / PROGRAM_KEY_FILE).unlink(missing_ok=True)

    def program_keys(self) -> PinnedKeys | None:
        """Return the review program's pinned keys, or None when the cloud gave none."""
        try:
            return PinnedKeys.from_document(json.loads((self.path / PROGRAM_KEY_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise PairingError(f"{self.path / PROGRAM_KEY_FILE}: {exc}; unpair and pair again") from None

    @property
    def chain_archive_path(self) -> Path:
        """Return the folder of earlier clouds' receipts and checkpoints, each file with the keys that check it."""
        return self.path / CHAIN_ARCHIVE_FOLDER

    def forget_pairing(self) -> None:
        """Delete the pairing and the device key: the hub is no longer anyone's.

        The pinned review keys stay (public keys, used for nothing while unpaired): they are what checks the receipts
        and checkpoints the hub kept (`homewarden audit verify`), until a pairing with another cloud archives both.
        """
        for path in (self.pairing_path, self.device_key_path):
            path.unlink(missing_ok=True)
        fsync_folder(self.path)

    def object_id_key(self, create: bool = True) -> bytes | None:
        """Return the secret object ids are derived with, made on first use (None if absent and not ``create``)."""
        path = self.path / OBJECT_ID_KEY_FILE
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
            key = os.urandom(OBJECT_ID_KEY_SIZE)
            self.save_object_id_key(key)
            return key
        if len(key) != OBJECT_ID_KEY_SIZE:
            raise PairingError(f"object-id key {path} is damaged")
        return key

    def save_object_id_key(self, key: bytes) -> None:
        """Keep the object-id secret (a restore brings back the one the old hub used)."""
        if len(key) != OBJECT_ID_KEY_SIZE:
            raise ValueError(f"an object-id key has {OBJECT_ID_KEY_SIZE} bytes")
        self._ensure_folder()
        write_private_file(self.path / OBJECT_ID_KEY_FILE, key)
