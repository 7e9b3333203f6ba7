"""Issue 17's flows in German, in a real Chromium against a real `homewarden demo`, on a desktop and on a phone (touch).

A German owner invites a member (the "no cameras" tick), reviews events (newer/older, the reviewed mark, a share
link), renames a camera and meets a refused value at its field, reads the privacy page's access summary and sets an
arming schedule; a German member reads the timeline. Every sentence checked here is the German one; the English
flows are tests/web/test_browser.py, test_review_flow.py and test_settings_page.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from demo_process import DemoProcess
from homewarden.cli.hub_commands import DEMO_CAMERA
from web.conftest import DEMO_EVENTS_DEADLINE, SETUP_TIMEZONE, Owner, new_context, sign_in
from web.test_german import SIZES, check_german, settle

pytestmark = pytest.mark.slow


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    """Name the screen a test runs on: desktop, or a phone used by touch."""
    return str(request.param)


def german_context(browser: Browser, demo_hub: DemoProcess, size: str, **options: Any) -> BrowserContext:
    """Open a German browser (Accept-Language de-DE) at a desktop's or a phone's size; a phone is touched."""
    phone = size == "phone"
    return new_context(
        browser,
        demo_hub,
        locale="de-DE",
        timezone_id=SETUP_TIMEZONE,
        viewport=SIZES[size],
        is_mobile=phone,
        has_touch=phone,
        **options,
    )


@pytest.fixture
def german_owner(browser: Browser, demo_hub: DemoProcess, owner: Owner, size: str) -> Iterator[Page]:
    """Yield a page of the signed-in owner in a German browser."""
    context = german_context(browser, demo_hub, size, storage_state=owner.storage_state)
    yield context.new_page()
    context.close()


def press(page: Page, target: Locator) -> None:
    """Tap on a phone, click on a desktop."""
    if page.viewport_size == SIZES["phone"]:
        target.tap()
    else:
        target.click()


def csrf(page: Page) -> dict[str, str]:
    """Return the header a changing API call from this page's session needs."""
    return {"X-CSRF-Token": page.request.get("/api/me").json()["csrf_token"]}


def test_a_german_owner_invites_a_member_without_cameras_who_then_reads_a_german_timeline(
    german_owner: Page, browser: Browser, demo_hub: DemoProcess, owner: Owner, size: str
) -> None:
    page = german_owner
    name = f"hanna_{size}"
    page.goto("/members")
    check_german(page, SIZES[size])
    page.get_by_test_id("member-add-username").fill(name)
    press(page, page.get_by_test_id("member-add-submit"))
    expect(page.get_by_test_id("field-error-confirm_no_cameras")).to_have_text(
        f"Wählen Sie die Kameras, die {name} sehen darf, oder kreuzen Sie „Noch keine Kameras“ an."
    )
    expect(page.get_by_test_id("member-add-no-cameras").locator("xpath=..")).to_have_text("Noch keine Kameras")
    press(page, page.get_by_test_id("member-add-no-cameras"))
    expect(page.get_by_test_id("field-error-confirm_no_cameras")).to_be_hidden()
    press(page, page.get_by_test_id("member-add-submit"))
    link = page.get_by_test_id("member-link-url")
    expect(link).to_contain_text("/set-password#")
    url = link.inner_text().strip()
    row = page.locator(f'[data-testid="member-row"][data-username="{name}"]')
    expect(row.get_by_test_id("member-no-cameras")).to_have_text(
        f"{name} sieht noch keine Kamera: Kreuzen Sie die Kameras an, die diese Person sehen darf, und speichern Sie."
    )
    check_german(page, SIZES[size])

    member = german_context(browser, demo_hub, size)
    try:
        invited = member.new_page()
        invited.goto(url)
        expect(invited.get_by_test_id("set-password-intro")).to_contain_text(
            f"{owner.username} hat Sie als {name} in den Haushalt eingeladen."
        )
        invited.get_by_test_id("set-password-new").fill("hannas eigenes Passwort")
        invited.get_by_test_id("set-password-confirm").fill("hannas eigenes Passwort")
        press(invited, invited.get_by_test_id("set-password-submit"))
        expect(invited.get_by_test_id("set-password-done")).to_contain_text(f"Ihr Passwort ist festgelegt, {name}.")
        press(invited, invited.get_by_test_id("set-password-sign-in"))
        sign_in(invited, Owner(name, "hannas eigenes Passwort", "", False, {}))
        expect(invited.get_by_test_id("timeline-no-cameras")).to_have_text(
            f"Sie haben noch keine Kameras: Bitten Sie {owner.username}, Ihnen Zugriff zu geben."
        )
        check_german(invited, SIZES[size])

        # Given the camera, the member's timeline is the camera's events, in German words and dates.
        hanna = next(user for user in page.request.get("/api/members").json() if user["username"] == name)
        given = page.request.patch(f"/api/members/{hanna['id']}", data={"cameras": [DEMO_CAMERA]}, headers=csrf(page))
        assert given.ok, given.text()
        invited.goto("/")
        cards = invited.locator('[data-testid="event-card"], [data-testid="intrusion-card"]')
        expect(cards.first).to_be_visible(timeout=DEMO_EVENTS_DEADLINE * 1000)
        text = check_german(invited, SIZES[size])
        assert "Wohnzimmer" in text or "Living room" in text
        expect(invited.locator(".day-title").first).to_have_text(re.compile(r"^(Heute|Gestern|\w+, \d+\. \w+)$"))
        # A member has no owner's pages on the bar, and the arming tab reads short on a phone.
        if size == "phone":
            expect(invited.get_by_test_id("nav-arming").locator(".nav-label-short")).to_have_text("Modus")
            expect(invited.get_by_test_id("nav-arming").locator(".nav-label-long")).to_be_hidden()
    finally:
        member.close()
        for user in page.request.get("/api/members").json():
            if user["username"] == name:
                page.request.delete(f"/api/members/{user['id']}", headers=csrf(page))


def test_a_german_owner_reviews_events_and_shares_a_clip(
    german_owner: Page, demo_events: dict[str, dict[str, Any]], size: str
) -> None:
    page = german_owner
    deadline = time.monotonic() + DEMO_EVENTS_DEADLINE
    listed: list[str] = []
    while time.monotonic() < deadline:
        listed = [event["id"] for event in page.request.get("/api/events?limit=500").json()["events"]]
        if len(listed) >= 3:
            break
        time.sleep(2)
    assert len(listed) >= 3, listed
    older, middle, newer = listed[-1], listed[-2], listed[-3]
    page.request.put("/api/events/reviewed", data={"event_ids": [middle], "reviewed": False}, headers=csrf(page))
    page.goto(f"/events/{middle}")
    check_german(page, SIZES[size])
    expect(page.get_by_test_id("event-newer")).to_have_attribute("href", f"/events/{newer}")
    expect(page.get_by_test_id("event-older")).to_have_attribute("href", f"/events/{older}")
    press(page, page.get_by_test_id("event-older"))
    page.wait_for_url(f"**/events/{older}")
    expect(page.get_by_test_id("event-older")).to_have_attribute("aria-disabled", "true")
    press(page, page.get_by_test_id("event-newer"))
    page.wait_for_url(f"**/events/{middle}")

    reviewed = page.get_by_test_id("event-reviewed")
    expect(reviewed).to_have_attribute("aria-pressed", "false")
    press(page, reviewed)
    expect(reviewed).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("toast")).to_have_text(re.compile(r"^Als angesehen markiert\."))

    press(page, page.get_by_test_id("share-open"))
    page.get_by_test_id("share-hours").select_option("1")
    press(page, page.get_by_test_id("share-create"))
    expect(page.get_by_test_id("share-url")).to_have_value(re.compile(r"/shared/[A-Za-z0-9_-]{43}$"))
    row = page.get_by_test_id("share-row").first
    expect(row).to_contain_text("gilt bis")
    press(page, row.get_by_test_id("share-revoke"))
    expect(page.get_by_test_id("share-row").first).to_contain_text("widerrufen")
    check_german(page, SIZES[size])


def test_a_german_owner_renames_a_camera_and_a_refused_value_is_a_german_sentence_at_its_field(
    german_owner: Page, demo_hub: DemoProcess, size: str
) -> None:
    page = german_owner
    before = demo_hub.config.read_text(encoding="utf-8")
    page.goto("/settings")
    check_german(page, SIZES[size])
    threshold = page.get_by_test_id(f"settings-threshold-{DEMO_CAMERA}")
    threshold.fill("999")
    press(page, page.get_by_test_id("settings-save"))
    expect(threshold).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id(f"field-error-cameras.{DEMO_CAMERA}.motion.threshold")).to_have_text(
        "Geben Sie eine Zahl von höchstens 255 ein."
    )
    assert demo_hub.config.read_text(encoding="utf-8") == before
    threshold.fill("")
    page.reload()
    settle(page)
    name = page.get_by_test_id(f"settings-name-{DEMO_CAMERA}")
    try:
        name.fill("Wohnzimmer")
        press(page, page.get_by_test_id("settings-save"))
        expect(page.get_by_test_id("settings-saved")).to_have_text("Gespeichert. Die Änderungen gelten ab sofort.")
        assert "    name: Wohnzimmer\n" in demo_hub.config.read_text(encoding="utf-8")
    finally:
        page.reload()
        settle(page)
        page.get_by_test_id(f"settings-name-{DEMO_CAMERA}").fill("")
        press(page, page.get_by_test_id("settings-save"))
        expect(page.get_by_test_id("settings-saved")).to_have_text("Gespeichert. Die Änderungen gelten ab sofort.")
    assert demo_hub.config.read_text(encoding="utf-8") == before


def test_a_german_owner_reads_the_access_summary_on_the_privacy_page(
    german_owner: Page, demo_events: dict[str, dict[str, Any]], size: str
) -> None:
    page = german_owner
    page.goto("/")  # the timeline's thumbnails are the owner's own views
    expect(page.locator('[data-testid="event-card"], [data-testid="intrusion-card"]').first).to_be_visible()
    page.goto("/privacy")
    check_german(page, SIZES[size])
    summary = page.get_by_test_id("household-views-summary")
    # The parts come most recently viewed first, so live views (an earlier test's camera settings page, counted only
    # if the demo camera had sent a frame by then) and clips may come before the snapshots.
    expect(summary).to_contain_text(re.compile(r"^Sie haben .*\b\d+ (Schnappschuss|Schnappschüsse)\b.* angesehen"))
    expect(page.get_by_test_id("household-views-list")).to_be_hidden()
    press(page, summary)
    expect(page.get_by_test_id("household-views-list")).to_be_visible()
    check_german(page, SIZES[size])


def test_a_german_owner_sets_an_arming_schedule_in_the_homes_time(
    german_owner: Page, demo_hub: DemoProcess, size: str
) -> None:
    page = german_owner
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    try:
        page.goto("/arming")
        expect(page.get_by_test_id("current-mode")).to_have_text(re.compile(r"^(Abwesend|Zuhause|Nacht|Unscharf)$"))
        check_german(page, SIZES[size])
        press(page, page.get_by_test_id("arming-mode-home"))
        expect(page.get_by_test_id("current-mode")).to_have_text("Zuhause")
        schedule = {
            "entries": [
                {"days": every_day, "at": "08:00", "mode": "away"},
                {"days": every_day, "at": "08:30", "mode": "home"},
            ]
        }
        saved = page.request.put("/api/arming/schedule", data=schedule, headers=csrf(page))
        assert saved.ok, saved.text()
        page.reload()
        expect(page.get_by_test_id("schedule-timezone-note")).to_have_text(
            f"Die Zeiten gelten in der Zeitzone des Zuhauses, {SETUP_TIMEZONE}."
        )
        expect(page.get_by_test_id("schedule-row")).to_have_count(2)
        expect(page.get_by_test_id("arming-manual")).to_have_text(re.compile(r"\b08:(00|30)\b"))
        check_german(page, SIZES[size])
        if size == "phone":
            # The page keeps its name; the bottom bar's tab is the short one, whole, not cut.
            expect(page.locator("h1")).to_have_text("Scharfschalten")
            tab = page.get_by_test_id("nav-arming").locator(".nav-label-short")
            expect(tab).to_have_text("Modus")
            assert tab.evaluate("(label) => label.scrollWidth <= label.clientWidth")
    finally:
        page.request.put("/api/arming/schedule", data={"entries": []}, headers=csrf(page))
        page.request.put("/api/arming", data={"mode": "away"}, headers=csrf(page))
