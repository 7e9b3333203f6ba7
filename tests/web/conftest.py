"""One real `homewarden demo` process and Debian's Chromium, shared by the browser tests.

The hub is the real one (cameras, pipeline, web app on a free port); the browser is /usr/bin/chromium driven by
Playwright. Nothing is downloaded: a missing Chromium fails here, loudly (scripts/ensure-chromium.sh installs it).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from demo_process import CHROMIUM, CHROMIUM_ARGS, DESKTOP, DemoProcess, start_demo

# Assertions wait as long as the contexts' actions do (new_context): under the whole suite on two cores the demo hub
# analyses its camera while answering, and a plain POST once took over expect's own 5 s default in a clean-clone run.
expect.set_options(timeout=15_000)

OWNER_NAME = "olivia"
OWNER_PASSWORD = "browser owner passphrase"
# The demo scene loops every 40 s; this is a deadline for a stuck hub, not a speed check.
# Under heavy load (CI at load 25) the demo drops frames and loops slowly: three loops in 90 s made no cat event.
DEMO_EVENTS_DEADLINE = 180.0
TOTP_STEP = 30
NAVIGATION_TIMEOUT_MS = 45_000
SETUP_TIMEZONE = "Europe/Berlin"


@dataclass
class Owner:
    """The owner created through the setup page, and what that setup showed."""

    username: str
    password: str
    recovery_key: str
    landed_on_timeline: bool
    storage_state: dict[str, Any]
    totp_secret: str | None = None
    totp_last_step: int | None = None

    def next_totp_code(self) -> str:
        """Return a code the hub accepts now: within one step of its clock and later than the last step used."""
        assert self.totp_secret is not None
        while True:
            now = time.time()
            current = int(now // TOTP_STEP)
            last = current - 2 if self.totp_last_step is None else self.totp_last_step
            step = max(current - 1, last + 1)
            if step == current - 1 and now % TOTP_STEP > TOTP_STEP - 5:
                # The previous step would fall out of the drift window before the hub reads it.
                step = current
            if step <= current + 1:
                self.totp_last_step = step
                return pyotp.TOTP(self.totp_secret).at(step * TOTP_STEP)
            time.sleep((step - 1) * TOTP_STEP - now + 0.5)


# What the demo hub logged last, shown beside a failed browser test (a page that timed out says little on its own).
DEMO_LINES_ON_FAILURE = 40


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the machine's load and the demo hub's last log lines to the report of a failed browser test."""
    report = yield
    demo = getattr(item, "funcargs", {}).get("demo_hub")
    if report.failed and isinstance(demo, DemoProcess):
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        running = "running" if demo.process.poll() is None else f"exited {demo.process.returncode}"
        lines = "".join(demo.logged[-DEMO_LINES_ON_FAILURE:])
        report.sections.append(("demo hub", f"load average {load}; demo {running}\n{lines}"))
    return report


@pytest.fixture(scope="session")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    """Run one `homewarden demo` on a free port; SIGTERM it at the end and require a clean exit."""
    demo = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield demo
    finally:
        code = demo.stop()
    assert code == 0, "".join(demo.logged)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """Start Playwright's driver for the session."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Launch Debian's Chromium once for the session (never a downloaded browser)."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (never `playwright install`)"
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def new_context(browser: Browser, demo_hub: DemoProcess, **options: Any) -> BrowserContext:
    """Open a fresh browser context on the hub (its own cookies), desktop-sized unless told otherwise."""
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(base_url=demo_hub.base_url, **options)
    context.set_default_timeout(15_000)
    # A whole page load (its scripts, styles and first answers) on two cores shared with a second demo hub, a second
    # Chromium and the rest of the suite: the home page once took over 15 s in a clean-clone CI run (load about 25).
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


@pytest.fixture(scope="session")
def owner(browser: Browser, demo_hub: DemoProcess) -> Owner:
    """Create the first owner through the setup page, once, whichever test asks first; keep the signed-in state.

    The browser is in Berlin, the hub machine in UTC: the home's time zone is the browser's (SETUP_TIMEZONE).
    """
    context = new_context(browser, demo_hub, timezone_id=SETUP_TIMEZONE)
    try:
        page = context.new_page()
        page.goto(demo_hub.setup_link)
        page.get_by_test_id("setup-username").fill(OWNER_NAME)
        page.get_by_test_id("setup-password").fill(OWNER_PASSWORD)
        page.get_by_test_id("setup-password-confirm").fill(OWNER_PASSWORD)
        page.get_by_test_id("setup-submit").click()
        # Creating the home key (Argon2id) takes a moment.
        recovery = page.get_by_test_id("recovery-key")
        expect(recovery).to_be_visible(timeout=60_000)
        recovery_key = recovery.inner_text().strip()
        page.get_by_test_id("recovery-done").click()
        page.wait_for_url(f"{demo_hub.base_url}/")
        expect(page.get_by_test_id("timeline")).to_be_visible()
        landed = page.get_by_test_id("timeline").is_visible()
        return Owner(OWNER_NAME, OWNER_PASSWORD, recovery_key, landed, context.storage_state())
    finally:
        context.close()


@pytest.fixture
def context(browser: Browser, demo_hub: DemoProcess, owner: Owner) -> Iterator[BrowserContext]:
    """Yield a fresh desktop browser context signed in as the owner."""
    signed_in = new_context(browser, demo_hub, storage_state=owner.storage_state)
    yield signed_in
    signed_in.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """Return a page of a fresh context signed in as the owner."""
    return context.new_page()


def sign_in(page: Page, owner: Owner) -> None:
    """Sign in on the sign-in page, answering the two-factor prompt when the account asks for it."""
    page.get_by_test_id("login-username").fill(owner.username)
    page.get_by_test_id("login-password").fill(owner.password)
    page.get_by_test_id("login-submit").click()
    if owner.totp_secret is not None:
        totp = page.get_by_test_id("login-totp")
        expect(totp).to_be_visible()
        totp.fill(owner.next_totp_code())
        page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"^[^?]*/(\?.*)?$"))


@pytest.fixture(scope="session")
def demo_events(browser: Browser, demo_hub: DemoProcess, owner: Owner) -> dict[str, dict[str, Any]]:
    """Wait until the demo has recorded its stranger alarm and its cat event; return the newest of each by label."""
    context = new_context(browser, demo_hub, storage_state=owner.storage_state)
    try:
        deadline = time.monotonic() + DEMO_EVENTS_DEADLINE
        found: dict[str, dict[str, Any]] = {}
        events: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            answer = context.request.get("/api/events")
            assert answer.ok, answer.text()
            events = answer.json()["events"]
            found = {}
            for event in reversed(events):  # oldest first, so the newest of each kind wins
                # A stranger's alarm: the loop whose face was read (under load a loop can miss the face, and its
                # event is then "Person in the living room", which the tests of the stranger's page do not expect).
                stranger = event["label"] == "person" and event["alarm"] and event["sub_label"] == "unknown"
                wanted = event["label"] == "cat" or stranger
                if wanted and event["ended_at"] and event["clips"]:
                    found[event["label"]] = event
            if {"person", "cat"} <= set(found):
                return found
            time.sleep(2)
        raise AssertionError(f"no ended stranger alarm and cat event within {DEMO_EVENTS_DEADLINE} s: {events}")
    finally:
        context.close()


@pytest.fixture(scope="session")
def demo_intrusion(browser: Browser, demo_hub: DemoProcess, owner: Owner) -> dict[str, Any]:
    """Wait until the demo has recorded an intrusion of two or more people whose events ended; return the newest.

    The scene's person comes back every loop within the intrusion window, so later loops join one intrusion.
    """
    context = new_context(browser, demo_hub, storage_state=owner.storage_state)
    try:
        deadline = time.monotonic() + 2 * DEMO_EVENTS_DEADLINE
        intrusions: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            answer = context.request.get("/api/intrusions")
            assert answer.ok, answer.text()
            intrusions = answer.json()["intrusions"]
            for intrusion in intrusions:
                if len([event for event in intrusion["events"] if event["ended_at"] and event["clips"]]) >= 2:
                    return intrusion
            time.sleep(2)
        raise AssertionError(f"no intrusion of two people within {2 * DEMO_EVENTS_DEADLINE} s: {intrusions}")
    finally:
        context.close()


def wait_for_events(page: Page, count: int, label: str | None = None) -> list[dict[str, Any]]:
    """Wait until the hub lists at least ``count`` events (the demo adds one of each label a loop); newest first."""
    deadline = time.monotonic() + 3 * DEMO_EVENTS_DEADLINE
    query = f"&label={label}" if label else ""
    while True:
        events: list[dict[str, Any]] = page.request.get(f"/api/events?limit=100{query}").json()["events"]
        if len(events) >= count:
            return events
        assert time.monotonic() < deadline, f"fewer than {count} events within {3 * DEMO_EVENTS_DEADLINE} s: {events}"
        time.sleep(2)
