"""The web app in German, in a real Chromium against a real `homewarden demo`: every page at desktop and phone size.

A German browser (Accept-Language de-DE) gets every page in German: no text of the English catalog left, nothing
wider than the screen, dates in the German format. An account that chooses German keeps it across sign-out and
sign-in, in a browser that asks for English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, BrowserContext, Page, expect

from demo_process import DemoProcess
from homewarden.api.language import LANGUAGE_COOKIE
from homewarden.i18n import DOMAINS, catalog_path
from web.conftest import SETUP_TIMEZONE, Owner, new_context, sign_in

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}

# Pages of a signed-in owner, and pages anyone may open.
SIGNED_IN_PAGES = ("/", "/event", "/live", "/faces", "/arming", "/storage", "/members", "/privacy", "/settings")
SIGNED_IN_PAGES += ("/account",)
SIGNED_OUT_PAGES = ("/login", "/setup", "/set-password", "/recover")

# Nothing is left out: the API's sentences (event titles, refusals, notices, the access log's details, retention
# reasons) come in the reader's language too. The demo's camera names are names, not catalog text.
# English words that are also German or names in German text ("Home Assistant" names a product).
SAME_IN_GERMAN = {"Home"}

GERMAN_DATE_TIME = re.compile(r"\b\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}\b")


def catalog_messages() -> Iterator[Message]:
    """Yield every message of both German catalogs: the pages' own and the API's."""
    for domain in DOMAINS:
        with catalog_path("de", domain).open("rb") as po_file:
            yield from read_po(po_file, locale="de", domain=domain)


def english_phrases() -> tuple[set[str], set[str]]:
    """Return the English catalogs' phrases (two words or more) and single words whose German differs."""
    phrases: set[str] = set()
    words: set[str] = set()
    for message in catalog_messages():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        for english, german in zip(ids, strings, strict=False):
            for fragment in re.split(r"\{\w+\}|%\(\w+\)s|<[^>]+>", english):
                fragment = fragment.strip(" .,:;…?!()“”\"'·")
                if not fragment or fragment in german:
                    continue
                if " " in fragment:
                    phrases.add(fragment)
                elif re.fullmatch(r"[A-Z][a-z]{3,}", fragment) and fragment not in SAME_IN_GERMAN:
                    words.add(fragment)
    return phrases, words


PHRASES, WORDS = english_phrases()


def english_left(text: str) -> list[str]:
    """List the English catalog's phrases and words found in a page's text."""
    found = [phrase for phrase in PHRASES if phrase in text]
    found += [word for word in WORDS if re.search(rf"\b{word}\b", text)]
    return sorted(found)


def shown_text(page: Page) -> str:
    """Return the page's visible text."""
    return str(
        page.evaluate(
            """() => {
                const body = document.body.cloneNode(true);
                const unseen = "[hidden], template, script, dialog:not([open])";
                body.querySelectorAll(unseen).forEach((element) => element.remove());
                document.documentElement.append(body);
                // Off screen, not invisible: innerText leaves out what is not visible.
                body.style.position = "absolute";
                body.style.left = "-100000px";
                body.style.top = "0";
                const text = body.innerText;
                body.remove();
                return text;
            }"""
        )
    )


def settle(page: Page) -> None:
    """Wait until the page's scripts have filled it in (nothing is busy any more)."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.querySelectorAll('[aria-busy=\"true\"]').length === 0", timeout=20_000)
    # A last answer may still be rendering right after the busy mark goes.
    page.wait_for_timeout(300)


def too_wide(page: Page) -> list[str]:
    """Name the innermost elements that reach past the right edge of the screen."""
    return list(
        page.evaluate(
            """() => {
                const past = (element) => element.getBoundingClientRect().right > innerWidth + 1;
                return [...document.querySelectorAll("body *")]
                    .filter((element) => past(element) && ![...element.children].some(past))
                    .slice(0, 8)
                    .map((element) => `${element.tagName} ${element.textContent.trim().slice(0, 60)}`);
            }"""
        )
    )


def check_german(page: Page, size: dict[str, int]) -> str:
    """Assert the page is German, fits the screen and return its text."""
    settle(page)
    assert page.evaluate("() => document.documentElement.lang") == "de"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= size["width"], f"{page.url} is {width} px wide on a {size['width']} px screen: {too_wide(page)}"
    text = shown_text(page)
    assert not english_left(text), f"{page.url} shows English: {english_left(text)}\n{text}"
    return text


@pytest.fixture
def german_owner(
    browser: Browser, demo_hub: DemoProcess, owner: Owner, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """Yield the owner's browser set to German (its Accept-Language), at the size the test asks for."""
    size = SIZES[request.param]
    context = new_context(
        browser,
        demo_hub,
        storage_state=owner.storage_state,
        locale="de-DE",
        timezone_id=SETUP_TIMEZONE,
        viewport=size,
        is_mobile=size is PHONE,
    )
    yield context
    context.close()


@pytest.mark.parametrize("german_owner", list(SIZES), indirect=True)
@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_every_page_of_the_owner_is_german_and_fits(
    german_owner: BrowserContext, path: str, demo_events: dict[str, dict[str, Any]]
) -> None:
    page = german_owner.new_page()
    size = page.viewport_size
    assert size is not None
    event = demo_events["person"]
    page.goto(f"/events/{event['id']}" if path == "/event" else path)
    if path == "/arming":
        # The arming page marks nothing busy: its mode is its answer.
        modes = re.compile(r"^(Abwesend|Zuhause|Nacht|Unscharf)$")
        expect(page.get_by_test_id("current-mode")).to_have_text(modes)
    check_german(page, size)
    if path == "/":
        # The newest events are today's or yesterday's in the home's calendar.
        expect(page.locator(".day-title").first).to_have_text(re.compile(r"^(Heute|Gestern|\w+, \d+\. \w+)$"))
    if path == "/event":
        expect(page.locator("#event-when")).to_have_text(GERMAN_DATE_TIME)
        # Waits: the event's details arrive after the page reads as loaded on a busy machine.
        expect(page.locator("body")).to_contain_text("Kamera")
    if path == "/privacy":
        times = page.locator("[data-testid=access-row] time")
        if times.count():
            expect(times.first).to_have_text(GERMAN_DATE_TIME)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("path", SIGNED_OUT_PAGES)
def test_every_page_before_sign_in_is_german_and_fits(
    browser: Browser, demo_hub: DemoProcess, owner: Owner, path: str, size: str
) -> None:
    context = new_context(browser, demo_hub, locale="de-DE", viewport=SIZES[size], is_mobile=size == "phone")
    try:
        page = context.new_page()
        page.goto(demo_hub.setup_link if path == "/setup" else path)
        text = check_german(page, SIZES[size])
        if path == "/login":
            assert "Bei Homewarden anmelden" in text
        if path == "/setup":
            expect(page.get_by_test_id("setup-status")).to_contain_text("bereits eingerichtet")
        if path == "/set-password":
            expect(page.get_by_test_id("set-password-intro")).to_contain_text("den ganzen Link")
    finally:
        context.close()


@pytest.mark.parametrize("german_owner", ["desktop"], indirect=True)
def test_a_german_page_says_its_script_messages_and_numbers_in_german(
    german_owner: BrowserContext, demo_events: dict[str, dict[str, Any]]
) -> None:
    page = german_owner.new_page()
    page.goto("/live")
    tile = page.get_by_test_id("camera-tile").first
    expect(tile.get_by_test_id("camera-status")).to_have_text("Online")
    # "12,5 Bilder/s analysiert": t() with a placeholder, a German decimal comma.
    expect(tile.get_by_test_id("camera-health")).to_have_text(
        re.compile(r"^\d+,\d Bilder/s analysiert"), timeout=20_000
    )


def choose_language(page: Page, value: str) -> None:
    """Choose a language on the account page and wait for the page to come back in it."""
    page.goto("/account")
    with page.expect_navigation():
        page.get_by_test_id("account-language").select_option(value)
    settle(page)


def test_an_account_switches_to_german_and_back_and_the_choice_survives_signing_out_and_in(
    browser: Browser, demo_hub: DemoProcess, owner: Owner
) -> None:
    # An English browser throughout: only the account's choice makes the pages German.
    first = new_context(browser, demo_hub, locale="en-US")
    later = new_context(browser, demo_hub, locale="en-US")
    try:
        page = first.new_page()
        page.goto("/login")
        sign_in(page, owner)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        choose_language(page, "de")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("h1")).to_have_text("Konto")
        expect(page.get_by_test_id("account-language")).to_have_value("de")
        assert page.request.get("/api/me").json()["language"] == "de"

        page.get_by_test_id("sign-out").click()
        page.wait_for_url(re.compile(r"/login"))
        # Signed out, the browser still carries the choice: the sign-in page is German.
        expect(page.locator("h1")).to_have_text("Bei Homewarden anmelden")

        # Another browser that never chose anything gets German as soon as the account signs in.
        elsewhere = later.new_page()
        elsewhere.goto("/login")
        expect(elsewhere.locator("h1")).to_have_text("Sign in to Homewarden")
        sign_in(elsewhere, owner)
        expect(elsewhere.locator("html")).to_have_attribute("lang", "de")
        expect(elsewhere.get_by_test_id("nav-timeline")).to_contain_text("Verlauf")
        assert any(cookie["name"] == LANGUAGE_COOKIE and cookie["value"] == "de" for cookie in later.cookies())

        # Back to the browser's language: English again, here and at the next sign-in.
        choose_language(elsewhere, "")
        expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
        expect(elsewhere.locator("h1")).to_have_text("Account")
        assert not any(cookie["name"] == LANGUAGE_COOKIE for cookie in later.cookies())
        sign_in_again = page
        sign_in_again.goto("/login")
        sign_in(sign_in_again, owner)
        expect(sign_in_again.locator("html")).to_have_attribute("lang", "en")
    finally:
        # Leave the shared owner as the other tests expect it: following the browser.
        for context in (first, later):
            me = context.request.get(f"{demo_hub.base_url}/api/me")
            if me.ok:
                csrf = me.json()["csrf_token"]
                context.request.patch(
                    f"{demo_hub.base_url}/api/me", data={"language": None}, headers={"X-CSRF-Token": csrf}
                )
                break
        first.close()
        later.close()
