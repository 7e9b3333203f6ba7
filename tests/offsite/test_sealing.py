"""What the cloud is sent: ids that reveal nothing, records only the home key opens, objects put back byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from homewarden.events.record import ClipRecord, EventRecord
from homewarden.offsite.sealing import (
    RecordError,
    event_record_id,
    open_record,
    place_vault_object,
    record_document,
    seal_record,
    vault_object_body,
    vault_object_id,
)
from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import HomePublicKey, Keyring
from homewarden.store.database import EventStore
from homewarden.store.sealed_media import SealedMediaFolder
from homewarden.store.vault import FixedRecipient, Vault

ID_KEY = bytes(range(32))


def media_in(folder: Path, private_key: PrivateKey) -> SealedMediaFolder:
    public = HomePublicKey.from_bytes(bytes(private_key.public_key))
    vault = Vault(LocalFolderBlobStore(folder / "media"), LocalFolderBlobStore(folder / "keys"), FixedRecipient(public))
    return SealedMediaFolder(folder / "media", vault)


def test_ids_are_opaque_stable_and_within_the_contract() -> None:
    name = "front_door/2024-05-01/0f7c-1.mp4"
    cloud_id = vault_object_id(ID_KEY, name)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", cloud_id)
    assert cloud_id == vault_object_id(ID_KEY, name)
    assert "front" not in cloud_id
    assert cloud_id != vault_object_id(bytes(32), name)
    assert event_record_id(ID_KEY, "0f7c") != vault_object_id(ID_KEY, "0f7c")


def test_a_record_opens_only_with_the_home_key_and_names_its_objects(tmp_path: Path) -> None:
    home = PrivateKey.generate()
    media = media_in(tmp_path / "old", home)
    clip = media.path_for("front_door", "ev1", ".mp4")
    media.write_atomically(clip, b"\x00\x00\x00\x18ftypmp42 clip bytes")
    record = EventRecord(
        "ev1", "front_door", "person", 0.9, 100.0, 110.0, True, (1, 2, 3, 4), None,
        clips=(ClipRecord(str(clip), 100.0, 110.0),), sub_label="Alice",
    )  # fmt: skip
    cloud_id = event_record_id(ID_KEY, "ev1")
    body = seal_record(record_document(record, media, ID_KEY), cloud_id, media.vault.recipient.public_key)  # type: ignore[union-attr]
    for secret in (b"front_door", b"person", b"Alice", b"ev1"):
        assert secret not in body
    opened = open_record(body, cloud_id, Keyring([home]))
    assert opened.id_key == ID_KEY
    assert [(item.role, item.cloud_id) for item in opened.objects] == [
        ("clip", vault_object_id(ID_KEY, opened.objects[0].name))
    ]
    new_media = media_in(tmp_path / "new", home)
    placed = opened.placed_in(new_media)
    assert placed.clips[0].path == str(new_media.root / (opened.objects[0].name + ".sealed"))
    assert (placed.camera, placed.sub_label, placed.start) == ("front_door", "Alice", 100.0)
    with pytest.raises(RecordError):
        open_record(body, event_record_id(ID_KEY, "another"), Keyring([home]))  # moved to another id
    with pytest.raises(RecordError):
        open_record(body, cloud_id, Keyring([PrivateKey.generate()]))  # another home


def test_a_restored_record_keeps_its_box_time_and_an_older_record_restores_without_one(tmp_path: Path) -> None:
    """Records sealed since box_time restore it into the new hub's database; older records (no such key) restore."""
    home = PrivateKey.generate()
    media = media_in(tmp_path / "old", home)
    recipient = media.vault.recipient.public_key  # type: ignore[union-attr]
    new = EventRecord("new", "front_door", "person", 0.9, 100.0, 110.0, True, (1, 2, 3, 4), None, box_time=104.5)
    old = EventRecord("old", "front_door", "cat", 0.7, 50.0, 60.0, True, (1, 2, 3, 4), None)
    older_document = record_document(old, media, ID_KEY)
    del older_document["event"]["box_time"]  # as a hub sealed it before events had a box time
    documents = {"new": record_document(new, media, ID_KEY), "old": older_document}

    new_media = media_in(tmp_path / "new", home)
    with EventStore.open(f"sqlite:///{tmp_path / 'new' / 'homewarden.db'}") as store:
        for event_id, document in documents.items():
            cloud_id = event_record_id(ID_KEY, event_id)
            opened = open_record(seal_record(document, cloud_id, recipient), cloud_id, Keyring([home]))
            store.save_event(opened.placed_in(new_media))

        assert store.get_event("new") == new
        assert store.get_event("old") == old


def test_a_vault_object_goes_back_byte_for_byte(tmp_path: Path) -> None:
    home = PrivateKey.generate()
    media = media_in(tmp_path / "old", home)
    media.write_atomically(media.path_for("cam", "ev", ".jpg"), b"\xff\xd8\xff picture" * 1000)
    name = next(iter(media.vault.list())).name
    body = vault_object_body(media.vault, name)
    (tmp_path / "download").write_bytes(body)
    new_media = media_in(tmp_path / "new", home)
    place_vault_object(new_media.vault, name, tmp_path / "download")
    assert vault_object_body(new_media.vault, name) == body
    assert new_media.vault.read(name, Keyring([home])) == b"\xff\xd8\xff picture" * 1000
