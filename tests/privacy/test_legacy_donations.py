"""An older hub's own review program moves to the cloud at start-up: copies re-sealed or withdrawn, its key destroyed.

The older hub's storage is laid out exactly as its `review/program_key.py` wrote it (the ``HWRK1`` key file beside a
vault of copies sealed to that key, under ``<storage>/review/``), with donation rows as its database held them; the
hub is built as `serve` builds it (init_services), on SQLite.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.conftest import Hub, hub_config, set_up_owner
from api.test_privacy import pair_by_files
from homewarden.hub.hub import init_services
from homewarden.offsite.outbox import donation_cloud_id
from homewarden.privacy.legacy_donations import LegacyMove, move_legacy_copies
from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, HomePublicKey, Keyring, SealedObjectReader
from homewarden.store.database import EventStore
from homewarden.store.review_models import Donation, PrivacyNotice
from homewarden.store.vault import FixedRecipient, Vault
from video.synthetic import write_video


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """Yield a hub with an owner (and so a home key), built as serve builds it."""
    config = hub_config(tmp_path)
    store = EventStore.open(config.storage.resolved_database_url())
    built = Hub(init_services(config, store, None), tmp_path)
    set_up_owner(built)
    yield built
    assert built.services.donations is not None
    built.services.donations.close()
    store.close()


def older_hubs_program(hub: Hub, tmp_path: Path) -> dict[str, bytes]:
    """Lay out what an older hub kept: its program key, copies sealed to it, a donated and a prepared donation."""
    folder = hub.services.config.storage.folder.resolve() / "review"
    key = PrivateKey.generate()
    folder.mkdir(parents=True)
    (folder / "program-key.bin").write_bytes(b"HWRK1" + bytes(key))
    vault = Vault(
        LocalFolderBlobStore(folder / "media"),
        LocalFolderBlobStore(folder / "data-keys", overwrite_on_delete=True),
        FixedRecipient(HomePublicKey.from_bytes(bytes(key.public_key))),
    )
    copies = {}
    now = datetime.now(UTC)
    with Session(hub.services.events.engine) as session, session.begin():
        for index, status in enumerate(("donated", "ready")):
            donation_id = f"{status}-donation-{index:08d}"
            clip = tmp_path / f"{donation_id}.mp4"
            write_video(clip, seconds=1.0, fps=10, faststart=True)
            copies[donation_id] = clip.read_bytes()
            vault.put(f"donations/{donation_id}.mp4", copies[donation_id])
            session.add(
                Donation(
                    id=donation_id, home_id=hub.services.hub_home_id, event_id=f"event-{index}", camera="front_door",
                    label="person", status=status, mask_people=False, pseudonym=f"clip-{index:04d}",
                    object_name=f"donations/{donation_id}.mp4", duration=1.0, width=64, height=48,
                    retention_days=90, created_at=now,
                    donated_at=now if status == "donated" else None,
                    expires_at=now + timedelta(days=90) if status == "donated" else None,
                )
            )  # fmt: skip
    return copies


def rows(hub: Hub) -> dict[str, Donation]:
    """Return the donations by id."""
    with Session(hub.services.events.engine) as session:
        return {row.id: row for row in session.scalars(select(Donation))}


def test_a_paired_hub_sends_donated_copies_resealed_and_keeps_prepared_ones_for_the_owner(
    hub: Hub, tmp_path: Path
) -> None:
    program_key = SigningKey.generate()
    pair_by_files(hub, program_key)
    copies = older_hubs_program(hub, tmp_path)
    donations = hub.services.donations
    assert donations is not None

    assert move_legacy_copies(hub.services.config.storage.folder, donations) == LegacyMove(1, 1, 0)

    storage = hub.services.config.storage.folder.resolve()
    assert not (storage / "review").exists()
    by_id = rows(hub)
    donated, ready = "donated-donation-00000000", "ready-donation-00000001"
    assert (by_id[donated].status, by_id[donated].object_name) == ("donated", None)
    # The donated copy waits in the outbox sealed to the cloud's key, bound to its donation id.
    sync = hub.services.offsite
    assert sync is not None
    item = next(item for item in sync.outbox.items() if item.cloud_id == donation_cloud_id(donated))
    assert item.body is not None
    data_key = Keyring([program_key.to_curve25519_private_key()]).open_data_key(item.body[:SEALED_DATA_KEY_SIZE])
    sealed = item.body[SEALED_DATA_KEY_SIZE:]
    reader = SealedObjectReader(data_key, donated, len(sealed), lambda start, end: sealed[start:end])
    assert b"".join(reader.iter_chunks()) == copies[donated]
    # The prepared copy is the owner's to watch, sealed to the home key now.
    keyring = hub.services.keys.keyring
    assert keyring is not None
    preview = hub.services.storage.vault.read(f"donations/{ready}.mp4", keyring)
    assert preview == copies[ready]
    with av.open(io.BytesIO(preview)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 10
    assert by_id[ready].status == "ready"
    # Nothing of the old program is left to open, and a second start has nothing to do.
    assert move_legacy_copies(hub.services.config.storage.folder, donations) is None


def test_an_unpaired_hub_withdraws_donated_copies_and_tells_the_owner_why(hub: Hub, tmp_path: Path) -> None:
    older_hubs_program(hub, tmp_path)
    donations = hub.services.donations
    assert donations is not None

    assert move_legacy_copies(hub.services.config.storage.folder, donations) == LegacyMove(0, 1, 1)

    assert not (hub.services.config.storage.folder.resolve() / "review").exists()
    donated = rows(hub)["donated-donation-00000000"]
    assert donated.status == "withdrawn"
    assert donated.object_name is None
    assert donated.withdrawal_confirmed_at is not None
    assert "Homewarden Cloud" in (donated.reason or "")
    with Session(hub.services.events.engine) as session:
        notices = session.scalars(select(PrivacyNotice)).all()
    assert [notice.donation_id for notice in notices] == ["donated-donation-00000000"]
    assert "not paired" in notices[0].text
    sync = hub.services.offsite
    assert sync is not None
    assert sync.outbox.items() == []
