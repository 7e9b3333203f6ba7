"""The storage page's off-site card in a real browser: pairing the demo hub with a real cloud, and unpairing it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from cloud_process import CloudAccount, start_cloud_serve, start_s3_server, write_cloud_config
from homewarden.cloud.database import CloudDatabase
from services import ensure_postgres, fresh_postgres_database
from waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Return the URL of the running test server, starting it when needed."""
    return ensure_postgres()


@pytest.fixture
def cloud_url(tmp_path: Path, postgres_url: str) -> Iterator[str]:
    """Run `homewarden cloud serve` on PostgreSQL and `rclone serve s3` for this test."""
    s3 = start_s3_server(tmp_path / "s3")
    try:
        with fresh_postgres_database() as database_url:
            config = write_cloud_config(tmp_path / "cloud", database_url, s3=s3)
            CloudDatabase.open(database_url, migrate=True).close()
            cloud = start_cloud_serve(config)
            try:
                yield cloud.base_url
            finally:
                cloud.stop()
    finally:
        s3.stop()


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
        expect(page.get_by_test_id("offsite-usage")).to_have_text(re.compile(r"^\d+ object\(s\)"), timeout=30_000)
        hubs = client.get("/api/v1/hubs", headers=account.auth).json()
        assert [hub["active"] for hub in hubs] == [True]
        page.get_by_test_id("offsite-unpair").click()
        page.get_by_test_id("confirm-ok").click()
        expect(page.get_by_test_id("offsite-state")).to_have_text("not paired")
        hubs = client.get("/api/v1/hubs", headers=account.auth).json()
        assert [hub["active"] for hub in hubs] == [False]
