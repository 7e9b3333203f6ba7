"""Take the web app's screenshots for the docs from a real `homewarden demo`, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py --out docs/images

Starts the demo on a free port, creates the owner over the API, waits for the demo's stranger alarm and cat event,
and saves timeline.png (desktop), event.png (the stranger alarm, its clip paused at 7 s), settings.png (a zone being
drawn on the live picture), timeline-phone.png and event-phone.png (the cat's event at a phone's size).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

# The demo process and the browser are started as the tests start them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from demo_process import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, start_demo

OWNER = {"username": "olivia", "password": "demo owner passphrase"}
EVENTS_DEADLINE = 120.0


def wait_for_demo_events(context: BrowserContext) -> dict[str, dict[str, Any]]:
    """Poll the API until the stranger alarm and the cat event have ended; return them by label."""
    deadline = time.monotonic() + EVENTS_DEADLINE
    while time.monotonic() < deadline:
        events = context.request.get("/api/events").json()["events"]
        found = {
            event["label"]: event
            for event in reversed(events)
            if event["ended_at"] and (event["label"] == "cat" or (event["label"] == "person" and event["alarm"]))
        }
        if {"person", "cat"} <= set(found):
            return found
        time.sleep(2)
    raise SystemExit(f"no stranger alarm and cat event within {EVENTS_DEADLINE} s")


def settle_timeline(page: Page) -> None:
    """Open the timeline and wait until its cards and their snapshots have loaded."""
    page.goto("/")
    expect(page.get_by_test_id("timeline")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_test_id("event-card").first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.event-card img')]"
        ".filter(img => img.getBoundingClientRect().top < innerHeight).every(img => img.complete)"
    )


def take_screenshots(base_url: str, token: str, out: Path) -> None:
    """Set the hub up and save the three screenshots into ``out``."""
    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        desktop = browser.new_context(base_url=base_url, viewport=DESKTOP)
        done = desktop.request.post("/api/setup", data={"token": token, "timezone": "Europe/Berlin", **OWNER})
        if not done.ok:
            raise SystemExit(f"setup failed: {done.status} {done.text()}")
        events = wait_for_demo_events(desktop)

        page = desktop.new_page()
        settle_timeline(page)
        page.screenshot(path=out / "timeline.png")

        page.goto(f"/events/{events['person']['id']}")
        expect(page.get_by_test_id("event-title")).to_contain_text("Unfamiliar person")
        expect(page.get_by_test_id("event-snapshot")).to_have_js_property("complete", True)
        # Played up to 7 s (the stranger is in the room by then) and paused, rather than seeked there: after a bare
        # seek Chromium keeps its loading spinner over the frame.
        video = page.get_by_test_id("event-video")
        video.evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function("() => document.querySelector('#event-video').currentTime >= 7")
        video.evaluate("v => v.pause()")
        page.wait_for_timeout(500)
        page.screenshot(path=out / "event.png")

        draw_a_zone(page)
        page.screenshot(path=out / "settings.png")

        phone = browser.new_context(
            base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True, storage_state=desktop.storage_state()
        )
        settle_timeline(phone.new_page())
        phone.pages[0].screenshot(path=out / "timeline-phone.png")
        event_page = phone.new_page()
        event_page.goto(f"/events/{events['cat']['id']}")
        expect(event_page.get_by_test_id("event-snapshot")).to_have_js_property("complete", True)
        event_page.wait_for_timeout(500)
        event_page.screenshot(path=out / "event-phone.png")
        browser.close()


def draw_a_zone(page: Page) -> None:
    """Open the settings page and click four corners of a zone on the live picture (not saved), centred in view."""
    page.goto("/settings")
    camera = page.get_by_test_id("settings-cameras").locator("[data-testid^='settings-camera-']").first
    camera_id = (camera.get_attribute("data-testid") or "").removeprefix("settings-camera-")
    expect(page.get_by_test_id(f"draw-note-{camera_id}")).to_have_text(
        "Click the corners of an area, then save it as a motion mask or a zone.", timeout=30_000
    )
    canvas = page.get_by_test_id(f"draw-canvas-{camera_id}")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if box is None:
        raise SystemExit("the settings page shows no live picture to draw on")
    for fx, fy in [(0.05, 0.55), (0.4, 0.5), (0.45, 0.95), (0.05, 0.97)]:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.get_by_test_id(f"draw-zone-name-{camera_id}").fill("sofa")
    canvas.evaluate("canvas => canvas.scrollIntoView({ block: 'center', behavior: 'instant' })")


def main() -> int:
    """Run the demo, take the screenshots, stop the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="folder for the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="homewarden-screenshots-") as folder:
        demo = start_demo(Path(folder))
        try:
            take_screenshots(demo.base_url, demo.setup_token, args.out)
        finally:
            code = demo.stop()
        if code != 0:
            raise SystemExit(f"the demo exited with {code}:\n{''.join(demo.logged)}")
    for name in ("timeline.png", "event.png", "settings.png", "timeline-phone.png", "event-phone.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
