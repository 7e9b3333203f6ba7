"""The review program's hub side against the real Homewarden Cloud (`homewarden cloud serve`, PostgreSQL, rclone's
S3): the program key pinned at pairing, a donated copy sealed to it and uploaded through the outbox, a withdrawal
acknowledged by the cloud (its latency measured), signed receipts in the household's audit log, checkpoints kept,
and a rewrite of the cloud's chain (its rows edited in its own database) caught by the hub.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.conftest import Hub, csrf_of, hub_config, record_event, set_up_owner
from homewarden.cli import main
from homewarden.cloud.review.audit import link_hash
from homewarden.hub.hub import init_services
from homewarden.offsite.client import CloudClient
from homewarden.offsite.identity import OffsiteFolder
from homewarden.review.cloud_chain import CloudChainRecords, verify_cloud_chain
from homewarden.store import EventStore
from offsite.conftest import Cloud
from waiting import wait_for

# Deadlines for a stuck hub or cloud, not speed checks: redaction takes both cores for seconds, longer under load.
PREPARE_SECONDS = 600.0
CLOUD_SECONDS = 120.0


@pytest.fixture
def paired_hub(tmp_path: Path, cloud: Cloud) -> Iterator[Hub]:
    """Yield a hub with an owner, paired with the real cloud, its off-site worker running."""
    config = hub_config(tmp_path)
    store = EventStore.open(config.storage.resolved_database_url())
    hub = Hub(init_services(config, store, None), tmp_path)
    sync = hub.services.offsite
    assert sync is not None
    try:
        sync.pair(cloud.url, cloud.account().pairing_code())
        sync.start()
        yield hub
    finally:
        sync.stop()
        if hub.services.donations is not None:
            hub.services.donations.close()
        store.close()


def withdrawal_of(owner: TestClient, donation_id: str) -> str | None:
    """Return what the privacy page says of a donation's withdrawal."""
    return owner.get(f"/api/donations/{donation_id}").json()["withdrawal"]  # type: ignore[no-any-return]


def donate_and_confirm(hub: Hub, owner: TestClient) -> str:
    """Donate a recorded event's clip through the consent flow; return the donation id."""
    event = record_event(hub, "front_door", seconds=2.0)
    started = owner.post(f"/api/events/{event.id}/donation", json={}, headers=csrf_of(owner))
    assert started.status_code == 202, started.text
    donation_id = str(started.json()["id"])
    assert hub.services.donations is not None
    hub.services.donations.wait_idle(PREPARE_SECONDS)
    confirmed = owner.post(f"/api/donations/{donation_id}/confirm", headers=csrf_of(owner))
    assert confirmed.status_code == 200, confirmed.text
    return donation_id


def cloud_client(hub: Hub) -> CloudClient:
    """Return a signed client of the hub's pairing (to ask the cloud what it holds)."""
    folder = OffsiteFolder(hub.services.config.storage.folder)
    pairing = folder.pairing()
    assert pairing is not None
    return CloudClient(pairing, folder.device_key())


def test_donation_withdrawal_receipts_and_checkpoints_through_the_real_cloud(
    paired_hub: Hub, cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = paired_hub
    folder = OffsiteFolder(hub.services.config.storage.folder)
    keys = folder.program_keys()
    assert keys is not None
    assert keys.problem is None
    owner = set_up_owner(hub)
    client = cloud_client(hub)
    try:
        # The pinned key is the cloud's current one, and refreshing it changes nothing.
        assert client.program_key()["program"]["key_id"] == keys.current.key_id

        donation_id = donate_and_confirm(hub, owner)
        wait_for(
            lambda: owner.get(f"/api/donations/{donation_id}").json()["sent_at"] is not None,
            CLOUD_SECONDS,
            "the donated copy to reach the cloud",
        )
        shown = owner.get(f"/api/donations/{donation_id}").json()
        assert shown["status"] == "donated"
        assert client._request("GET", f"/donations/{donation_id}", "read").json()["state"] in (
            "screening",
            "queued",
        )

        clicked = time.monotonic()
        withdrawn = owner.delete(f"/api/donations/{donation_id}", headers=csrf_of(owner))
        assert withdrawn.status_code == 200, withdrawn.text
        assert "waiting for the cloud" in withdrawn.json()["detail"]
        wait_for(
            lambda: "confirmed by Homewarden Cloud" in str(withdrawal_of(owner, donation_id)),
            CLOUD_SECONDS,
            "the cloud to acknowledge the withdrawal",
        )
        latency = time.monotonic() - clicked
        with capsys.disabled():
            print(f"\nwithdrawal: click to the cloud's acknowledgement in {latency:.2f} s")
        assert client._request("GET", f"/donations/{donation_id}", "read").json()["state"] == "withdrawn"

        # The receipts arrive in the household's own audit log, checked; a checkpoint is kept with its links.
        log = lambda: owner.get("/api/privacy/access-log").json()  # noqa: E731

        def actions() -> set[str]:
            return {entry["action"] for entry in log() if entry["object"] == f"donation:{donation_id}"}

        # The withdrawal's receipt comes with the cloud's answer; the earlier ones with the pull that follows it.
        wait_for(
            lambda: {"review.received", "review.withdrawn"} <= actions(),
            CLOUD_SECONDS,
            "the receipts of the upload and the withdrawal in the access log",
        )
        records = CloudChainRecords(hub.services.events.engine)
        wait_for(lambda: records.checkpoints() != [], CLOUD_SECONDS, "a checkpoint of the cloud's chain")
        report = verify_cloud_chain(records, folder.program_keys())
        assert report.problems == []
        assert report.receipts >= 2
    finally:
        client.close()


def cloud_database_url(cloud: Cloud) -> str:
    """Return the database of the running cloud, from its config."""
    return str(yaml.safe_load(cloud.config.read_text())["database_url"])


def test_a_rewritten_cloud_chain_is_caught_and_named(paired_hub: Hub, cloud: Cloud) -> None:
    hub = paired_hub
    owner = set_up_owner(hub)
    sync = hub.services.offsite
    assert sync is not None
    assert sync.review is not None
    records = CloudChainRecords(hub.services.events.engine)
    first = donate_and_confirm(hub, owner)
    wait_for(lambda: owner.get(f"/api/donations/{first}").json()["sent_at"] is not None, CLOUD_SECONDS, "upload")
    sync.review.pull_now.set()
    sync.wake()
    wait_for(lambda: records.last_checkpoint()[0] >= 1, CLOUD_SECONDS, "a first checkpoint")

    # The cloud's operator rewrites the first entry (a receipt the hub holds) and every hash after it, so the
    # chain is consistent again in the cloud's own database.
    engine = create_engine(cloud_database_url(cloud))
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT seq, content_hash FROM review_audit ORDER BY seq")).all()
        prev = "0" * 64
        for seq, content_hash in rows:
            changed = ("f" * 64) if seq == rows[0][0] else content_hash
            entry = link_hash(prev, changed)
            connection.execute(
                text("UPDATE review_audit SET content_hash = :c, prev_hash = :p, entry_hash = :e WHERE seq = :s"),
                {"c": changed, "p": prev, "e": entry, "s": seq},
            )
            prev = entry
    engine.dispose()

    # New history on top (a withdrawal), and a fresh checkpoint the cloud signs over its rewritten chain.
    owner.delete(f"/api/donations/{first}", headers=csrf_of(owner))
    wait_for(
        lambda: sync.review is not None and sync.review.problem() is not None,
        CLOUD_SECONDS,
        "the hub to refuse the cloud's new checkpoint",
    )
    assert "the cloud's review log was rewritten between seq" in str(sync.review.problem())
    report = verify_cloud_chain(records, OffsiteFolder(hub.services.config.storage.folder).program_keys())
    assert report.problems == []  # what the hub kept is intact: it never took the rewritten checkpoint
    assert sync.report().review_problem is not None


def test_a_key_rotation_the_old_key_signed_is_followed_and_new_copies_are_sealed_to_the_new_key(
    paired_hub: Hub, cloud: Cloud
) -> None:
    hub = paired_hub
    owner = set_up_owner(hub)
    folder = OffsiteFolder(hub.services.config.storage.folder)
    pinned = folder.program_keys()
    assert pinned is not None
    assert main(["cloud", "program-key", "rotate", "--config", str(cloud.config)]) == 0
    sync = hub.services.offsite
    assert sync is not None
    assert sync.review is not None
    sync.review.pull_now.set()
    sync.wake()

    def followed() -> bool:
        keys = folder.program_keys()
        return keys is not None and len(keys.keys) == 2

    wait_for(followed, CLOUD_SECONDS, "the hub to follow the rotation")
    keys = folder.program_keys()
    assert keys is not None
    assert keys.problem is None
    assert keys.keys[0] == pinned.current
    donation_id = donate_and_confirm(hub, owner)
    wait_for(lambda: owner.get(f"/api/donations/{donation_id}").json()["sent_at"] is not None, CLOUD_SECONDS, "upload")
    sent = sync.outbox.sent(f"donation:{donation_id}")
    assert sent is not None
    assert sent.key_id == keys.current.key_id
