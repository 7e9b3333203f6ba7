"""The hub's copy of the review program's false-alarm verifier: download, check, switch, roll back, delete.

At each pull of the review program (every ``RECEIPTS_SECONDS``, and right after a withdrawal) the hub asks the cloud
which model to run. A new version is downloaded, its SHA-256 compared with the offer, its signature checked with a
pinned program key, written atomically into ``verifier-models/`` of the storage folder and switched to in the
cameras' ``VerifierSlot`` without a restart. A file that fails to load is removed and the model in use stays (the
roll-back: the slot never lets go of the last good model). The versions the cloud lists to delete (they learned from
a donation that has since ended) are deleted here, and the slot stops using one of them at once. The hub keeps the
model in use and the one before it; older files go.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from homewarden.detect.verifier import VerifierLoadError, VerifierSlot
from homewarden.offsite.client import CloudClient, CloudError
from homewarden.review.program_key import PinnedKeys
from homewarden.store.durable_files import make_private_folder, write_durably

log = logging.getLogger(__name__)

MODELS_FOLDER = "verifier-models"
FILE_NAME = re.compile(r"^verifier-([0-9]{1,9})\.json$")


@dataclass(frozen=True)
class ModelInUse:
    """The model the cameras use and what it learned from, in counts (the privacy page shows this)."""

    version: int
    clips: int
    homes: int
    samples: int


class VerifierModels:
    """Keep the promoted verifier model in the storage folder and in the cameras' slot."""

    def __init__(self, folder: Path, keys: Callable[[], PinnedKeys | None], slot: VerifierSlot) -> None:
        """Keep files in ``folder``; check them with the pinned ``keys``; switch ``slot``."""
        self.folder = folder
        self.keys = keys
        self.slot = slot
        self.problem: str | None = None

    def path(self, version: int) -> Path:
        """Return where a version's file is kept."""
        return self.folder / f"verifier-{version}.json"

    def stored(self) -> list[int]:
        """Return the versions on disk, newest first."""
        if not self.folder.is_dir():
            return []
        found = (FILE_NAME.fullmatch(path.name) for path in self.folder.iterdir())
        return sorted((int(match.group(1)) for match in found if match), reverse=True)

    def in_use(self) -> ModelInUse | None:
        """Return the model the cameras use, with its counts."""
        model = self.slot.model
        if model is None:
            return None
        trained_on = model.trained_on
        return ModelInUse(
            int(model.version),
            int(trained_on.get("donations", 0)),
            int(trained_on.get("homes", 0)),
            int(trained_on.get("samples", 0)),
        )

    def load_stored(self) -> None:
        """Use the newest stored model that loads (at the hub's start)."""
        for version in self.stored():
            try:
                self.slot.load(self.path(version), self._key_for(self.path(version).read_bytes()))
                return
            except (VerifierLoadError, OSError) as exc:
                log.error("stored verifier model %s not used: %s", version, exc)

    def refresh(self, client: CloudClient) -> None:
        """Follow the cloud's offer: delete tainted versions, fetch and switch to a new promoted one."""
        try:
            offer = client.model_offer()
        except CloudError as exc:
            log.debug("verifier model offer not read: %s", exc)
            return
        for version in offer.get("delete") or []:
            self.delete(int(version))
        model = offer.get("model")
        current = self.in_use()
        if model is None or (current is not None and current.version == int(model["version"])):
            return
        self._fetch(client, model)

    def delete(self, version: int) -> None:
        """Delete a version's file; stop using it at once if it is the one in use."""
        current = self.in_use()
        if current is not None and current.version == version:
            self.slot.unload()
        path = self.path(version)
        if path.exists():
            path.unlink()
            log.info("verifier model %s deleted: it learned from a donated clip that was withdrawn or ended", version)

    def _fetch(self, client: CloudClient, model: dict[str, Any]) -> None:
        version = int(model["version"])
        try:
            data = client.model_file(version)
        except CloudError as exc:
            log.warning("verifier model %s not downloaded: %s", version, exc)
            return
        if hashlib.sha256(data).hexdigest() != str(model["sha256"]):
            self._refuse(version, "its file does not match the SHA-256 the cloud announced")
            return
        try:
            key = self._key_for(data)
        except VerifierLoadError as exc:
            self._refuse(version, str(exc))
            return
        make_private_folder(self.folder)
        path = self.path(version)
        write_durably(path, [data])
        try:
            self.slot.load(path, key)
        except VerifierLoadError as exc:
            # The model in use stays in the slot: removing the new file is the whole roll-back.
            path.unlink(missing_ok=True)
            self._refuse(version, str(exc))
            return
        self.problem = None
        self._prune(version)

    def _key_for(self, data: bytes) -> VerifyKey:
        """Return the pinned program key that signed a model file (newest first), or raise VerifierLoadError."""
        keys = self.keys()
        if keys is None:
            raise VerifierLoadError("verifier model: this hub has no pinned review program key")
        try:
            envelope = json.loads(data)
            payload = base64.b64decode(envelope["payload"], validate=True)
            signature = bytes.fromhex(envelope["signature"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise VerifierLoadError("verifier model: not a signed model file") from None
        for key in reversed(keys.keys):
            verify_key = VerifyKey(key.verify_key)
            try:
                verify_key.verify(payload, signature)
            except (BadSignatureError, ValueError):
                continue
            return verify_key
        raise VerifierLoadError("verifier model: the signature is not by a review program key this hub accepted")

    def _prune(self, version: int) -> None:
        """Keep the model in use and the newest one before it (to roll back to); delete older files."""
        older = [stored for stored in self.stored() if stored < version]
        for stale in older[1:]:
            self.path(stale).unlink(missing_ok=True)

    def _refuse(self, version: int, why: str) -> None:
        self.problem = f"verifier model {version} refused: {why}"
        log.error("%s; the model in use stays", self.problem)
