"""Make the web app's PNG icons from static/icon.svg, drawn by Chromium (Playwright; never a downloaded browser).

Run after changing the SVG: `python scripts/make_icons.py`; the PNGs are committed, so installing needs no browser.
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "src" / "homewarden" / "web" / "static"
CHROMIUM = "/usr/bin/chromium"
# (file, size, how much of the square the drawing fills): a maskable icon keeps its drawing inside the middle 80 %
# and fills the rest with the background, since the phone cuts it to its own shape.
ICONS = (
    ("icon-192.png", 192, 1.0),
    ("icon-512.png", 512, 1.0),
    ("apple-touch-180.png", 180, 1.0),
    ("maskable-512.png", 512, 0.8),
)
PAGE = """<!doctype html><html><body style="margin:0;background:{background}">
<div style="width:{size}px;height:{size}px;display:grid;place-items:center">
<img src="data:image/svg+xml;base64,{svg}" width="{inner}" height="{inner}"></div></body></html>"""


def main() -> None:
    """Write every icon into static/icons/."""
    svg = base64.b64encode((STATIC / "icon.svg").read_bytes()).decode()
    folder = STATIC / "icons"
    folder.mkdir(exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, size, fill in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            background = "#2c6bd8" if fill < 1 else "transparent"
            page.set_content(PAGE.format(background=background, size=size, inner=round(size * fill), svg=svg))
            page.screenshot(path=str(folder / name), omit_background=fill >= 1)
            page.close()
            print(f"wrote {folder / name}")
        browser.close()


if __name__ == "__main__":
    main()
