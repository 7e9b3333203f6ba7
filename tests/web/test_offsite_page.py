"""The storage page's off-site card in a real browser: pairing the demo hub with a real cloud, and unpairing it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from cloud_process import CloudAccount, CloudProcess, start_cloud_serve, start_s3_server, write_cloud_config
from demo_process import DemoProcess
from homewarden.cloud.database import CloudDatabase
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.outbox import Outbox
from services import ensure_postgres, fresh_postgres_database
from waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Return the URL of the running test server, starting it when needed."""
    return ensure_postgres()


@pytest.fixture
def cloud(tmp_path: Path, postgres_url: str) -> Iterator[CloudProcess]:
    """Run `homewarden cloud serve` on PostgreSQL and `rclone serve s3` for this test."""
    s3 = start_s3_server(tmp_path / "s3")
    try:
        with fresh_postgres_database() as database_url:
            config = write_cloud_config(tmp_path / "cloud", database_url, s3=s3)
            CloudDatabase.open(database_url, migrate=True).close()
            process = start_cloud_serve(config)
            try:
                yield process
            finally:
                process.stop()
    finally:
        s3.stop()


@pytest.fixture
def cloud_url(cloud: CloudProcess) -> str:
    """Return the running cloud's address."""
    return cloud.base_url


def test_the_owner_pairs_and_unpairs_on_the_storage_page(page: Page, cloud_url: str) -> None:
    with httpx.Client(base_url=cloud_url, timeout=30) as client:
        account = CloudAccount.sign_up(client)
        code = account.pairing_code()
        page.goto("/storage")
        expect(page.get_by_test_id("offsite-state")).to_have_text("not paired")
        # A code the cloud does not know is refused in the form, in the cloud's words.
        page.get_by_test_id("offsite-url").fill(cloud_url)
        page.get_by_test_id("offsite-code").fill("AAAA-BBBB-CCCC")
        page.get_by_test_id("offsite-pair-submit").click()
        expect(page.get_by_test_id("offsite-pair-error")).to_contain_text("pairing")
        page.get_by_test_id("offsite-code").fill(code)
        page.get_by_test_id("offsite-pair-submit").click()
        expect(page.get_by_test_id("offsite-cloud")).to_have_text(cloud_url)
        expect(page.get_by_test_id("offsite-pair")).to_be_hidden()
        # The demo's events go off-site (its camera keeps recording, so the card may show either).
        expect(page.get_by_test_id("offsite-state")).to_have_text(re.compile(r"^(up to date|sending)$"))
        wait_for(lambda: page.request.get("/api/offsite").json()["sent"] > 0, timeout=60, what="footage off-site")
        expect(page.get_by_test_id("offsite-usage")).to_have_text(re.compile(r"^\d+ objects?\b"), timeout=30_000)
        hubs = client.get("/api/v1/hubs", headers=account.auth).json()
        assert [hub["active"] for hub in hubs] == [True]
        page.get_by_test_id("offsite-unpair").click()
        page.get_by_test_id("confirm-ok").click()
        expect(page.get_by_test_id("offsite-state")).to_have_text("not paired")
        hubs = client.get("/api/v1/hubs", headers=account.auth).json()
        assert [hub["active"] for hub in hubs] == [False]


def test_unpairing_with_a_withdrawal_the_cloud_cannot_take_asks_before_unpairing_anyway(
    page: Page, cloud: CloudProcess, demo_hub: DemoProcess
) -> None:
    with httpx.Client(base_url=cloud.base_url, timeout=30) as client:
        code = CloudAccount.sign_up(client).pairing_code()
    page.goto("/storage")
    page.get_by_test_id("offsite-url").fill(cloud.base_url)
    page.get_by_test_id("offsite-code").fill(code)
    page.get_by_test_id("offsite-pair-submit").click()
    expect(page.get_by_test_id("offsite-cloud")).to_have_text(cloud.base_url)
    # A withdrawal waits in the demo hub's outbox (as one made while the cloud was away), and the cloud goes away.
    storage = Path(yaml.safe_load(demo_hub.config.read_text())["storage"]["folder"])
    if not storage.is_absolute():
        storage = demo_hub.config.parent / storage
    cloud.stop()
    outbox = Outbox(OffsiteFolder(storage).outbox_path)
    outbox.enqueue_withdrawal("d_waiting_for_the_cloud")
    outbox.close()

    page.get_by_test_id("offsite-unpair").click()
    page.get_by_test_id("confirm-ok").click()
    # The hub says what waits, and the owner decides.
    expect(page.get_by_text("Withdrawals are waiting")).to_be_visible()
    expect(page.get_by_text(re.compile("1 withdrawal of donated clips \\(d_waiting_for_the_cloud\\)"))).to_be_visible()
    expect(page.get_by_test_id("offsite-state")).not_to_have_text("not paired")
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("offsite-state")).to_have_text("not paired")
