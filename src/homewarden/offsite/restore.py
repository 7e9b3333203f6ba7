"""Restore: a fresh hub paired with the cloud takes back the home key file, every event and every object.

The cloud cannot tell an event record from a clip, and neither can the hub before it holds the home key: so the key
file (the one pinned object) comes first and is unlocked with the passphrase or the recovery key; then every object
is downloaded (its SHA-256 checked against the cloud's) and tried as an event record, which only opens under its own
cloud id. Each record names its objects; those are put back into the vault byte for byte (sealed key, then
ciphertext), checked by decrypting them, and the event is saved with paths into the new hub's folder. The restored
objects enter the outbox's ledger as sent, so the new hub neither sends them again nor loses track of them for
deletion, and it derives the same cloud ids as the old hub did.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from homewarden.offsite.client import CloudClient, CloudObject
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.outbox import Outbox, SentObject
from homewarden.offsite.pairing import pair_hub
from homewarden.offsite.sealing import KEY_FILE_OBJECT_ID, OpenedRecord, RecordError, open_record, place_vault_object
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, Keyring, SealedObjectError, sealed_data_key_id
from homewarden.store.database import EventStore
from homewarden.store.keys import HomeKeyFile, write_private_file
from homewarden.store.sealed_media import open_hub_storage
from homewarden.store.vault import DATA_KEY_SUFFIX

log = logging.getLogger(__name__)

# Event records are a few kilobytes; anything far larger is footage and is not tried as a record.
MAX_RECORD_BYTES = 1024 * 1024
STAGING_FOLDER = "restore-staging"


class RestoreError(Exception):
    """A restore that cannot be done; nothing of it was kept."""


@dataclass
class RestoreReport:
    """What a restore brought back, and what the cloud no longer had."""

    events: int = 0
    objects: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    unreferenced: int = 0


def restore_hub(
    storage_folder: Path,
    events: EventStore,
    cloud_url: str,
    code: str,
    name: str,
    unlock: Callable[[HomeKeyFile], Keyring],
    progress: Callable[[str], None] = lambda _line: None,
) -> RestoreReport:
    """Pair a fresh hub with the cloud and bring back the home key, every event and every object."""
    storage = open_hub_storage(storage_folder)
    if storage.key_file.exists():
        raise RestoreError(f"{storage.key_file.path} exists: restore only onto a fresh hub (a new storage folder)")
    if events.count_events():
        raise RestoreError("this hub's database holds events already: restore only onto a fresh hub")
    folder = OffsiteFolder(storage_folder)
    pairing = pair_hub(folder, cloud_url, code, name)
    progress(f"paired with {pairing.cloud_url} as hub {pairing.hub_id}")
    client = CloudClient(pairing, folder.device_key())
    staging = folder.path / STAGING_FOLDER
    try:
        listing = list(client.all_objects())
        key_file_object = next((item for item in listing if item.id == KEY_FILE_OBJECT_ID), None)
        if key_file_object is None:
            raise RestoreError("the cloud holds no home key file for this home: there is nothing it could open")
        keyring = _take_key_file(client, key_file_object, storage.key_file, unlock)
        progress(f"home key unlocked; {len(listing) - 1} object(s) to bring back")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True, mode=0o700)
        report = RestoreReport()
        records, staged = _download_all(client, listing, staging, keyring)
        if records:
            folder.save_object_id_key(records[0].opened.id_key)
        ledger: list[SentObject] = [_sent(key_file_object, "key_file", "", None, None)]
        for found in records:
            ledger += _put_back(found, staged, storage_folder, events, keyring, report)
            progress(f"event {found.opened.event.id} ({found.opened.event.camera}) restored")
        report.unreferenced = len(staged)
        outbox = Outbox(folder.outbox_path)
        try:
            outbox.record_sent(ledger)
        finally:
            outbox.close()
        return report
    finally:
        client.close()
        shutil.rmtree(staging, ignore_errors=True)


def _take_key_file(
    client: CloudClient, cloud_object: CloudObject, key_file: HomeKeyFile, unlock: Callable[[HomeKeyFile], Keyring]
) -> Keyring:
    """Download the key file into place and unlock it; without the right secret, it is removed again."""
    body = _download(client, cloud_object, None)
    write_private_file(key_file.path, body)
    try:
        return unlock(key_file)
    except BaseException:
        key_file.path.unlink(missing_ok=True)
        raise


class _CheckedSink:
    """Where a download goes (a file, or memory), hashing what passes."""

    def __init__(self, file: IO[bytes] | None) -> None:
        self.file = file
        self.digest = hashlib.sha256()
        self.pieces: list[bytes] = []

    def write(self, piece: bytes) -> int:
        self.digest.update(piece)
        if self.file is None:
            self.pieces.append(piece)
        else:
            self.file.write(piece)
        return len(piece)


def _download(client: CloudClient, cloud_object: CloudObject, path: Path | None) -> bytes:
    """Download an object (into ``path`` when given), checking its SHA-256 against the listing; return it if kept."""
    if path is None:
        sink = _CheckedSink(None)
        client.download(cloud_object.id, sink)  # type: ignore[arg-type]
    else:
        with path.open("wb") as file:
            sink = _CheckedSink(file)
            client.download(cloud_object.id, sink)  # type: ignore[arg-type]
    if sink.digest.hexdigest() != cloud_object.sha256:
        raise RestoreError(f"object {cloud_object.id} arrived damaged (its SHA-256 differs from the cloud's)")
    return b"".join(sink.pieces)


@dataclass(frozen=True)
class _Record:
    """An event record found among the downloads, and the home key its data key is sealed to."""

    cloud_object: CloudObject
    opened: OpenedRecord
    key_id: str


def _download_all(
    client: CloudClient, listing: list[CloudObject], staging: Path, keyring: Keyring
) -> tuple[list[_Record], dict[str, tuple[CloudObject, Path]]]:
    records: list[_Record] = []
    staged: dict[str, tuple[CloudObject, Path]] = {}
    for cloud_object in listing:
        if cloud_object.id == KEY_FILE_OBJECT_ID:
            continue
        path = staging / cloud_object.id
        _download(client, cloud_object, path)
        if cloud_object.size <= MAX_RECORD_BYTES:
            body = path.read_bytes()
            try:
                opened = open_record(body, cloud_object.id, keyring)
            except RecordError:
                pass  # footage (a snapshot, a short clip), or not this home's
            else:
                records.append(_Record(cloud_object, opened, sealed_data_key_id(body[:SEALED_DATA_KEY_SIZE])))
                path.unlink()
                continue
        staged[cloud_object.id] = (cloud_object, path)
    return records, staged


def _put_back(
    found: _Record,
    staged: dict[str, tuple[CloudObject, Path]],
    storage_folder: Path,
    events: EventStore,
    keyring: Keyring,
    report: RestoreReport,
) -> list[SentObject]:
    storage = open_hub_storage(storage_folder)
    event = found.opened.event
    sent = [_sent(found.cloud_object, "record", event.id, event.id, found.key_id)]
    for item in found.opened.objects:
        staged_object = staged.pop(item.cloud_id, None)
        if staged_object is None:
            report.missing.append(item.name)  # the cloud's retention removed it, or it never arrived
            continue
        cloud_object, path = staged_object
        place_vault_object(storage.vault, item.name, path)
        path.unlink()
        try:
            storage.vault.read(item.name, keyring)  # every byte authenticated under its own name
        except SealedObjectError as exc:
            storage.vault.shred(item.name)
            report.unreadable.append(f"{item.name}: {exc}")
            continue
        report.objects += 1
        report.bytes += cloud_object.size
        key_id = sealed_data_key_id(storage.vault.data_keys.get(item.name + DATA_KEY_SUFFIX))
        sent.append(_sent(cloud_object, "object", item.name, event.id, key_id))
    events.save_event(found.opened.placed_in(storage.media))
    report.events += 1
    return sent


def _sent(cloud_object: CloudObject, kind: str, subject: str, event_id: str | None, key_id: str | None) -> SentObject:
    return SentObject(
        cloud_object.id, kind, subject, event_id, cloud_object.sha256, cloud_object.size, key_id, time.time()
    )
