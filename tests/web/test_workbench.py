"""The review program in the browser: the owner donates through the consent page; a reviewer, signed in with a
TOTP code, gets the clip from the queue and it plays with their pseudonym and the time burned into the frames."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from typing import Any

import av
import numpy as np
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from demo_process import DemoProcess
from web.conftest import Owner, new_context

REVIEWER_PASSWORD = "reviewer password for the browser"
# The watermark's band across the top of the picture, as a share of the height.
TOP_BAND = 0.08


def create_reviewer(demo_hub: DemoProcess, name: str) -> str:
    """Create a reviewer on the command line, as an operator does; return their TOTP secret."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "homewarden",
            "users",
            "create-reviewer",
            name,
            "--config",
            str(demo_hub.config),
            "--passphrase-stdin",
        ],
        input=f"{REVIEWER_PASSWORD}\n{REVIEWER_PASSWORD}\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    secret = re.search(r"secret: (\S+)", done.stdout)
    assert secret, done.stdout
    return secret.group(1)


def video_frame(page: Page, test_id: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Copy the video element's current picture through a canvas (the blob: URL is same-origin, so it is readable)."""
    pixels = page.get_by_test_id(test_id).evaluate(
        """v => { const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = v.videoHeight;
                  const g = c.getContext('2d'); g.drawImage(v, 0, 0);
                  return {w: c.width, h: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data)}; }"""
    )
    return np.array(pixels["data"], dtype=np.uint8).reshape(pixels["h"], pixels["w"], 4)[:, :, :3]


@pytest.mark.slow
def test_donated_clip_plays_for_the_reviewer_with_the_watermark_burned_in(
    browser: Browser, demo_hub: DemoProcess, owner: Owner, demo_events: dict[str, dict[str, Any]]
) -> None:
    event = demo_events["cat"]
    donor = new_context(browser, demo_hub, storage_state=owner.storage_state)
    page = donor.new_page()
    page.goto(f"/events/{event['id']}/donate")
    page.get_by_test_id("donate-prepare").click()
    # Redaction and screening of a clip take seconds on two cores.
    expect(page.get_by_test_id("donate-preview")).to_be_visible(timeout=120_000)
    page.get_by_test_id("donate-confirm").click()
    expect(page.get_by_test_id("donate-done")).to_be_visible()
    donations = donor.request.get("/api/donations").json()
    donation = next(d for d in donations if d["event_id"] == event["id"])
    assert donation["status"] == "donated"
    preview = donor.request.get(f"/api/donations/{donation['id']}/preview.mp4").body()
    with av.open(io.BytesIO(preview)) as container:
        source_frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]

    secret = create_reviewer(demo_hub, "rosa")
    reviewer = new_context(browser, demo_hub)
    page = reviewer.new_page()
    page.goto("/review")
    page.get_by_test_id("login-username").fill("rosa")
    page.get_by_test_id("login-password").fill(REVIEWER_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-totp")).to_be_visible()
    page.get_by_test_id("login-totp").fill(pyotp.TOTP(secret).now())
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/review"))
    page.get_by_test_id("review-next").click()
    video = page.get_by_test_id("review-video")
    expect(video).to_be_visible(timeout=60_000)
    # The page fetches the single-use link into memory (the hub burns the watermark in first) and plays a blob: URL.
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=review-video]').src || '').startsWith('blob:')", timeout=60_000
    )
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=review-video]').currentTime > 1.0", timeout=30_000
    )
    video.evaluate("v => v.pause()")
    shown_at = float(video.evaluate("v => v.currentTime"))
    shown = video_frame(page, "review-video")

    # The same moment of the copy without the watermark (the frame whose lower half matches best): the band across
    # the top differs, where the reviewer's pseudonym and the time are.
    lower = shown.shape[0] // 2

    def mismatch(frame: np.ndarray[Any, np.dtype[np.uint8]]) -> float:
        return float(np.abs(frame[lower:].astype(int) - shown[lower:].astype(int)).mean())

    source = min(source_frames, key=mismatch)
    assert source.shape == shown.shape
    band = int(shown.shape[0] * TOP_BAND)
    band_difference = float(np.abs(source[:band].astype(int) - shown[:band].astype(int)).mean())
    assert band_difference > 20, (shown_at, band_difference)
    # There is no download link on the workbench, and the link the page used is spent.
    assert page.locator("a[download]").count() == 0
    assert page.get_by_test_id("review-video").get_attribute("controlslist") is not None
    reviewer.close()
    donor.close()
