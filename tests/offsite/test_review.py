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

from api.conftest import Hub, csrf_of, record_event, set_up_owner
from cloud.review.conftest import new_donation_id
from cloud_process import S3Server, start_cloud_serve, write_cloud_config
from homewarden.cli import main
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.review.audit import link_hash, record
from homewarden.cloud.services import CloudServices
from homewarden.offsite.client import CloudClient
from homewarden.offsite.identity import OffsiteFolder
from homewarden.review.cloud_chain import CloudChainRecords, verify_archived_chain, verify_cloud_chain
from offsite.conftest import Cloud, running_paired_hub
from services import fresh_postgres_database
from waiting import wait_for

# Deadlines for a stuck hub or cloud, not speed checks: redaction takes both cores for seconds, longer under load.
PREPARE_SECONDS = 600.0
CLOUD_SECONDS = 120.0


@pytest.fixture
def paired_hub(tmp_path: Path, cloud: Cloud) -> Iterator[Hub]:
    """Yield a hub with an owner, paired with the real cloud, its off-site worker running."""
    with running_paired_hub(tmp_path, cloud) as hub:
        yield hub


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


def test_unpairing_delivers_waiting_withdrawals_first_and_refuses_while_the_cloud_is_away(
    paired_hub: Hub, cloud: Cloud
) -> None:
    hub = paired_hub
    owner = set_up_owner(hub)
    first, second = donate_and_confirm(hub, owner), donate_and_confirm(hub, owner)
    wait_for(
        lambda: all(owner.get(f"/api/donations/{d}").json()["sent_at"] for d in (first, second)),
        CLOUD_SECONDS,
        "both donated copies to reach the cloud",
    )
    # The off-site worker stops, so the withdrawals wait in the outbox as they would behind a slow link.
    sync = hub.services.offsite
    assert sync is not None
    sync.stop()
    assert owner.delete(f"/api/donations/{first}", headers=csrf_of(owner)).status_code == 200
    cloud.stop()
    assert owner.delete(f"/api/donations/{second}", headers=csrf_of(owner)).status_code == 200

    refused = owner.delete("/api/offsite/pairing", headers=csrf_of(owner))

    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "2 withdrawals of donated clips" in detail
    assert first in detail
    assert second in detail
    assert "unpair anyway" in detail
    assert owner.get("/api/offsite").json()["paired"] is True
    assert withdrawal_of(owner, first) == "withdrawal waiting for the cloud"

    cloud.restart()
    unpaired = owner.delete("/api/offsite/pairing", headers=csrf_of(owner))

    assert unpaired.status_code == 200, unpaired.text
    assert unpaired.json()["detail"] == "unpaired"
    for donation_id in (first, second):
        assert "confirmed by Homewarden Cloud" in str(withdrawal_of(owner, donation_id))
    states = dict(cloud_rows(cloud, "SELECT donation_id, state FROM review_donations"))
    assert states == {first: "withdrawn", second: "withdrawn"}


def test_a_forced_unpairing_leaves_the_withdrawal_shown_as_not_confirmed(paired_hub: Hub, cloud: Cloud) -> None:
    hub = paired_hub
    owner = set_up_owner(hub)
    donation_id = donate_and_confirm(hub, owner)
    wait_for(
        lambda: owner.get(f"/api/donations/{donation_id}").json()["sent_at"] is not None,
        CLOUD_SECONDS,
        "the donated copy to reach the cloud",
    )
    cloud.stop()
    assert owner.delete(f"/api/donations/{donation_id}", headers=csrf_of(owner)).status_code == 200
    assert owner.delete("/api/offsite/pairing", headers=csrf_of(owner)).status_code == 409

    forced = owner.delete("/api/offsite/pairing?force=true", headers=csrf_of(owner))

    assert forced.status_code == 200, forced.text
    assert "the cloud was not told" in forced.json()["detail"]
    assert owner.get("/api/offsite").json()["paired"] is False
    assert withdrawal_of(owner, donation_id) == (
        "withdrawal not confirmed by the cloud: the hub was unpaired before the cloud answered"
    )
    # The cloud still holds the copy: that is what the owner was told before forcing.
    cloud.restart()
    [(state,)] = cloud_rows(cloud, f"SELECT state FROM review_donations WHERE donation_id = '{donation_id}'")
    assert state in ("screening", "queued")


def cloud_rows(cloud: Cloud, query: str) -> list[tuple[str, ...]]:
    """Return rows of the cloud's database (what its operator could query)."""
    engine = create_engine(cloud_database_url(cloud))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def append_entry(cloud: Cloud, home_id: str) -> None:
    """Append an entry of ``home_id`` to the cloud's chain with the cloud's own code (what its intake writes when a
    copy arrives; the copy itself is not what this test is about, and preparing one takes minutes)."""
    services = CloudServices.build(load_cloud_config(cloud.config), migrate=False)
    try:
        with services.database.session() as session:
            record(
                session, home_id=home_id, donation_id=new_donation_id(), action="received", actor="cloud", details={}
            )
    finally:
        services.close()


def pull_now(hub: Hub) -> None:
    """Have the hub's off-site worker pull receipts and the checkpoint at once."""
    sync = hub.services.offsite
    assert sync is not None
    assert sync.review is not None
    sync.review.pull_now.set()
    sync.wake()


def test_pairing_another_cloud_archives_the_old_chain_and_starts_the_new_one(
    paired_hub: Hub, cloud: Cloud, tmp_path: Path, s3_server: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = paired_hub
    folder = OffsiteFolder(hub.services.config.storage.folder)
    records = CloudChainRecords(hub.services.events.engine)
    old_keys, old_pairing = folder.program_keys(), folder.pairing()
    assert old_keys is not None
    assert old_pairing is not None
    for _ in range(2):
        append_entry(cloud, old_pairing.home_id)
    pull_now(hub)
    wait_for(lambda: len(records.receipts()) == 2 and records.checkpoints(), CLOUD_SECONDS, "the old cloud's receipts")

    with fresh_postgres_database() as database_url:
        config = write_cloud_config(tmp_path / "other-cloud", database_url, s3=s3_server, bucket=s3_server.new_bucket())
        CloudDatabase.open(database_url, migrate=True).close()
        other = Cloud(config, "", s3_server, start_cloud_serve(config))
        try:
            owner = set_up_owner(hub)
            paired = owner.post(
                "/api/offsite/pairing",
                json={"cloud_url": other.url, "code": other.account().pairing_code()},
                headers=csrf_of(owner),
            )
            assert paired.status_code == 200, paired.text
            new_keys, new_pairing = folder.program_keys(), folder.pairing()
            assert new_keys is not None
            assert new_pairing is not None

            # The new cloud's key is pinned alone; the old chain left the tables for an archive with its keys.
            assert [key.key_id for key in new_keys.keys] != [key.key_id for key in old_keys.keys]
            assert len(new_keys.keys) == 1
            assert records.receipts() == []
            assert records.checkpoints() == []
            [archive] = folder.chain_archive_path.glob("*.json")
            assert verify_archived_chain(archive).receipts == 2
            assert verify_archived_chain(archive).problems == []

            # The new cloud's chain starts at seq 1 again: its receipt is kept (not taken for the old seq 1), and
            # its checkpoint extends nothing of the old chain.
            append_entry(other, new_pairing.home_id)
            pull_now(hub)
            wait_for(lambda: len(records.receipts()) == 1, CLOUD_SECONDS, "the new cloud's receipt")
            wait_for(lambda: records.checkpoints() != [], CLOUD_SECONDS, "the new cloud's checkpoint")
            assert records.receipts()[0]["content"]["seq"] == 1
            assert hub.services.offsite is not None
            assert hub.services.offsite.review is not None
            assert hub.services.offsite.review.problem() is None
            assert verify_cloud_chain(records, new_keys).problems == []
            # `homewarden audit verify` checks both: each chain with its own keys.
            config_path = tmp_path / "hub.yaml"
            config_path.write_text(yaml.safe_dump(hub.services.config.model_dump(mode="json", exclude_none=True)))
            assert main(["audit", "verify", "--config", str(config_path)]) == 0
            assert "an earlier cloud's review log checks out" in capsys.readouterr().out
        finally:
            other.client.close()
            other.process.stop()
