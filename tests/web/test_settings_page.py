"""The settings page in Chromium: changes written to the demo's YAML with its comments, applied to the running hub.

The hub is the shared real `homewarden demo` (tests/web/conftest.py); its config file is the one it was started with.
Each test puts the file back as it was and has the hub apply it ("Apply the file as edited by hand"), since the
other browser tests share the hub.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from camera.test_rtsp_server import RtspCamera
from conftest import media_file
from demo_process import DemoProcess
from homewarden.cli.hub_commands import DEMO_CAMERA
from homewarden.config import load_config

pytestmark = pytest.mark.slow

NOW = "Saved. The changes apply now."


def put_back(page: Page, demo_hub: DemoProcess, before: str) -> None:
    """Write the config file back as it was and have the running hub apply it, as an owner editing by hand would."""
    demo_hub.config.write_text(before, encoding="utf-8")
    page.goto("/settings")
    page.get_by_test_id("settings-reload").click()
    expect(page.get_by_test_id("settings-saved")).to_have_text("The config file's settings apply now.")


def test_a_camera_renamed_in_the_browser_is_saved_to_the_yaml_with_its_comments(
    page: Page, demo_hub: DemoProcess
) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    assert before.startswith("# Written by `homewarden demo`.")
    page.goto("/settings")
    expect(page.get_by_test_id("settings-path")).to_have_text(str(demo_hub.config.resolve()))
    name = page.get_by_test_id(f"settings-name-{DEMO_CAMERA}")
    try:
        name.fill("Wohnzimmer")
        page.get_by_test_id("settings-save").click()

        expect(page.get_by_test_id("settings-saved")).to_have_text("Saved. The changes apply now.")
        text = demo_hub.config.read_text(encoding="utf-8")
        assert text.startswith("# Written by `homewarden demo`. A real camera is one line:")
        assert "    name: Wohnzimmer\n" in text
        assert text.replace("    name: Wohnzimmer\n", "") == before
        assert load_config(demo_hub.config).cameras[DEMO_CAMERA].name == "Wohnzimmer"
        # The live page names the camera as renamed, without a restart.
        page.goto("/live")
        expect(page.get_by_text("Wohnzimmer").first).to_be_visible()
    finally:
        page.goto("/settings")
        page.get_by_test_id(f"settings-name-{DEMO_CAMERA}").fill("")
        page.get_by_test_id("settings-save").click()
        expect(page.get_by_test_id("settings-saved")).to_have_text("Saved. The changes apply now.")
    assert demo_hub.config.read_text(encoding="utf-8") == before


def test_an_invalid_value_is_shown_at_its_field_in_a_sentence_and_nothing_is_saved(
    page: Page, demo_hub: DemoProcess
) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    page.goto("/settings")
    threshold = page.get_by_test_id(f"settings-threshold-{DEMO_CAMERA}")
    threshold.fill("999")
    page.get_by_test_id("settings-save").click()

    expect(threshold).to_have_attribute("aria-invalid", "true")
    error = page.get_by_test_id(f"field-error-cameras.{DEMO_CAMERA}.motion.threshold")
    expect(error).to_have_text("Input should be less than or equal to 255.")
    expect(page.get_by_test_id("settings-saved")).to_be_hidden()
    assert demo_hub.config.read_text(encoding="utf-8") == before


def test_a_camera_that_does_not_answer_is_told_at_the_address_field(page: Page, demo_hub: DemoProcess) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    page.goto("/settings")
    page.get_by_test_id("camera-add-source").fill("rtsp://admin:hunter2@127.0.0.1:1/live")
    page.get_by_test_id("camera-add-id").fill("porch")
    page.get_by_test_id("camera-add-submit").click()

    error = page.get_by_test_id("field-error-source")
    expect(error).to_have_text(
        "The camera did not answer: rtsp://admin:***@127.0.0.1:1/live: cannot connect (Connection refused)."
    )
    assert demo_hub.config.read_text(encoding="utf-8") == before


def test_a_motion_mask_drawn_on_the_live_picture_is_saved_in_its_pixels(page: Page, demo_hub: DemoProcess) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    page.goto("/settings")
    picture = page.get_by_test_id(f"draw-picture-{DEMO_CAMERA}")
    expect(page.get_by_test_id(f"draw-note-{DEMO_CAMERA}")).to_have_text(
        "Click the corners of an area, then save it as a motion mask or a zone.", timeout=30_000
    )
    natural = picture.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    canvas = page.get_by_test_id(f"draw-canvas-{DEMO_CAMERA}")
    box = canvas.bounding_box()
    assert box is not None
    corners = [(0.1, 0.1), (0.5, 0.1), (0.5, 0.4)]
    try:
        for fx, fy in corners:
            canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
        page.get_by_test_id(f"draw-mask-{DEMO_CAMERA}").click()

        expect(page.get_by_test_id("settings-saved")).to_have_text(NOW)
        mask = load_config(demo_hub.config).cameras[DEMO_CAMERA].motion.mask
        assert len(mask) == 1
        expected = [(fx * natural[0], fy * natural[1]) for fx, fy in corners]
        # A click lands on a whole CSS pixel: within two picture pixels of where it was aimed.
        for (x, y), (ex, ey) in zip(mask[0], expected, strict=True):
            assert abs(x - ex) <= 2
            assert abs(y - ey) <= 2
        assert demo_hub.config.read_text(encoding="utf-8").startswith("# Written by `homewarden demo`.")
    finally:
        put_back(page, demo_hub, before)


def test_a_zone_drawn_with_the_mouse_is_saved_under_its_name(page: Page, demo_hub: DemoProcess) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    page.goto("/settings")
    picture = page.get_by_test_id(f"draw-picture-{DEMO_CAMERA}")
    expect(page.get_by_test_id(f"draw-note-{DEMO_CAMERA}")).to_have_text(
        "Click the corners of an area, then save it as a motion mask or a zone.", timeout=30_000
    )
    natural = picture.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    canvas = page.get_by_test_id(f"draw-canvas-{DEMO_CAMERA}")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    corners = [(0.55, 0.5), (0.95, 0.5), (0.95, 0.95), (0.55, 0.95)]
    try:
        # The mouse itself, at page coordinates over the picture: as an owner draws.
        for fx, fy in corners:
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.get_by_test_id(f"draw-zone-{DEMO_CAMERA}").click()
        expect(page.get_by_test_id("settings-error")).to_have_text(
            "Give the zone a short name: lower-case letters, digits and _, such as driveway."
        )
        page.get_by_test_id(f"draw-zone-name-{DEMO_CAMERA}").fill("sofa")
        page.get_by_test_id(f"draw-zone-{DEMO_CAMERA}").click()

        expect(page.get_by_test_id("settings-saved")).to_have_text(NOW)
        zone = load_config(demo_hub.config).cameras[DEMO_CAMERA].zones["sofa"]
        expected = [(fx * natural[0], fy * natural[1]) for fx, fy in corners]
        assert len(zone.coordinates) == len(corners)
        for (x, y), (ex, ey) in zip(zone.coordinates, expected, strict=True):
            assert abs(x - ex) <= 2
            assert abs(y - ey) <= 2
        text = demo_hub.config.read_text(encoding="utf-8")
        assert text.startswith("# Written by `homewarden demo`.")
        assert "sofa:" in text
    finally:
        put_back(page, demo_hub, before)


@pytest.mark.timeout(180)
def test_a_camera_is_added_by_its_rtsp_url_after_a_connection_test_that_shows_its_picture(
    page: Page, demo_hub: DemoProcess
) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    camera = RtspCamera(media_file("video/one-by-one-person-detection.mp4"))
    camera.start()
    try:
        page.goto("/settings")
        page.get_by_test_id("camera-add-source").fill(camera.url)
        page.get_by_test_id("camera-add-test").click()
        snapshot = page.get_by_test_id("camera-add-snapshot")
        expect(snapshot).to_be_visible(timeout=20_000)
        page.wait_for_function("() => document.getElementById('camera-add-snapshot').naturalWidth > 0")
        assert snapshot.evaluate("image => [image.naturalWidth, image.naturalHeight]") == [768, 432]
        assert demo_hub.config.read_text(encoding="utf-8") == before  # a test saves nothing

        page.get_by_test_id("camera-add-id").fill("porch")
        page.get_by_test_id("camera-add-name").fill("Porch")
        page.get_by_test_id("camera-add-submit").click()
        expect(page.get_by_test_id("settings-saved")).to_have_text(NOW, timeout=20_000)
        expect(page.get_by_test_id("settings-camera-porch")).to_be_visible()
        added = load_config(demo_hub.config).cameras["porch"]
        assert (added.source, added.name) == (camera.url, "Porch")
        assert demo_hub.config.read_text(encoding="utf-8").startswith("# Written by `homewarden demo`.")

        # It runs at once: the live page shows its picture, without a restart of the hub.
        page.goto("/live")
        expect(page.get_by_text("Porch").first).to_be_visible()
        page.wait_for_function(
            "() => [...document.querySelectorAll('img[alt=\"Live view of Porch\"]')].some(i => i.naturalWidth > 0)",
            timeout=30_000,
        )

        # Removed in the browser, after a confirmation: it stops and leaves the file.
        page.goto("/settings")
        page.get_by_test_id("settings-remove-porch").click()
        page.get_by_test_id("confirm-ok").click()
        expect(page.get_by_test_id("settings-saved")).to_have_text(NOW)
        expect(page.get_by_test_id("settings-camera-porch")).to_have_count(0)
        assert "porch" not in load_config(demo_hub.config).cameras
    finally:
        camera.stop()
        put_back(page, demo_hub, before)


def test_each_tracked_object_has_its_minimum_score_and_a_wrong_one_is_refused_at_its_field(
    page: Page, demo_hub: DemoProcess
) -> None:
    before = demo_hub.config.read_text(encoding="utf-8")
    tracked = load_config(demo_hub.config).objects.track
    page.goto("/settings")
    scores = page.get_by_test_id("settings-min-scores")
    expect(scores.locator("input")).to_have_count(len(tracked))
    cat = page.get_by_test_id("settings-min-score-cat")
    expect(cat).to_have_attribute("placeholder", "0.35")
    try:
        cat.fill("1.5")
        page.get_by_test_id("settings-save").click()
        expect(page.get_by_test_id("field-error-objects.filters.cat.min_score")).to_have_text(
            "Input should be less than or equal to 1."
        )
        assert demo_hub.config.read_text(encoding="utf-8") == before

        cat.fill("0.6")
        page.get_by_test_id("settings-save").click()
        expect(page.get_by_test_id("settings-saved")).to_have_text(NOW)
        assert load_config(demo_hub.config).objects.filters["cat"].min_score == 0.6
        page.reload()
        expect(page.get_by_test_id("settings-min-score-cat")).to_have_value("0.6")
    finally:
        put_back(page, demo_hub, before)
