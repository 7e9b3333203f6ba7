"""The app shell in Chromium: installable (manifest, icons, theme colour) and a phone's bottom bar of five entries."""

from __future__ import annotations

import struct

import pytest
from playwright.sync_api import Browser, Page, expect

from demo_process import PHONE, DemoProcess
from homewarden.web.pages import BOTTOM_BAR_SIZE, NAV_ITEMS, under_more
from web.conftest import Owner, new_context

OWNER_PAGES_UNDER_MORE = ["storage", "members", "privacy", "settings", "account"]


def test_a_role_whose_pages_fit_gets_no_more_and_the_owner_four_pages_and_more() -> None:
    member = [item for item in NAV_ITEMS if "member" in item.roles]
    owner = [item for item in NAV_ITEMS if "owner" in item.roles]
    assert len(member) <= BOTTOM_BAR_SIZE
    assert under_more(member) == []
    assert len(owner) - len(under_more(owner)) == BOTTOM_BAR_SIZE - 1
    assert [item.icon for item in under_more(owner)] == OWNER_PAGES_UNDER_MORE


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
def test_the_app_can_be_installed_its_manifest_and_icons_are_served(page: Page) -> None:
    page.goto("/")
    link = page.locator('link[rel="manifest"]')
    expect(link).to_have_attribute("href", "/manifest.json")
    expect(page.locator('meta[name="theme-color"]')).to_have_attribute("content", "#2c6bd8")
    answer = page.request.get("/manifest.json")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    assert manifest["theme_color"] == "#2c6bd8"
    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
    assert {icon["sizes"] for icon in pngs} >= {"192x192", "512x512"}
    assert any(icon["purpose"] == "maskable" for icon in pngs)
    for icon in pngs:
        image = page.request.get(icon["src"])
        assert image.status == 200, icon
        width, height = _png_size(image.body())
        assert f"{width}x{height}" == icon["sizes"]


@pytest.mark.slow
def test_a_phone_shows_five_entries_and_the_rest_under_more(
    browser: Browser, demo_hub: DemoProcess, owner: Owner
) -> None:
    context = new_context(browser, demo_hub, storage_state=owner.storage_state, viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        page.goto("/")
        bar = page.get_by_test_id("nav")
        visible = [entry for entry in bar.locator("a.nav-link, summary.nav-link").all() if entry.is_visible()]
        assert len(visible) == BOTTOM_BAR_SIZE, [entry.inner_text() for entry in visible]
        for entry in visible:
            expect(entry).to_be_in_viewport()
        menu = page.get_by_test_id("nav-more-menu")
        expect(menu).to_be_hidden()
        page.get_by_test_id("nav-more-toggle").click()
        expect(menu).to_be_visible()
        shown = [link.get_attribute("data-testid") for link in menu.locator("a").all()]
        assert shown == [f"more-{name}" for name in OWNER_PAGES_UNDER_MORE]
        page.get_by_test_id("more-privacy").click()
        page.wait_for_url("**/privacy")
        # On the page it opened, "More" is marked as where the user is.
        expect(page.get_by_test_id("nav-more-toggle")).to_have_class("nav-link is-current")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
    finally:
        context.close()


@pytest.mark.slow
def test_a_desktop_shows_every_page_in_the_top_bar_and_no_more(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_test_id("nav-more")).to_be_hidden()
    for name in OWNER_PAGES_UNDER_MORE:
        expect(page.get_by_test_id(f"nav-{name}")).to_be_visible()
