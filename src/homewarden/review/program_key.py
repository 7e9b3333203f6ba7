"""The review program's key pair: donated copies are sealed to it, never to a household's key.

The hub keeps the private key in a file readable by its own user only (beside the home key), because reviewers watch
while no owner or admin is signed in: the hub must be able to open a donated copy unattended to burn the reviewer's
watermark into it. In a deployment where the review program runs elsewhere, this file lives there and the hub keeps
only the public key. docs/review.md says what this protects.
"""

from __future__ import annotations

import threading
from pathlib import Path

from nacl.public import PrivateKey

from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import Keyring
from homewarden.store.durable_files import write_durably
from homewarden.store.vault import FixedRecipient, Vault

REVIEW_FOLDER_NAME = "review"
KEY_FILE_NAME = "program-key.bin"
_MAGIC = b"HWRK1"


class ProgramKeyError(Exception):
    """The program key file is damaged."""


class ReviewProgramStorage:
    """The program's key and the vault of donated copies (``<storage>/review/``)."""

    def __init__(self, storage_folder: Path) -> None:
        """Use the review folder inside the hub's storage folder (nothing is created until first use)."""
        self.folder = storage_folder.resolve() / REVIEW_FOLDER_NAME
        self.key_path = self.folder / KEY_FILE_NAME
        self._lock = threading.Lock()
        self._keyring: Keyring | None = None
        self._vault: Vault | None = None

    def keyring(self) -> Keyring:
        """Return the program's keys, creating the key pair on first use."""
        with self._lock:
            if self._keyring is None:
                self._keyring = Keyring([self._load_or_create()])
            return self._keyring

    def vault(self) -> Vault:
        """Return the vault of donated copies, sealing to the program's public key."""
        keyring = self.keyring()
        with self._lock:
            if self._vault is None:
                self._vault = Vault(
                    LocalFolderBlobStore(self.folder / "media"),
                    LocalFolderBlobStore(self.folder / "data-keys", overwrite_on_delete=True),
                    FixedRecipient(keyring.public_key()),
                )
            return self._vault

    def _load_or_create(self) -> PrivateKey:
        try:
            data = self.key_path.read_bytes()
        except FileNotFoundError:
            key = PrivateKey.generate()
            write_durably(self.key_path, [_MAGIC + bytes(key)])
            return key
        if not data.startswith(_MAGIC) or len(data) != len(_MAGIC) + PrivateKey.SIZE:
            raise ProgramKeyError(f"{self.key_path} is not a review program key")
        return PrivateKey(data[len(_MAGIC) :])
