"""What the cloud is sent: opaque object ids, vault objects as stored, and event records sealed to the home key.

An object id is a keyed hash (HMAC-SHA256 under the hub's object-id secret) of what it names, so the cloud learns
neither camera, day, event nor file name, and the same object always gets the same id (uploads are idempotent).
A vault object goes as it is stored: its sealed data key, then its ciphertext. An event record is the event row as
JSON (with the vault names and cloud ids of its objects, and the object-id secret so a restore can go on using the
same ids), sealed like media: a fresh data key, AES-256-GCM chunks bound to the cloud id, the key sealed to the home's
public key and put in front.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from homewarden.events.record import ClipRecord, EventRecord
from homewarden.store.blobs import BlobNotFoundError
from homewarden.store.crypto import (
    SEALED_DATA_KEY_SIZE,
    HomePublicKey,
    Keyring,
    SealedObjectError,
    SealedObjectReader,
    encrypt_object,
    new_data_key,
    seal_data_key,
)
from homewarden.store.pending import record_from_json, record_to_json
from homewarden.store.sealed_media import SealedMediaFolder
from homewarden.store.vault import DATA_KEY_SUFFIX, SEALED_SUFFIX, ObjectNotFoundError, Vault

KEY_FILE_OBJECT_ID = "home-key-file-v1"
RECORD_FORMAT = "homewarden-event-record"
RECORD_VERSION = 1
ID_LENGTH = 43  # 256 bits in unpadded base64url; the contract allows 16 to 64 of [A-Za-z0-9_-]


class RecordError(SealedObjectError):
    """An object that is not (or no longer) a readable event record."""


def object_id(id_key: bytes, kind: str, name: str) -> str:
    """Return the opaque cloud id of ``name`` (a vault object name or an event id) of ``kind``."""
    digest = hmac.new(id_key, f"homewarden offsite v1\x00{kind}\x00{name}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")[:ID_LENGTH]


def vault_object_id(id_key: bytes, name: str) -> str:
    """Return the cloud id of a vault object (clip or snapshot)."""
    return object_id(id_key, "object", name)


def event_record_id(id_key: bytes, event_id: str) -> str:
    """Return the cloud id of an event's record."""
    return object_id(id_key, "event", event_id)


def vault_object_body(vault: Vault, name: str) -> bytes:
    """Return what the cloud keeps of a vault object: its sealed data key, then its ciphertext, as stored."""
    try:
        sealed_key = vault.data_keys.get(name + DATA_KEY_SUFFIX)
        ciphertext = vault.objects.get(name + SEALED_SUFFIX)
    except BlobNotFoundError:
        raise ObjectNotFoundError(f"no object {name} (shredded meanwhile)") from None
    return sealed_key + ciphertext


def place_vault_object(vault: Vault, name: str, body_path: Path) -> None:
    """Put a downloaded vault object back into the vault, byte for byte: ciphertext first, then its key."""
    with body_path.open("rb") as file:
        sealed_key = file.read(SEALED_DATA_KEY_SIZE)
        if len(sealed_key) != SEALED_DATA_KEY_SIZE:
            raise RecordError(f"object {name} is too short to hold a sealed data key")

        def ciphertext() -> Iterator[bytes]:
            while piece := file.read(1024 * 1024):
                yield piece

        vault.objects.put(name + SEALED_SUFFIX, ciphertext())
    # The key last: an object is visible (and can be opened) only once both halves are in place.
    vault.data_keys.put(name + DATA_KEY_SUFFIX, [sealed_key])


@dataclass(frozen=True)
class RecordedObject:
    """One of an event's objects as its record names it: the vault name, the cloud id, and what it is."""

    name: str
    cloud_id: str
    role: str  # "clip" or "snapshot"


@dataclass(frozen=True)
class OpenedRecord:
    """An event record opened by a restore: the event (paths by vault name), its objects, the object-id secret."""

    event: EventRecord
    objects: tuple[RecordedObject, ...]
    id_key: bytes

    def placed_in(self, media: SealedMediaFolder) -> EventRecord:
        """Return the event with its clip and snapshot paths pointing into ``media`` (a new hub's folder)."""
        by_name = {item.name: str(media.root / (item.name + SEALED_SUFFIX)) for item in self.objects}
        clips = tuple(replace(clip, path=by_name.get(clip.path, clip.path)) for clip in self.event.clips)
        snapshot = self.event.snapshot
        return replace(self.event, clips=clips, snapshot=by_name.get(snapshot, snapshot) if snapshot else None)


def record_document(record: EventRecord, media: SealedMediaFolder, id_key: bytes) -> dict[str, Any]:
    """Return the event as its record holds it: paths replaced by vault names, and the objects' cloud ids."""
    objects: list[dict[str, str]] = []

    def named(path: str, role: str) -> str:
        name = media.object_name(Path(path))
        if name is None:
            return path  # a plain export elsewhere (analyze --out): not the hub's, not sent
        objects.append({"name": name, "cloud_id": vault_object_id(id_key, name), "role": role})
        return name

    clips = tuple(ClipRecord(named(clip.path, "clip"), clip.start, clip.end) for clip in record.clips)
    snapshot = named(record.snapshot, "snapshot") if record.snapshot else None
    event = record_to_json(replace(record, clips=clips, snapshot=snapshot))
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "event": event,
        "objects": objects,
        "id_key": base64.b64encode(id_key).decode("ascii"),
    }


def seal_record(document: dict[str, Any], cloud_id: str, recipient: HomePublicKey) -> bytes:
    """Seal a record to the home's public key under a fresh data key; the cloud id is bound into every chunk."""
    data_key = new_data_key()
    plaintext = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return seal_data_key(data_key, recipient) + b"".join(encrypt_object(data_key, cloud_id, [plaintext]))


def open_record(body: bytes, cloud_id: str, keyring: Keyring) -> OpenedRecord:
    """Open a sealed event record; raise RecordError for anything else (a clip, say, or a damaged record)."""
    if len(body) <= SEALED_DATA_KEY_SIZE:
        raise RecordError(f"{cloud_id} is too short to be an event record")
    try:
        data_key = keyring.open_data_key(body[:SEALED_DATA_KEY_SIZE])
        sealed = body[SEALED_DATA_KEY_SIZE:]
        reader = SealedObjectReader(data_key, cloud_id, len(sealed), lambda start, end: sealed[start:end])
        plaintext = b"".join(reader.iter_chunks())
    except SealedObjectError as exc:
        raise RecordError(f"{cloud_id} is not an event record of this home: {exc}") from None
    try:
        document = json.loads(plaintext)
        if document.get("format") != RECORD_FORMAT or document.get("version") != RECORD_VERSION:
            raise RecordError(f"{cloud_id} is a record of another format")
        objects = tuple(
            RecordedObject(str(item["name"]), str(item["cloud_id"]), str(item["role"])) for item in document["objects"]
        )
        return OpenedRecord(record_from_json(document["event"]), objects, base64.b64decode(document["id_key"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(f"event record {cloud_id} is malformed: {exc}") from None
