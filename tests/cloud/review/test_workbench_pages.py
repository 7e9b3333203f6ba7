"""The workbench and admin pages in Debian's Chromium against a real `homewarden cloud serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pyotp
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from cloud.api.test_review_hubs import SCREENING_SECONDS, clip, receipts_of, state_of
from cloud.review.conftest import donate, new_donation_id, seal_to_program
from cloud_process import CloudAccount, CloudProcess, start_cloud_serve
from demo_process import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.review.labels import labelled_copies
from homewarden.cloud.services import CloudServices
from waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a long reviewer password"


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """Launch Debian's Chromium (never a downloaded browser)."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (never `playwright install`)"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def served(cloud_config: Path) -> Iterator[tuple[CloudProcess, CloudServices]]:
    """Run a real serve process, and the operator's services on the same database (to make staff)."""
    process = start_cloud_serve(cloud_config)
    services = CloudServices.build(load_cloud_config(cloud_config), migrate=False)
    try:
        yield process, services
    finally:
        services.close()
        assert process.stop() == 0
    assert "Traceback" not in process.output()


def test_a_reviewer_watches_labels_and_the_admin_sees_only_counts(
    served: tuple[CloudProcess, CloudServices], chromium: Browser
) -> None:
    process, services = served
    reviewer = services.staff.create("ann.reviews", PASSWORD, "reviewer")
    admin = services.staff.create("carol.admin", PASSWORD, "admin")
    with httpx.Client(base_url=process.base_url, timeout=60) as client:
        hub = CloudAccount.sign_up(client).pair_hub()
        donation_id = new_donation_id()
        assert donate(hub, donation_id, seal_to_program(hub.program, donation_id, clip())).status_code == 201
        wait_for(lambda: state_of(hub, donation_id) == "queued", SCREENING_SECONDS, "the copy to be queued")

        page = chromium.new_context(viewport=DESKTOP).new_page()
        downloads: list[object] = []
        page.on("download", lambda download: downloads.append(download))
        page.goto(f"{process.base_url}/review")
        page.get_by_label("User name").fill("ann.reviews")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator").fill(pyotp.TOTP(reviewer.totp_secret).now())
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#day")).to_contain_text(f"You are {reviewer.staff.pseudonym}: 0 of 150")
        page.get_by_role("button", name="Next clip").click()
        expect(page.locator("#about")).to_contain_text('the hub saw "person"')
        page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=30000)
        assert page.evaluate("() => document.getElementById('player').duration") > 0
        assert page.evaluate("() => document.getElementById('player').src").startswith("blob:")
        # Pause on a frame and drag a box with the mouse over the right half of the lower half of the picture.
        page.evaluate("() => { document.getElementById('player').currentTime = 0.5; }")
        page.wait_for_function("() => !document.getElementById('player').seeking", timeout=10000)
        page.get_by_label("Box class").select_option("animal")
        page.get_by_role("button", name="Pause and draw boxes").click()
        overlay = page.locator("#overlay")
        expect(overlay).to_be_visible()
        frame = overlay.bounding_box()
        video = page.locator("#player").bounding_box()
        assert frame is not None
        assert frame == video
        page.mouse.move(frame["x"] + 0.5 * frame["width"], frame["y"] + 0.5 * frame["height"])
        page.mouse.down()
        page.mouse.move(frame["x"] + 0.7 * frame["width"], frame["y"] + 0.7 * frame["height"], steps=5)
        page.mouse.move(frame["x"] + 0.9 * frame["width"], frame["y"] + 0.95 * frame["height"], steps=5)
        page.mouse.up()
        expect(page.locator("#boxes li")).to_have_count(1)
        expect(page.locator("#boxes li")).to_contain_text("other animal at 0.50 s")
        # A click is not a box.
        page.mouse.click(frame["x"] + 0.2 * frame["width"], frame["y"] + 0.2 * frame["height"])
        expect(page.locator("#boxes li")).to_have_count(1)
        page.get_by_role("button", name="Done drawing").click()
        expect(overlay).to_be_hidden()
        page.get_by_role("radio", name="False alarm").check()
        page.get_by_label("Cause").select_option("pet")
        page.get_by_label("What is it").select_option("cat")
        page.get_by_role("button", name="Save labels").click()
        expect(page.locator("#message")).to_have_text("Labels saved.")
        with services.database.session() as session:
            [stored] = labelled_copies(session, [donation_id])
        assert (stored.verdict, stored.cause, stored.label) == ("false_alarm", "pet", "cat")
        [box] = stored.boxes
        assert box["label"] == "animal"
        assert box["t"] == pytest.approx(0.5, abs=0.05)
        # The mouse moved in whole CSS pixels: the corners are the fractions dragged to within a pixel or two.
        tolerance = 2 / min(frame["width"], frame["height"])
        assert [box["x1"], box["y1"], box["x2"], box["y2"]] == pytest.approx([0.5, 0.5, 0.9, 0.95], abs=tolerance)
        expect(page.locator("#day")).to_contain_text("1 of 150")
        assert downloads == []

        actions = [(r["content"]["action"], r["content"]["actor"]) for r in receipts_of(hub)]
        assert ("view", f"reviewer:{reviewer.staff.pseudonym}") in actions
        assert ("label", f"reviewer:{reviewer.staff.pseudonym}") in actions

        admin_page = chromium.new_context(viewport=DESKTOP).new_page()
        admin_page.goto(f"{process.base_url}/review-admin")
        admin_page.get_by_label("User name").fill("carol.admin")
        admin_page.get_by_label("Password").fill(PASSWORD)
        admin_page.get_by_label("Code from your authenticator").fill(pyotp.TOTP(admin.totp_secret).now())
        admin_page.get_by_role("button", name="Sign in").click()
        expect(admin_page.locator("#states")).to_contain_text("labelled")
        expect(admin_page.locator("#reviewers")).to_contain_text("ann.reviews")
        expect(admin_page.locator("#homes")).to_contain_text(hub.home_id)
        assert admin_page.locator("video").count() == 0
        # The admin's own session reaches no clip: the workbench refuses it.
        admin_token = admin_page.evaluate("() => sessionStorage.getItem('hw-review-token')")
        refused = client.post("/api/v1/workbench/next", headers={"Authorization": f"Bearer {admin_token}"})
        assert refused.status_code == 403
