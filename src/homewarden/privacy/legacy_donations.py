"""Move donated copies an older hub kept for its own review program to Homewarden Cloud, then destroy that program.

Before the review program moved to the cloud, a hub kept the program's private key (``<storage>/review/
program-key.bin``) and a vault of donated copies sealed to it (``<storage>/review/``). At start-up each copy is opened
with that key one last time: a donated copy is re-sealed to the cloud's pinned program key and queued for upload if
the hub is paired (withdrawn, with a notice saying why, if not); a copy the owner had not yet confirmed is re-sealed
to the home key. Then every copy's sealed data key is overwritten and deleted, and so is the old key file.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from homewarden.privacy.audit import HUB
from homewarden.privacy.donations import Donations
from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import Keyring, SealedObjectError
from homewarden.store.review_models import Donation, PrivacyNotice
from homewarden.store.vault import Vault

log = logging.getLogger(__name__)

LEGACY_FOLDER = "review"
LEGACY_KEY_FILE = "program-key.bin"
LEGACY_MAGIC = b"HWRK1"
NOT_PAIRED_NOTICE = (
    "The review program now runs in Homewarden Cloud, and this hub is not paired with it, so a clip you had "
    "donated was withdrawn and its copy destroyed. Nobody will see it. Pair the hub and donate again if you wish."
)


@dataclass(frozen=True)
class LegacyMove:
    """What became of the older hub's donated copies."""

    sent: int
    kept_for_the_owner: int
    withdrawn: int


def legacy_program_folder(storage_folder: Path) -> Path:
    """Return where an older hub kept its review program's key and copies."""
    return storage_folder.resolve() / LEGACY_FOLDER


def move_legacy_copies(storage_folder: Path, donations: Donations) -> LegacyMove | None:
    """Move an older hub's donated copies to the cloud (or withdraw them), then destroy its key; None if none."""
    folder = legacy_program_folder(storage_folder)
    key_path = folder / LEGACY_KEY_FILE
    if not key_path.exists():
        return None
    data = key_path.read_bytes()
    if not data.startswith(LEGACY_MAGIC) or len(data) != len(LEGACY_MAGIC) + PrivateKey.SIZE:
        log.error("%s is not a review program key; its copies cannot be opened and are destroyed", key_path)
        keyring = None
    else:
        keyring = Keyring([PrivateKey(data[len(LEGACY_MAGIC) :])])
    old = Vault(
        LocalFolderBlobStore(folder / "media"),
        LocalFolderBlobStore(folder / "data-keys", overwrite_on_delete=True),
        None,
    )
    courier = donations.courier
    why_not = "not paired" if courier is None else courier.unavailable()
    sent = kept = withdrawn = 0
    with donations.session("move donated copies to the cloud") as session:
        rows = session.scalars(select(Donation).where(Donation.object_name.is_not(None))).all()
        for row in rows:
            name = row.object_name or ""
            try:
                copy = old.read(name, keyring) if keyring is not None and old.exists(name) else None
            except SealedObjectError as exc:
                log.error("donated copy %s could not be opened (%s); it is withdrawn", row.id, exc)
                copy = None
            if copy is not None and row.status == "ready":
                donations.hub_storage.vault.put(name, copy)  # sealed to the home key: the owner may still watch it
                kept += 1
                continue
            if copy is not None and row.status == "donated" and courier is not None and why_not is None:
                courier.send(donations.record_of(row), copy)
                row.object_name = None
                sent += 1
                continue
            _withdraw(session, row, why_not)
            withdrawn += 1
    for stored in list(old.list()):
        old.shred(stored.name)
    _shred_key_file(key_path)
    shutil.rmtree(folder, ignore_errors=True)
    if sent or kept or withdrawn:
        donations.audit.record(
            HUB,
            "review_program_moved",
            "review-program",
            home_id=None,
            detail=f"{sent} donated copy(ies) re-sealed for Homewarden Cloud, {withdrawn} withdrawn, "
            f"{kept} awaiting the owner; the hub's program key was destroyed",
        )
    log.info(
        "review program moved to the cloud: %d copy(ies) queued, %d withdrawn, %d kept for the owner; key destroyed",
        sent,
        withdrawn,
        kept,
    )
    return LegacyMove(sent, kept, withdrawn)


def _withdraw(session: Session, row: Donation, why_not: str | None) -> None:
    was_donated = row.status == "donated"
    if row.status in ("preparing", "ready", "donated"):
        row.status = "withdrawn"
        row.reason = "the review program moved to Homewarden Cloud" + (f" ({why_not})" if why_not else "")
    row.object_name = None
    row.withdrawal_confirmed_at = datetime.now(UTC)  # the only copy is destroyed below, here on the hub
    if was_donated:
        session.add(
            PrivacyNotice(
                home_id=row.home_id, at=datetime.now(UTC), kind="withdrawn", text=NOT_PAIRED_NOTICE, donation_id=row.id
            )
        )


def _shred_key_file(path: Path) -> None:
    # As the vault shreds sealed data keys: zeros over the bytes, then unlink.
    LocalFolderBlobStore(path.parent, overwrite_on_delete=True).delete(path.name)
