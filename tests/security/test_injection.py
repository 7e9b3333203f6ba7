"""Held: SQL and script injection, replayed against the real hub and, for the pages, in Debian's Chromium.

Quotes, comment markers and markup go into every free-text field and search parameter the red team found: they must
be stored and given back exactly as typed (the queries are parameterised), answered as JSON with `nosniff`, and
rendered as text: escaped by the templates, and put into the page with `textContent` by the scripts, under a
Content-Security-Policy that allows no inline script.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from demo_process import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from security.conftest import FRONT, GARDEN, SESSION_COOKIE, Caller, ServedHub

SQL = ("' OR '1'='1", '" OR "1"="1', "'; DROP TABLE events; --", "x') UNION SELECT * FROM users --", "%' --")
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror="window.pwned=1">'
SVG = "<svg onload=alert(1)>"
HTML_PAGES = ("/", "/live", "/arming", "/account", "/faces", "/storage", "/members", "/privacy", "/events/x")
PUBLIC_PAGES = ("/login", "/setup")
INJECTING_CLIENT = "127.0.0.31"


def test_search_parameters_with_sql_find_nothing_extra_and_break_nothing(
    owner: Caller, member: Caller, front_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    """Held, SQL injection: quotes and UNIONs in the timeline's label, person, camera, time and limit parameters."""
    everything = {event["id"] for event in owner.get("/api/events", params={"limit": 500}).json()["events"]}
    assert {front_event["id"], garden_event["id"]} <= everything
    for injected in SQL:
        # Each value starts as a real one would (a label, a member, a camera) and breaks out of its quotes.
        for name, value in (("label", f"person{injected}"), ("person", injected), ("camera", f"{FRONT}{injected}")):
            answer = owner.get("/api/events", params={name: value, "limit": 500})
            assert answer.status_code == 200, (name, value, answer.text[:200])
            assert answer.json()["events"] == [], (name, value)
            # The member who sees only the front door is not shown the garden by a quote either.
            answer = member.get("/api/events", params={name: f"{injected} OR camera='{GARDEN}'", "limit": 500})
            assert answer.status_code == 200
            assert GARDEN not in {event["camera"] for event in answer.json()["events"]}
        for name in ("since", "until", "limit", "alarm"):
            answer = owner.get("/api/events", params={name: f"2020-01-01{injected}"})
            assert answer.status_code == 422, (name, answer.status_code, answer.text[:200])
    # Every table is still there, with every event in it.
    after = {event["id"] for event in owner.get("/api/events", params={"limit": 500}).json()["events"]}
    assert everything <= after
    assert owner.get("/api/members").status_code == 200
    assert front_event["id"] in {e["id"] for e in owner.get("/api/events", params={"label": "person"}).json()["events"]}


def test_sign_in_with_sql_in_the_user_name_lets_nobody_in(hub: ServedHub, owner: Caller) -> None:
    """Held, SQL injection: the classic sign-in bypasses, with a wrong password and with the owner's own."""
    # From a loopback address of its own: these failures count toward that address's sign-in limit, not the suite's.
    transport = httpx.HTTPTransport(local_address=INJECTING_CLIENT)
    with httpx.Client(base_url=hub.base_url, transport=transport, timeout=60) as client:
        for username, password in (
            (f"{owner.username}' --", "wrong"),
            (f"{owner.username}' OR '1'='1", owner.password),
            ("' OR 1=1 --", "' OR '1'='1"),
            (f'{owner.username}"; --', owner.password),
        ):
            answer = client.post("/api/auth/login", json={"username": username, "password": password})
            assert answer.status_code == 401, (username, answer.status_code, answer.text)
            assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    assert owner.get("/api/me").json()["username"] == owner.username


def test_names_with_quotes_and_markup_are_stored_exactly_and_answered_as_json(hub: ServedHub, owner: Caller) -> None:
    """Held, SQL and script injection: API token names and a donation rule's label holding quotes and markup."""
    person = hub.new_member([FRONT])
    names = [f"{SCRIPT}{SQL[0]}", f"{IMG}{SQL[2]}", "Robert'); DROP TABLE api_tokens;--"]
    for name in names:
        made = person.post("/api/tokens", json={"name": name, "scopes": ["events:read"]})
        assert made.status_code == 201, made.text
        assert made.json()["name"] == name
    listed = person.get("/api/tokens")
    assert listed.headers["content-type"] == "application/json"
    assert listed.headers["x-content-type-options"] == "nosniff"
    assert sorted(token["name"] for token in listed.json()) == sorted(names)
    label = f"{SCRIPT}'--"
    rule = owner.post("/api/privacy/rules", json={"trigger": "label", "label": label, "camera": FRONT})
    assert rule.status_code == 201, rule.text
    try:
        assert rule.json()["label"] == label
        assert label in {r["label"] for r in owner.get("/api/privacy/rules").json()}
    finally:
        assert owner.delete(f"/api/privacy/rules/{rule.json()['id']}").status_code == 200
    # The tables the names tried to drop are there.
    assert person.get("/api/tokens").status_code == 200
    assert owner.get("/api/events").status_code == 200


def test_face_names_with_markup_or_sql_are_refused_with_a_clear_message(owner: Caller) -> None:
    """Held, script injection: a household face named with markup or SQL (the gallery keeps names it can show)."""
    for name in (SCRIPT, f"Ann{SQL[2]}", IMG, "Ann\x00"):
        answer = owner.post(
            "/api/faces", data={"name": name}, files={"photos": ("face.jpg", b"\xff\xd8 never decoded", "image/jpeg")}
        )
        assert answer.status_code in (400, 422), (name, answer.status_code, answer.text[:200])
        assert answer.headers["content-type"] == "application/json"
        assert "Traceback" not in answer.text
    assert owner.delete(f"/api/faces/{SQL[2]}").status_code == 404
    assert owner.get("/api/faces").status_code == 200


class PageScripts(HTMLParser):
    """Collect a page's script elements and its event-handler attributes."""

    def __init__(self) -> None:
        """Start with nothing found."""
        super().__init__()
        self.sources: list[str | None] = []
        self.data_blocks: list[str | None] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note a script's source, and any on* attribute."""
        if tag == "script":
            values = dict(attrs)
            # A JSON data block (the page's messages for its scripts) is never run by a browser; anything else is.
            if values.get("type") == "application/json":
                self.data_blocks.append(values.get("id"))
            else:
                self.sources.append(values.get("src"))
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]


def policy_of(header: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy into its directives."""
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {words[0]: words[1:] for words in directives}


def test_every_page_forbids_inline_and_foreign_scripts(hub: ServedHub, owner: Caller, member: Caller) -> None:
    """Held, script injection: what the hub sends with each page; an injected inline script would not run."""
    with hub.anonymous() as anonymous:
        answers = [anonymous.get(path) for path in PUBLIC_PAGES]
    answers += [owner.get(path) for path in HTML_PAGES] + [member.get("/privacy"), member.get("/")]
    for answer in answers:
        path = answer.request.url.path
        assert answer.status_code in (200, 403), (path, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        policy = policy_of(answer.headers["content-security-policy"])
        assert policy.get("script-src", policy["default-src"]) == ["'self'"], (path, policy)
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        found = PageScripts()
        found.feed(answer.text)
        # The pages need no inline script (the policy would block it): every script is a file of the hub's own.
        assert found.sources, path
        assert all(src and src.startswith("/static/") for src in found.sources), (path, found.sources)
        assert found.data_blocks in ([], ["messages"]), (path, found.data_blocks)
        assert not found.handlers, (path, found.handlers)


def test_markup_in_a_page_address_or_a_user_name_is_served_escaped(hub: ServedHub, owner: Caller) -> None:
    """Held, script injection: reflected markup in an event page's address, the sign-in `next`, and a user name."""
    for path in (f"/events/{IMG}", f"/events/{SVG}", f"/events/{IMG}/donate", f"/events/x{SQL[0]}"):
        answer = owner.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        assert "<img src=x" not in answer.text
        assert SVG not in answer.text
        assert 'onerror="window' not in answer.text
    with hub.anonymous() as anonymous:
        login = anonymous.get("/login", params={"next": f"javascript:alert(1)//{SCRIPT}"})
        assert login.status_code == 200
        assert SCRIPT not in login.text
        # An anonymous visitor of a page is sent to sign in; a CR LF in the address cannot add a header.
        sent = anonymous.get("/events/%0d%0aSet-Cookie:%20planted=1%0d%0a%0d%0a" + SVG)
        assert sent.status_code == 303
        assert "\r" not in sent.headers["location"]
        assert "\n" not in sent.headers["location"]
        # The address comes back percent-encoded (or without the line break): either way inside one header.
        assert sent.headers["location"].startswith("/login?next=%2Fevents%2F")
        assert "planted" not in sent.headers.get("set-cookie", "")
    # A user name with markup, if the hub keeps it, is escaped wherever a page shows it.
    name = hub.unique_name(SVG.replace(" ", "/"))
    added = owner.post("/api/members", json={"username": name, "password": "a member with markup in the name"})
    if added.status_code == 201:
        person = hub.caller(name, "a member with markup in the name")
        assert person.sign_in().status_code == 200
        for path in ("/", "/account", "/live"):
            page = person.get(path)
            assert page.status_code == 200, path
            assert "<svg/onload" not in page.text, path
            assert f"&lt;svg/onload=alert(1)&gt;{name[len(SVG) :]}" in page.text, path
    else:
        # A stricter rule for user names may refuse markup outright: then with a clear message, not an error.
        assert added.status_code in (400, 422), added.text
        assert "Traceback" not in added.text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium (never a downloaded browser)."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (never `playwright install`)"
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_stored_markup_is_shown_as_text_in_the_browser(hub: ServedHub, owner: Caller, browser: Browser) -> None:
    """Held, script injection (stored): markup in token names and a rule label, rendered by the real pages."""
    tokens = [f"token {IMG}", f"token {SCRIPT}"]
    for name in tokens:
        assert owner.post("/api/tokens", json={"name": name, "scopes": ["events:read"]}).status_code == 201
    rule = owner.post("/api/privacy/rules", json={"trigger": "label", "label": f"cat{IMG}"})
    assert rule.status_code == 201, rule.text
    context = browser.new_context(base_url=hub.base_url, viewport=DESKTOP)
    context.set_default_timeout(30_000)
    session = owner.client.cookies.get(SESSION_COOKIE, domain="")
    assert session is not None
    context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": hub.base_url}])
    alerts: list[str] = []
    violations: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
        page.on(
            "console", lambda message: violations.append(message.text) if "Content Security" in message.text else None
        )
        page.goto("/account")
        rows = page.get_by_test_id("token-row")
        for name in tokens:
            rows.filter(has_text=name).first.wait_for()
        page.goto("/privacy")
        page.get_by_test_id("rule-text").filter(has_text=f"cat{IMG}").first.wait_for()
        for path in ("/account", "/privacy"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            assert page.locator('img[src="x"]').count() == 0, path
            # The one script without a source is the messages' JSON data block, which a browser never runs.
            assert page.locator('script:not([src]):not([type="application/json"])').count() == 0, path
            assert page.locator('script[type="application/json"]').count() == 1, path
            assert page.evaluate("window.pwned") is None, path
    finally:
        context.close()
        assert owner.delete(f"/api/privacy/rules/{rule.json()['id']}").status_code == 200
    assert alerts == []
    assert violations == []
