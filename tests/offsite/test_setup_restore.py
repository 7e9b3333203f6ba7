"""Setting up a new hub by restore from its setup page: the API over HTTP, against the real Homewarden Cloud."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.conftest import hub_config
from conftest import TEST_PASSPHRASE
from homewarden.api.app import create_app
from homewarden.hub.hub import init_services
from homewarden.hub.services import HubServices
from homewarden.store.database import EventStore
from homewarden.store.keys import HomeKeyFile, WrongPassphraseError
from homewarden.store.sealed_media import open_hub_storage
from offsite.conftest import TEST_ARGON2, Cloud, HubUnderTest, fake_mp4, open_hub
from waiting import wait_for

NEW_PASSWORD = "the new owner's own password"


@dataclass
class NewHub:
    """A hub that waits for first-run setup, and a browser-like client of its API."""

    services: HubServices
    client: TestClient

    def restore(self, cloud: Cloud, code: str, password: str, recovery_key: str | None = None) -> dict[str, Any]:
        """Start a restore from the setup page's form and poll its progress until it ends."""
        started = self.client.post(
            "/api/setup/restore",
            json={
                "token": self.services.setup.token,
                "cloud_url": cloud.url,
                "pairing_code": code,
                "username": "olivia",
                "password": password,
                "recovery_key": recovery_key,
            },
        )
        assert started.status_code == 202, started.text
        restore_id = started.json()["restore_id"]
        progress: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            progress = self.client.get(f"/api/setup/restore/{restore_id}").json()
            if progress["state"] != "running":
                break
            time.sleep(0.2)
        return progress


@pytest.fixture
def new_hub(tmp_path: Path) -> Iterator[NewHub]:
    """Yield a fresh hub with no owner and no home key (the one-time setup token waits)."""
    config = hub_config(tmp_path / "new")
    store = EventStore.open(config.storage.resolved_database_url())
    services = init_services(config, store, None)
    try:
        yield NewHub(services, TestClient(create_app(services), base_url="https://testserver"))
    finally:
        if services.offsite is not None:
            services.offsite.stop()
        services.bus.stop()
        store.close()


def send_everything(old: HubUnderTest, cloud: Cloud) -> tuple[str, list[str]]:
    """Pair the old hub with a new household, record two events and send them; return the account's home and ids."""
    account = cloud.account()
    old.sync.pair(cloud.url, account.pairing_code())
    recorded = [old.record(), old.record(alarm=True, camera="garden")]
    old.sync.start()
    wait_for(lambda: old.sync.outbox.counts().waiting == 0, timeout=60, what="everything off-site")
    old.sync.stop()
    return account.pairing_code(), [record.id for record in recorded]


def test_setup_by_restore_brings_the_events_back_and_the_passphrase_becomes_the_owners_password(
    hub: HubUnderTest, cloud: Cloud, new_hub: NewHub
) -> None:
    account = cloud.account()
    hub.sync.pair(cloud.url, account.pairing_code())
    recorded = [hub.record(), hub.record(alarm=True, camera="garden")]
    hub.sync.start()
    wait_for(lambda: hub.sync.outbox.counts().waiting == 0, timeout=60, what="everything off-site")
    hub.sync.stop()

    wrong = new_hub.restore(cloud, account.pairing_code(), "not the passphrase of that home")
    assert wrong["state"] == "failed"
    assert "passphrase does not open" in wrong["error"]
    assert not new_hub.services.setup.done.is_set()
    assert not new_hub.services.storage.key_file.exists()

    done = new_hub.restore(cloud, account.pairing_code(), TEST_PASSPHRASE)
    assert done["state"] == "done", done
    assert (done["events"], done["objects"], done["missing"]) == (2, 4, 0)
    assert new_hub.client.get("/api/setup/status").json() == {"needs_setup": False}
    # The token was used by the restore: setup cannot run again.
    again = new_hub.client.post(
        "/api/setup", json={"token": "anything", "username": "mallory", "password": NEW_PASSWORD}
    )
    assert again.status_code == 403

    signed_in = new_hub.client.post("/api/auth/login", json={"username": "olivia", "password": TEST_PASSPHRASE})
    assert signed_in.status_code == 200, signed_in.text
    new_hub.client.cookies.set("hw_session", signed_in.cookies["hw_session"])
    events = {event["id"]: event for event in new_hub.client.get("/api/events").json()["events"]}
    assert set(events) == {record.id for record in recorded}
    for record in recorded:
        clip = new_hub.client.get(events[record.id]["clips"][0]["url"])
        assert clip.status_code == 200
        assert clip.content == fake_mp4(record.id)  # what the old hub's camera wrote, byte for byte


def test_setup_by_restore_with_the_recovery_key_makes_the_new_password_the_passphrase(
    cloud: Cloud, new_hub: NewHub, tmp_path: Path
) -> None:
    old_folder = tmp_path / "old"
    recovery_key = open_hub_storage(old_folder).key_file.create(TEST_PASSPHRASE, TEST_ARGON2)
    old = open_hub(old_folder)
    try:
        code, recorded = send_everything(old, cloud)
        done = new_hub.restore(cloud, code, NEW_PASSWORD, recovery_key=recovery_key)
        assert done["state"] == "done", done
        assert done["events"] == len(recorded)
        key_file = HomeKeyFile.in_folder(new_hub.services.config.storage.folder)
        with pytest.raises(WrongPassphraseError):
            key_file.unlock(TEST_PASSPHRASE)
        key_file.unlock(NEW_PASSWORD)
        signed_in = new_hub.client.post("/api/auth/login", json={"username": "olivia", "password": NEW_PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
    finally:
        old.sync.stop()
        old.events.close()


def test_a_restore_with_an_unreachable_cloud_says_so_and_setup_stays_open(new_hub: NewHub, tmp_path: Path) -> None:
    from demo_process import free_port

    token = new_hub.services.setup.token
    started = new_hub.client.post(
        "/api/setup/restore",
        json={
            "token": token,
            "cloud_url": f"http://127.0.0.1:{free_port()}",
            "pairing_code": "AAAA-BBBB-CCCC",
            "username": "olivia",
            "password": TEST_PASSPHRASE,
        },
    )
    assert started.status_code == 202
    restore_id = started.json()["restore_id"]
    wait_for(
        lambda: new_hub.client.get(f"/api/setup/restore/{restore_id}").json()["state"] == "failed",
        timeout=60,
        what="the restore to fail",
    )
    error = new_hub.client.get(f"/api/setup/restore/{restore_id}").json()["error"]
    assert "Traceback" not in error
    assert "reach" in error or "connect" in error, error
    assert new_hub.services.setup.token == token
    assert not new_hub.services.setup.done.is_set()
    weak = new_hub.client.post(
        "/api/setup/restore",
        json={"token": token, "cloud_url": "http://x", "pairing_code": "A", "username": "o", "password": "short"},
    )
    assert weak.status_code == 400
    assert "12 characters" in weak.json()["detail"]
