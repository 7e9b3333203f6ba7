"""One real `homewarden serve` process under attack, with the people an intruder would try to impersonate.

The hub is the real one, started as a user starts it: two cameras replaying real footage in a loop, an owner made
through the setup link, a member who may watch only the front door, and scoped API tokens. The review program's
reviewers and admins are accounts of Homewarden Cloud, and the attacks on them run against the cloud
(tests/cloud/); here the hub is paired, by its files, with a cloud that is not running, whose program key the tests
hold. Attacks go over real HTTP to a real port; nothing is
faked. Tests that change shared state (a password, a throttle, a subscription) use people of their own, made with
`hub.new_member`, so the tests can run in any order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pyotp
import pytest
from nacl.signing import SigningKey

from api.test_privacy import pair_storage_by_files
from conftest import media_file
from demo_process import free_port, read_until

OWNER = ("olivia", "owner passphrase under attack")
MEMBER = ("max", "member password under attack")
FRONT, GARDEN = "front_door", "garden"
SESSION_COOKIE = "hw_session"
TOTP_STEP = 30
# A new connection per request: uvicorn closes an idle kept-alive connection after 5 s, and a request sent on it as it
# closes is reset; on a busy machine a poll every 2 s lands in that window.
ONE_CONNECTION_PER_REQUEST = httpx.Limits(max_keepalive_connections=0)
# The cameras loop real footage with people; this is a deadline for a stuck hub, not a speed check.
EVENT_DEADLINE = 300.0


@dataclass
class Caller:
    """A signed-in person: an HTTP client carrying their session cookie and CSRF token."""

    base_url: str
    username: str
    password: str
    csrf: str = ""
    totp_secret: str | None = None
    client: httpx.Client = field(init=False)
    _last_totp_step: int | None = None

    def __post_init__(self) -> None:
        """Open a client on the hub (no redirects followed: an attack's answer is read as it is)."""
        self.client = httpx.Client(
            base_url=self.base_url, timeout=60, follow_redirects=False, limits=ONE_CONNECTION_PER_REQUEST
        )

    def sign_in(self) -> httpx.Response:
        """Sign in with the password (and a fresh TOTP code when the account has one); keep the session."""
        body: dict[str, Any] = {"username": self.username, "password": self.password}
        if self.totp_secret is not None:
            body["totp_code"] = self.next_totp_code()
        answer = self.client.post("/api/auth/login", json=body)
        if answer.status_code == 200:
            self.adopt_session(answer)
        return answer

    def adopt_session(self, answer: httpx.Response) -> None:
        """Keep the session cookie and CSRF token a sign-in or setup answered with."""
        # The cookie is Secure: browsers send it to http://127.0.0.1, httpx only over https, so it is set by hand.
        self.client.cookies.set(SESSION_COOKIE, answer.cookies[SESSION_COOKIE])
        self.csrf = answer.json()["csrf_token"]

    def next_totp_code(self) -> str:
        """Return a code the hub accepts now and has not seen (each step is accepted once)."""
        assert self.totp_secret is not None
        while True:
            now = time.time()
            current = int(now // TOTP_STEP)
            step = current if self._last_totp_step is None else max(current - 1, self._last_totp_step + 1)
            if step == current - 1 and now % TOTP_STEP > TOTP_STEP - 5:
                step = current
            if step <= current + 1:
                self._last_totp_step = step
                return pyotp.TOTP(self.totp_secret).at(step * TOTP_STEP)
            time.sleep((step - 1) * TOTP_STEP - now + 0.5)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send a request as this person (with the CSRF header on anything that changes state)."""
        headers = dict(options.pop("headers", None) or {})
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self.client.request(method, url, headers=headers, **options)

    def get(self, url: str, **options: Any) -> httpx.Response:
        """GET as this person."""
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        """POST as this person."""
        return self.request("POST", url, **options)

    def delete(self, url: str, **options: Any) -> httpx.Response:
        """DELETE as this person."""
        return self.request("DELETE", url, **options)


@dataclass
class ServedHub:
    """A running `homewarden serve`: its address, config, log, and the people signed in to it."""

    process: subprocess.Popen[str]
    base_url: str
    config: Path
    storage: Path
    logged: list[str] = field(default_factory=list)
    owner: Caller | None = None
    callers: list[Caller] = field(default_factory=list)
    _drain: threading.Thread | None = None
    _names: int = 0
    # The review program's private key, held by the tests as the cloud would hold it.
    program_key: SigningKey | None = None

    def caller(self, username: str, password: str) -> Caller:
        """Return a person who is not signed in yet (their client is closed when the hub stops)."""
        person = Caller(self.base_url, username, password)
        self.callers.append(person)
        return person

    def anonymous(self) -> httpx.Client:
        """Return a client that has signed in as nobody."""
        return httpx.Client(
            base_url=self.base_url, timeout=60, follow_redirects=False, limits=ONE_CONNECTION_PER_REQUEST
        )

    def unique_name(self, prefix: str) -> str:
        """Return a user name no other test uses."""
        self._names += 1
        return f"{prefix}{self._names}"

    def new_member(self, cameras: list[str], name: str | None = None) -> Caller:
        """Add a household member through the owner's API and sign them in."""
        assert self.owner is not None
        person = self.caller(name or self.unique_name("member"), MEMBER[1])
        added = self.owner.post(
            "/api/members", json={"username": person.username, "password": person.password, "cameras": cameras}
        )
        assert added.status_code == 201, added.text
        signed_in = person.sign_in()
        assert signed_in.status_code == 200, signed_in.text
        return person

    def new_token(self, caller: Caller, scopes: list[str]) -> str:
        """Create an API token with the given scopes for ``caller``; return its value."""
        made = caller.post("/api/tokens", json={"name": self.unique_name("token"), "scopes": scopes})
        assert made.status_code == 201, made.text
        return str(made.json()["token"])

    def log_text(self) -> str:
        """Return what the hub has logged so far."""
        return "".join(self.logged)


def hub_config(folder: Path, extra_config: str = "") -> Path:
    """Write the config of a hub with two cameras looping real footage (the same room: it has people to find).

    ``extra_config``: more YAML sections for a hub that needs them (trusted proxies, limits).
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "homewarden.yaml"
    cameras = {
        FRONT: media_file("video/one-by-one-person-detection.mp4"),
        GARDEN: media_file("video/one-by-one-person-detection.mp4"),
    }
    lines = ["cameras:"]
    for name, source in cameras.items():
        lines += [f"  {name}:", f"    source: {json.dumps(str(source))}", "    loop: true"]
    lines += ["storage:", f"  folder: {json.dumps(str(folder / 'data'))}"]
    config.write_text("\n".join(lines) + "\n" + extra_config, encoding="utf-8")
    return config


def start_served_hub(
    folder: Path, extra_args: list[str] | None = None, extra_config: str = ""
) -> tuple[ServedHub, str]:
    """Start `homewarden serve` on a free port; return the hub and its one-time setup token."""
    config = hub_config(folder, extra_config)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "homewarden",
            "serve",
            "--config",
            str(config),
            "--port",
            str(free_port()),
            *(extra_args or []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    link = read_until(process, r"(https?://127\.0\.0\.1:\d+)/setup\?token=(\S+)", timeout=300)
    hub = ServedHub(process, link.group(1), config, folder / "data")
    hub._drain = threading.Thread(target=hub.logged.extend, args=(process.stdout,), daemon=True)
    hub._drain.start()
    return hub, link.group(2)


def stop_served_hub(hub: ServedHub) -> int:
    """SIGTERM the hub, wait for it and return its exit code."""
    hub.process.terminate()
    try:
        return hub.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        hub.process.kill()
        raise
    finally:
        if hub._drain is not None:
            hub._drain.join(timeout=10)
        if hub.process.stdout is not None:
            hub.process.stdout.close()
        for person in hub.callers:
            person.client.close()


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """Serve the hub under attack for the whole session; its owner is made through the setup link."""
    served, token = start_served_hub(tmp_path_factory.mktemp("attacked-hub"))
    try:
        owner = served.caller(*OWNER)
        done = owner.client.post(
            "/api/setup", json={"token": token, "username": owner.username, "password": owner.password}
        )
        assert done.status_code == 200, done.text
        owner.adopt_session(done)
        served.owner = owner
        served.program_key = SigningKey.generate()
        pair_storage_by_files(served.storage, served.program_key, f"http://127.0.0.1:{free_port()}")
        yield served
    finally:
        code = stop_served_hub(served)
    assert code == 0, served.log_text()


@pytest.fixture(scope="session")
def owner(hub: ServedHub) -> Caller:
    """Return the owner, signed in."""
    assert hub.owner is not None
    return hub.owner


@pytest.fixture(scope="session")
def member(hub: ServedHub) -> Caller:
    """Return the member who may watch only the front door, signed in."""
    return hub.new_member([FRONT], name=MEMBER[0])


def wait_for_events(owner: Caller, camera: str, deadline: float = EVENT_DEADLINE) -> list[dict[str, Any]]:
    """Wait until a camera has a finished event with a clip; return the camera's events."""
    started = time.monotonic()
    events: list[dict[str, Any]] = []
    while time.monotonic() - started < deadline:
        answer = owner.get("/api/events")
        assert answer.status_code == 200, answer.text
        events = [event for event in answer.json()["events"] if event["camera"] == camera]
        if any(event["ended_at"] and event["clips"] for event in events):
            return events
        time.sleep(2)
    raise AssertionError(f"no finished event with a clip on {camera} within {deadline} s: {events}")


@pytest.fixture(scope="session")
def front_event(hub: ServedHub, owner: Caller) -> dict[str, Any]:
    """Return a finished front-door event with a clip (the member may see it)."""
    return next(event for event in wait_for_events(owner, FRONT) if event["ended_at"] and event["clips"])


@pytest.fixture(scope="session")
def garden_event(hub: ServedHub, owner: Caller) -> dict[str, Any]:
    """Return a finished garden event with a clip (the member may not see it)."""
    return next(event for event in wait_for_events(owner, GARDEN) if event["ended_at"] and event["clips"])


@pytest.fixture(scope="session")
def donated_event(hub: ServedHub, owner: Caller, front_event: dict[str, Any]) -> dict[str, Any]:
    """Donate the front-door event through the consent flow (prepare, wait, preview, confirm); return the donation.

    The preview the owner watched is kept under ``"preview"``: it is what the cloud would receive.
    """
    started = owner.post(f"/api/events/{front_event['id']}/donation", json={})
    assert started.status_code == 202, started.text
    donation = started.json()
    # A deadline for a stuck hub, not a speed check: redaction takes both cores, for minutes on a shared machine.
    deadline = time.monotonic() + 900
    while donation["status"] not in ("ready", "donated") and time.monotonic() < deadline:
        assert donation["status"] not in ("failed", "withdrawn", "refused"), donation
        time.sleep(2)
        donation = owner.get(f"/api/donations/{donation['id']}").json()
    assert donation["status"] == "ready", donation
    preview = owner.get(f"/api/donations/{donation['id']}/preview.mp4")
    assert preview.status_code == 200, preview.text
    confirmed = owner.post(f"/api/donations/{donation['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return {**confirmed.json(), "preview": preview.content}
