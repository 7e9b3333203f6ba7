"""Who reaches what: every route of the app, called by every kind of caller, aimed at home A's events and cameras.

Home A is the hub's own home (owner olivia; member max, who sees the garden camera only). Home B is a second home on
the same hub (owner bob, camera shed). The review program's reviewers and admins are accounts of Homewarden Cloud,
not of the hub: no role here reaches a donated copy but the owner. A route added to the app without a row in MATRIX
fails test_matrix_covers_every_route.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx2 import Response
from nacl.signing import SigningKey

from api.conftest import (
    MEMBER_PASSWORD,
    Hub,
    csrf_of,
    hub_config,
    record_event,
    set_up_owner,
    sign_in,
)
from api.test_privacy import pair_by_files
from homewarden.api.app import create_app
from homewarden.api.deps import CSRF_HEADER, SESSION_COOKIE, check_every_route_has_a_policy
from homewarden.config.model import DoorbellConfig
from homewarden.events.record import EventRecord
from homewarden.hub.hub import init_services
from homewarden.notify.webhooks import WebhookStore
from homewarden.privacy.audit import Actor
from homewarden.store.crypto import Keyring
from homewarden.store.database import EventStore
from homewarden.store.viewing import ClipShares

PARTIES = ("anonymous", "olivia", "max", "bob", "max_token")
SIGNED_IN = ("olivia", "max", "bob")
A_FACE = "grandma"


@dataclass
class World:
    """Two homes on one hub, and a client for each of their people."""

    hub: Hub
    clients: dict[str, TestClient]
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, int]
    front_door: EventRecord
    garden: EventRecord
    shed: EventRecord
    spare_event: EventRecord
    olivia_token_id: int
    spare_token_id: int
    keyring: Keyring
    max_token: str
    donation: str
    spare_donation: str
    ready_donation: str
    rule: int
    spare_rule: int
    webhook: int
    spare_webhook: int
    bulk_doomed_event: EventRecord
    share: int
    # Spanning the front door and the garden: max sees only its garden part.
    intrusion: str

    def targets(self, party: str) -> dict[str, str]:
        """Return home A's resources a request may name; olivia's destructive calls get spares of the same kind."""
        olivia = party == "olivia"
        return {
            "party": party,
            "event": self.front_door.id,
            "intrusion": self.intrusion,
            "doomed_event": self.spare_event.id if olivia else self.front_door.id,
            "camera": "front_door",
            "member": str(self.user_ids["max"]),
            "doomed_member": str(self.user_ids["mia"] if olivia else self.user_ids["max"]),
            "token": str(self.olivia_token_id),
            "doomed_token": str(self.spare_token_id if olivia else self.olivia_token_id),
            "face": A_FACE,
            "donation": self.donation,
            "doomed_donation": self.spare_donation if olivia else self.donation,
            "ready_donation": self.ready_donation,
            "rule": str(self.rule),
            "doomed_rule": str(self.spare_rule if olivia else self.rule),
            "webhook": str(self.webhook),
            "doomed_webhook": str(self.spare_webhook if olivia else self.webhook),
            "bulk_doomed_event": self.bulk_doomed_event.id if olivia else self.front_door.id,
            "share": str(self.share),
        }

    def home_a_identifiers(self, party: str) -> set[str]:
        """Return what of home A the party must never read (max may know his home, not the front door)."""
        if party == "olivia":
            return set()
        front_door = {self.front_door.id, self.spare_event.id, self.bulk_doomed_event.id, "front_door"}
        if party in ("max", "max_token"):
            return front_door
        return front_door | {self.garden.id, "garden", "olivia", "max", "mia"}

    def home_b_identifiers(self, party: str) -> set[str]:
        """Return what of home B the party must never read."""
        return set() if party == "bob" else {self.shed.id, "shed", "bob"}

    def send(self, party: str, call: Call) -> Response:
        """Make the call as ``party``; a call that ends sessions gets a session of its own."""
        headers = dict(self.headers[party])
        client = self.clients[party]
        if call.ends_sessions and party in SIGNED_IN:
            # Logging out (everywhere) would end the session every other row uses: mint a fresh one for this call.
            session, csrf = self.hub.services.accounts.create_session(self.user_ids[party])
            client = self.hub.client()
            headers = {"Cookie": f"{SESSION_COOKIE}={session}", CSRF_HEADER: csrf}
        return client.request(
            call.method,
            call.url.format(**self.targets(party)),
            json=_fill(call.json, self.targets(party)),
            files=call.files,
            data=call.data,
            headers={**headers, **call.headers},
            follow_redirects=False,
        )


def _fill(value: Any, targets: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**targets)
    if isinstance(value, dict):
        return {key: _fill(item, targets) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, targets) for item in value]
    return value


@dataclass(frozen=True)
class Call:
    """One request; ``{event}``, ``{camera}``... in the URL and body are filled from World.targets."""

    method: str
    url: str
    json: Any = None
    files: Any = None
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    ends_sessions: bool = False


@dataclass(frozen=True)
class Row:
    """A route's call and the status each party must get (None: not called, the reason is beside the row)."""

    call: Call
    expect: dict[str, int | None]
    undo: Callable[[World, str], None] | None = None


def who(*, anonymous: int, olivia: int | None, max: int, bob: int, token: int) -> dict[str, int | None]:
    """Spell out a row's statuses."""
    return {"anonymous": anonymous, "olivia": olivia, "max": max, "bob": bob, "max_token": token}


def everyone(status: int) -> dict[str, int | None]:
    """Expect the same status from every party (public routes)."""
    return dict.fromkeys(PARTIES, status)


def household_page(owner_only: bool = False) -> dict[str, int | None]:
    """Pages are shells whose data comes from the API: anonymous goes to sign in, a member to a 403 page."""
    return who(anonymous=303, olivia=200, max=403 if owner_only else 200, bob=200, token=403)


def schema_readers_only() -> dict[str, int | None]:
    """Expect 200 for owners, 404 for members, 401 anonymous, 403 for API tokens."""
    return who(anonymous=401, olivia=200, max=404, bob=200, token=403)


def _tiny_jpeg() -> bytes:
    ok, jpeg = cv2.imencode(".jpg", np.full((32, 32, 3), 128, np.uint8))
    assert ok
    return bytes(jpeg.tobytes())


def _hold_key_again(world: World, party: str) -> None:
    """Unlock the recordings again after olivia locked them (the other parties' locks were refused)."""
    world.hub.services.keys.hold(world.keyring)


def _pair_again(world: World, party: str) -> None:
    """Pair the hub again (by its files) after olivia unpaired it: the donation rows need a paired hub."""
    if party == "olivia":
        pair_by_files(world.hub, SigningKey.generate())


def _new_session(world: World, party: str) -> None:
    """Give the party's client a new session: signing out everywhere ended the one every row uses."""
    if party in SIGNED_IN:
        session, csrf = world.hub.services.accounts.create_session(world.user_ids[party])
        world.clients[party].cookies.clear()
        world.clients[party].cookies.set(SESSION_COOKIE, session)
        world.headers[party] = {CSRF_HEADER: csrf}


def _give_max_his_password_back(world: World, party: str) -> None:
    """Undo olivia's reset of max (it ended his session and password), which every other row uses."""
    if party == "olivia":
        world.hub.services.accounts.reset_password(world.user_ids["max"], MEMBER_PASSWORD)
        _new_session(world, "max")


NEW_PASSWORD = "a brand new password 1234"
# A browser's push subscription keys: a P-256 public point and a 16-byte auth secret, base64url.
PUSH_KEYS = {
    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
    "auth": "tBHItJI5svbpez7KI4CCXg",
}
WRONG_PASSWORD = "not my password at all"

MATRIX: dict[tuple[str, str], Row] = {
    # public
    ("GET", "/api/health"): Row(Call("GET", "/api/health"), everyone(200)),
    ("GET", "/api/setup/status"): Row(Call("GET", "/api/setup/status"), everyone(200)),
    ("POST", "/api/setup"): Row(
        Call("POST", "/api/setup", json={"token": "guessed", "username": "mallory", "password": NEW_PASSWORD}),
        everyone(403),
    ),
    ("POST", "/api/setup/restore"): Row(
        Call(
            "POST",
            "/api/setup/restore",
            json={
                "token": "guessed",
                "cloud_url": "http://127.0.0.1:9",
                "pairing_code": "AAAA-BBBB-CCCC",
                "username": "mallory",
                "password": NEW_PASSWORD,
            },
        ),
        everyone(403),
    ),
    ("GET", "/api/setup/restore/{restore_id}"): Row(Call("GET", "/api/setup/restore/guessed"), everyone(404)),
    # One user name per party, so the sign-in throttle (5 failures a name) never answers 429 here.
    ("POST", "/api/auth/login"): Row(
        Call("POST", "/api/auth/login", json={"username": "nobody-{party}", "password": WRONG_PASSWORD}),
        everyone(401),
    ),
    ("POST", "/api/password-links/check"): Row(
        Call("POST", "/api/password-links/check", json={"token": "guessed-{party}"}), everyone(404)
    ),
    ("POST", "/api/password-links/use"): Row(
        Call("POST", "/api/password-links/use", json={"token": "guessed-{party}", "password": NEW_PASSWORD}),
        everyone(404),
    ),
    # A recovery key of the wrong form: refused before it counts as a guess (tests/security has the guessing).
    ("POST", "/api/recover"): Row(
        Call("POST", "/api/recover", json={"recovery_key": "not a key", "new_password": NEW_PASSWORD}),
        everyone(400),
    ),
    ("POST", "/api/auth/logout"): Row(Call("POST", "/api/auth/logout", ends_sessions=True), everyone(200)),
    # the caller's own account
    ("POST", "/api/auth/logout-everywhere"): Row(
        Call("POST", "/api/auth/logout-everywhere", ends_sessions=True),
        who(anonymous=401, olivia=200, max=200, bob=200, token=403),
        undo=_new_session,
    ),
    ("GET", "/api/me"): Row(Call("GET", "/api/me"), who(anonymous=401, olivia=200, max=200, bob=200, token=200)),
    # Null: follow the browser, as every test account does already.
    ("PATCH", "/api/me"): Row(
        Call("PATCH", "/api/me", json={"language": None}), who(anonymous=401, olivia=200, max=200, bob=200, token=403)
    ),
    ("POST", "/api/me/password"): Row(
        Call("POST", "/api/me/password", json={"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD}),
        who(anonymous=401, olivia=400, max=400, bob=400, token=403),
    ),
    # A wrong password: two-factor enrolment needs the password (a failure each, well under the throttle's 20).
    ("POST", "/api/me/totp"): Row(
        Call("POST", "/api/me/totp", json={"password": WRONG_PASSWORD}),
        who(anonymous=401, olivia=400, max=400, bob=400, token=403),
    ),
    ("POST", "/api/me/totp/confirm"): Row(
        Call("POST", "/api/me/totp/confirm", json={"code": "abcdef"}),
        who(anonymous=401, olivia=400, max=400, bob=400, token=403),
    ),
    ("DELETE", "/api/me/totp"): Row(
        Call("DELETE", "/api/me/totp", json={"password": WRONG_PASSWORD, "code": "abcdef"}),
        who(anonymous=401, olivia=400, max=400, bob=400, token=403),
    ),
    ("GET", "/api/tokens"): Row(
        Call("GET", "/api/tokens"), who(anonymous=401, olivia=200, max=200, bob=200, token=403)
    ),
    ("POST", "/api/tokens"): Row(
        Call("POST", "/api/tokens", json={"name": "matrix", "scopes": ["events:read"]}),
        who(anonymous=401, olivia=201, max=201, bob=201, token=403),
    ),
    ("DELETE", "/api/tokens/{token_id}"): Row(
        Call("DELETE", "/api/tokens/{doomed_token}"),
        who(anonymous=401, olivia=200, max=404, bob=404, token=403),
    ),
    # events and their media
    ("GET", "/api/events"): Row(
        Call("GET", "/api/events"), who(anonymous=401, olivia=200, max=200, bob=200, token=200)
    ),
    ("GET", "/api/events/{event_id}"): Row(
        Call("GET", "/api/events/{event}"), who(anonymous=401, olivia=200, max=404, bob=404, token=404)
    ),
    ("DELETE", "/api/events/{event_id}"): Row(
        Call("DELETE", "/api/events/{doomed_event}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/events/{event_id}/snapshot.jpg"): Row(
        Call("GET", "/api/events/{event}/snapshot.jpg"),
        who(anonymous=401, olivia=200, max=404, bob=404, token=404),
    ),
    ("GET", "/api/events/{event_id}/clips/{index}.mp4"): Row(
        Call("GET", "/api/events/{event}/clips/0.mp4", headers={"Range": "bytes=0-99"}),
        who(anonymous=401, olivia=206, max=404, bob=404, token=404),
    ),
    ("GET", "/api/events/{event_id}/clips/{index}/h264.mp4"): Row(
        Call("GET", "/api/events/{event}/clips/0/h264.mp4", headers={"Range": "bytes=0-99"}),
        who(anonymous=401, olivia=206, max=404, bob=404, token=404),
    ),
    # the review flow (issue 17): previous/next, reviewed marks, bulk deletion, downloads and share links
    ("GET", "/api/events/{event_id}/neighbours"): Row(
        Call("GET", "/api/events/{event}/neighbours"),
        who(anonymous=401, olivia=200, max=404, bob=404, token=404),
    ),
    ("PUT", "/api/events/reviewed"): Row(
        Call("PUT", "/api/events/reviewed", json={"event_ids": ["{event}"]}),
        who(anonymous=401, olivia=200, max=404, bob=404, token=403),
    ),
    ("POST", "/api/events/delete"): Row(
        Call("POST", "/api/events/delete", json={"event_ids": ["{bulk_doomed_event}"]}),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/events/{event_id}/clips/{index}/download"): Row(
        Call("GET", "/api/events/{event}/clips/0/download", headers={"Range": "bytes=0-99"}),
        who(anonymous=401, olivia=206, max=404, bob=404, token=404),
    ),
    ("POST", "/api/events/{event_id}/shares"): Row(
        Call("POST", "/api/events/{event}/shares", json={"hours": 1}),
        who(anonymous=401, olivia=201, max=403, bob=404, token=403),
    ),
    ("GET", "/api/events/{event_id}/shares"): Row(
        Call("GET", "/api/events/{event}/shares"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("DELETE", "/api/events/{event_id}/shares/{share_id}"): Row(
        Call("DELETE", "/api/events/{event}/shares/{share}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    # Nobody's session opens a share link; only its token does (tests/security/test_shares.py).
    ("GET", "/shared/{token}"): Row(Call("GET", "/shared/" + "A" * 43), everyone(404)),
    # intrusions: the timeline by intrusion (max sees the garden's part of the front door's and garden's one)
    ("GET", "/api/intrusions"): Row(
        Call("GET", "/api/intrusions"), who(anonymous=401, olivia=200, max=200, bob=200, token=200)
    ),
    ("GET", "/api/intrusions/{intrusion_id}"): Row(
        Call("GET", "/api/intrusions/{intrusion}"),
        who(anonymous=401, olivia=200, max=200, bob=404, token=200),
    ),
    # live view (the cameras do not run here: the owner's snapshot is 503, no frame yet)
    ("GET", "/api/cameras"): Row(
        Call("GET", "/api/cameras"), who(anonymous=401, olivia=200, max=200, bob=200, token=403)
    ),
    ("GET", "/api/cameras/{name}/snapshot.jpg"): Row(
        Call("GET", "/api/cameras/{camera}/snapshot.jpg"),
        who(anonymous=401, olivia=503, max=404, bob=404, token=403),
    ),
    # Olivia is not called: her stream waits for frames until the viewer leaves (the snapshot row shows she passes).
    ("GET", "/api/cameras/{name}/stream.mjpg"): Row(
        Call("GET", "/api/cameras/{camera}/stream.mjpg"),
        who(anonymous=401, olivia=None, max=404, bob=404, token=403),
    ),
    # household settings
    ("GET", "/api/faces"): Row(Call("GET", "/api/faces"), who(anonymous=401, olivia=200, max=403, bob=404, token=403)),
    ("POST", "/api/faces"): Row(
        Call("POST", "/api/faces", data={"name": A_FACE}, files=[("photos", ("grey.jpg", _tiny_jpeg(), "image/jpeg"))]),
        who(anonymous=401, olivia=400, max=403, bob=404, token=403),
    ),
    ("DELETE", "/api/faces/{name}"): Row(
        Call("DELETE", "/api/faces/{face}"), who(anonymous=401, olivia=404, max=403, bob=404, token=403)
    ),
    ("GET", "/api/arming"): Row(
        Call("GET", "/api/arming"), who(anonymous=401, olivia=200, max=200, bob=200, token=403)
    ),
    ("PUT", "/api/arming"): Row(
        Call("PUT", "/api/arming", json={"mode": "home"}),
        who(anonymous=401, olivia=200, max=200, bob=200, token=403),
    ),
    ("PUT", "/api/arming/schedule"): Row(
        Call(
            "PUT",
            "/api/arming/schedule",
            json={"entries": [{"days": ["mon"], "at": "07:00", "mode": "home"}], "timezone": "UTC"},
        ),
        who(anonymous=401, olivia=200, max=403, bob=200, token=403),
    ),
    ("GET", "/api/storage"): Row(
        Call("GET", "/api/storage"), who(anonymous=401, olivia=200, max=403, bob=404, token=403)
    ),
    ("GET", "/api/settings"): Row(
        Call("GET", "/api/settings"), who(anonymous=401, olivia=200, max=403, bob=404, token=403)
    ),
    ("PATCH", "/api/settings"): Row(
        Call("PATCH", "/api/settings", json={"cameras": {"front_door": {"name": "Front door"}}}),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    # A closed port: the owner's connection test runs and fails at once (422), nothing is added.
    ("POST", "/api/settings/camera-test"): Row(
        Call("POST", "/api/settings/camera-test", json={"source": "rtsp://127.0.0.1:1/live"}),
        who(anonymous=401, olivia=422, max=403, bob=404, token=403),
    ),
    ("POST", "/api/settings/cameras"): Row(
        Call("POST", "/api/settings/cameras", json={"id": "porch", "source": "rtsp://127.0.0.1:1/live"}),
        who(anonymous=401, olivia=422, max=403, bob=404, token=403),
    ),
    ("POST", "/api/settings/reload"): Row(
        Call("POST", "/api/settings/reload"), who(anonymous=401, olivia=200, max=403, bob=404, token=403)
    ),
    # No such camera in the file: olivia passes the policy and is told so (404); nothing is removed.
    ("DELETE", "/api/settings/cameras/{camera_id}"): Row(
        Call("DELETE", "/api/settings/cameras/porch"), who(anonymous=401, olivia=404, max=403, bob=404, token=403)
    ),
    ("GET", "/api/offsite"): Row(
        Call("GET", "/api/offsite"), who(anonymous=401, olivia=200, max=403, bob=404, token=403)
    ),
    # Olivia passes the policy and is refused only for the address, which is not a cloud's (400).
    ("POST", "/api/offsite/pairing"): Row(
        Call("POST", "/api/offsite/pairing", json={"cloud_url": "ftp://nowhere", "code": "AAAA-BBBB-CCCC"}),
        who(anonymous=401, olivia=400, max=403, bob=404, token=403),
    ),
    # The hub is paired (by its files, with a cloud that is not running): olivia unpairs, the cloud is not told.
    ("DELETE", "/api/offsite/pairing"): Row(
        Call("DELETE", "/api/offsite/pairing"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
        undo=_pair_again,
    ),
    ("GET", "/api/members"): Row(
        Call("GET", "/api/members"), who(anonymous=401, olivia=200, max=403, bob=200, token=403)
    ),
    # Bob asks for a member of his home who sees home A's front door: refused, his home has no such camera.
    ("POST", "/api/members"): Row(
        Call(
            "POST",
            "/api/members",
            json={"username": "new-{party}", "password": NEW_PASSWORD, "cameras": ["{camera}"]},
        ),
        who(anonymous=401, olivia=201, max=403, bob=400, token=403),
    ),
    ("POST", "/api/members/invite"): Row(
        Call("POST", "/api/members/invite", json={"username": "invited-{party}", "cameras": ["{camera}"]}),
        who(anonymous=401, olivia=201, max=403, bob=400, token=403),
    ),
    ("POST", "/api/members/{user_id}/reset-link"): Row(
        Call("POST", "/api/members/{member}/reset-link"),
        who(anonymous=401, olivia=201, max=403, bob=404, token=403),
        undo=_give_max_his_password_back,
    ),
    ("PATCH", "/api/members/{user_id}"): Row(
        Call("PATCH", "/api/members/{member}", json={"cameras": ["garden"]}),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("DELETE", "/api/members/{user_id}"): Row(
        Call("DELETE", "/api/members/{doomed_member}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/home"): Row(Call("GET", "/api/home"), who(anonymous=401, olivia=200, max=200, bob=200, token=403)),
    ("PUT", "/api/home/timezone"): Row(
        Call("PUT", "/api/home/timezone", json={"timezone": "Europe/Berlin"}),
        who(anonymous=401, olivia=200, max=403, bob=200, token=403),
    ),
    ("POST", "/api/home/unlock"): Row(
        Call("POST", "/api/home/unlock", json={"passphrase": WRONG_PASSWORD}),
        who(anonymous=401, olivia=400, max=403, bob=404, token=403),
    ),
    ("POST", "/api/home/lock"): Row(
        Call("POST", "/api/home/lock"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
        undo=_hold_key_again,
    ),
    # the owner's side of the review program
    ("POST", "/api/events/{event_id}/donation"): Row(
        Call("POST", "/api/events/{event}/donation", json={}),
        who(anonymous=401, olivia=409, max=403, bob=404, token=403),
    ),
    ("POST", "/api/events/{event_id}/false-alarm"): Row(
        Call("POST", "/api/events/{event}/false-alarm"),
        who(anonymous=401, olivia=200, max=404, bob=404, token=403),
    ),
    ("POST", "/api/events/{event_id}/person"): Row(
        Call("POST", "/api/events/{event}/person", json={"name": "Olivia"}),
        who(anonymous=401, olivia=200, max=404, bob=404, token=403),
    ),
    ("GET", "/api/donations"): Row(
        Call("GET", "/api/donations"), who(anonymous=401, olivia=200, max=403, bob=200, token=403)
    ),
    ("GET", "/api/donations/{donation_id}"): Row(
        Call("GET", "/api/donations/{donation}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/donations/{donation_id}/preview.mp4"): Row(
        Call("GET", "/api/donations/{ready_donation}/preview.mp4"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("POST", "/api/donations/{donation_id}/confirm"): Row(
        Call("POST", "/api/donations/{donation}/confirm"),
        who(anonymous=401, olivia=409, max=403, bob=404, token=403),
    ),
    ("DELETE", "/api/donations/{donation_id}"): Row(
        Call("DELETE", "/api/donations/{doomed_donation}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/privacy/rules"): Row(
        Call("GET", "/api/privacy/rules"), who(anonymous=401, olivia=200, max=403, bob=200, token=403)
    ),
    # Bob names home A's camera in a rule of his own home: refused.
    ("POST", "/api/privacy/rules"): Row(
        Call("POST", "/api/privacy/rules", json={"camera": "{camera}", "trigger": "false_alarm"}),
        who(anonymous=401, olivia=201, max=403, bob=422, token=403),
    ),
    ("DELETE", "/api/privacy/rules/{rule_id}"): Row(
        Call("DELETE", "/api/privacy/rules/{doomed_rule}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/privacy/access-log"): Row(
        Call("GET", "/api/privacy/access-log"),
        who(anonymous=401, olivia=200, max=403, bob=200, token=403),
    ),
    ("GET", "/api/privacy/access-summary"): Row(
        Call("GET", "/api/privacy/access-summary"),
        who(anonymous=401, olivia=200, max=403, bob=200, token=403),
    ),
    ("GET", "/api/privacy/notices"): Row(
        Call("GET", "/api/privacy/notices"),
        who(anonymous=401, olivia=200, max=403, bob=200, token=403),
    ),
    # notifications: webhooks are the owner's, push subscriptions each household user's own
    ("GET", "/api/webhooks"): Row(
        Call("GET", "/api/webhooks"), who(anonymous=401, olivia=200, max=403, bob=200, token=403)
    ),
    ("POST", "/api/webhooks"): Row(
        Call("POST", "/api/webhooks", json={"url": "https://hooks.example.net/{party}"}),
        who(anonymous=401, olivia=201, max=403, bob=201, token=403),
    ),
    ("DELETE", "/api/webhooks/{webhook_id}"): Row(
        Call("DELETE", "/api/webhooks/{doomed_webhook}"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("GET", "/api/webhooks/{webhook_id}/deliveries"): Row(
        Call("GET", "/api/webhooks/{webhook}/deliveries"),
        who(anonymous=401, olivia=200, max=403, bob=404, token=403),
    ),
    ("POST", "/api/webhooks/{webhook_id}/test"): Row(
        Call("POST", "/api/webhooks/{webhook}/test"),
        who(anonymous=401, olivia=202, max=403, bob=404, token=403),
    ),
    ("GET", "/api/push/key"): Row(
        Call("GET", "/api/push/key"), who(anonymous=401, olivia=200, max=200, bob=200, token=403)
    ),
    ("POST", "/api/push/subscriptions"): Row(
        Call(
            "POST", "/api/push/subscriptions", json={"endpoint": "https://push.example.net/{party}", "keys": PUSH_KEYS}
        ),
        who(anonymous=401, olivia=201, max=201, bob=201, token=403),
    ),
    ("DELETE", "/api/push/subscriptions"): Row(
        Call("DELETE", "/api/push/subscriptions", json={"endpoint": "https://push.example.net/{party}"}),
        who(anonymous=401, olivia=200, max=200, bob=200, token=403),
    ),
    ("GET", "/sw.js"): Row(Call("GET", "/sw.js"), everyone(200)),
    # doorbells and voice: the bell "front" rings the front door, which max may not watch; no camera runs here
    ("POST", "/api/doorbells/{bell}/press"): Row(
        Call("POST", "/api/doorbells/front/press"),
        who(anonymous=401, olivia=503, max=404, bob=404, token=403),
    ),
    # Max and bob are told they have no such camera, as if it did not exist.
    ("POST", "/api/conversation/process"): Row(
        Call("POST", "/api/conversation/process", json={"text": "who is at the front door?"}),
        who(anonymous=401, olivia=200, max=200, bob=200, token=403),
    ),
    # pages
    ("GET", "/login"): Row(Call("GET", "/login"), everyone(200)),
    ("GET", "/manifest.json"): Row(Call("GET", "/manifest.json"), everyone(200)),
    ("GET", "/setup"): Row(Call("GET", "/setup"), everyone(200)),
    ("GET", "/set-password"): Row(Call("GET", "/set-password"), everyone(200)),
    ("GET", "/recover"): Row(Call("GET", "/recover"), everyone(200)),
    # The API's description: owners only; members get 404 (Weak: it was public).
    ("GET", "/api/openapi.json"): Row(Call("GET", "/api/openapi.json"), schema_readers_only()),
    ("GET", "/api/docs"): Row(Call("GET", "/api/docs"), schema_readers_only()),
    ("GET", "/"): Row(Call("GET", "/"), household_page()),
    ("GET", "/events/{event_id}"): Row(Call("GET", "/events/{event}"), household_page()),
    ("GET", "/live"): Row(Call("GET", "/live"), household_page()),
    ("GET", "/faces"): Row(Call("GET", "/faces"), household_page(owner_only=True)),
    ("GET", "/arming"): Row(Call("GET", "/arming"), household_page()),
    ("GET", "/storage"): Row(Call("GET", "/storage"), household_page(owner_only=True)),
    ("GET", "/members"): Row(Call("GET", "/members"), household_page(owner_only=True)),
    ("GET", "/privacy"): Row(Call("GET", "/privacy"), household_page(owner_only=True)),
    ("GET", "/settings"): Row(Call("GET", "/settings"), household_page(owner_only=True)),
    ("GET", "/events/{event_id}/donate"): Row(Call("GET", "/events/{event}/donate"), household_page(owner_only=True)),
    ("GET", "/account"): Row(Call("GET", "/account"), who(anonymous=303, olivia=200, max=200, bob=200, token=403)),
}
# Routes that are not APIRoutes skip the app's authorize dependency: they must stay these, and public by nature.
PLAIN_ROUTES = {"/static"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Build both homes once (Argon2 makes every account and sign-in cost tens of milliseconds)."""
    folder = tmp_path_factory.mktemp("authorization")
    config = hub_config(folder).model_copy(update={"doorbells": {"front": DoorbellConfig(camera="front_door")}})
    store = EventStore.open(config.storage.resolved_database_url())
    try:
        hub = Hub(init_services(config, store, None), folder)
        # The settings routes read and write the hub's config file.
        hub.services.config_path = folder / "homewarden.yaml"
        hub.services.config_path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True)))
        accounts = hub.services.accounts
        home_a = hub.services.hub_home_id
        clients = {"olivia": set_up_owner(hub), "anonymous": hub.client(), "max_token": hub.client()}
        users = {
            "max": accounts.create_user("max", MEMBER_PASSWORD, "member", home_a, ["garden"]),
            "mia": accounts.create_user("mia", MEMBER_PASSWORD, "member", home_a, ["garden"]),
            "bob": accounts.create_user("bob", MEMBER_PASSWORD, "owner", accounts.create_home("Other home", ["shed"])),
        }
        for name in ("max", "bob"):
            clients[name] = sign_in(hub, name, MEMBER_PASSWORD)
        olivia_id = clients["olivia"].get("/api/me").json()["id"]
        max_token = accounts.create_token(users["max"].id, "integration", ["events:read", "media:read"])[1]
        headers = {name: csrf_of(clients[name]) for name in SIGNED_IN}
        headers["anonymous"] = {}
        headers["max_token"] = {"Authorization": f"Bearer {max_token}"}
        keyring = hub.services.keys.keyring
        assert keyring is not None
        intrusion = uuid.uuid4().hex
        front_door = record_event(hub, "front_door", intrusion=intrusion)
        donations = hub.services.donations
        assert donations is not None
        pair_by_files(hub, SigningKey.generate())
        olivia_actor = Actor("owner", "olivia")
        donation = donations.start(home_a, front_door, False, olivia_actor).id
        spare_event = record_event(hub, "front_door", label="car")
        spare = donations.start(home_a, spare_event, False, olivia_actor).id
        ready = donations.start(home_a, record_event(hub, "front_door", label="dog"), False, olivia_actor).id
        donations.wait_idle()
        donations.confirm(home_a, donation, olivia_actor)
        rules = [donations.add_rule(home_a, "garden", "label", "cat", False, olivia_actor).id for _ in range(2)]
        webhooks = WebhookStore(store.engine)
        hooks = [webhooks.create(home_a, f"https://hooks.example.net/a{n}", ["alarm"])[0].id for n in range(2)]
        yield World(
            hub=hub,
            clients=clients,
            headers=headers,
            user_ids={"olivia": olivia_id, **{name: user.id for name, user in users.items()}},
            front_door=front_door,
            garden=record_event(hub, "garden", intrusion=intrusion),
            shed=record_event(hub, "shed"),
            spare_event=spare_event,
            olivia_token_id=accounts.create_token(olivia_id, "home assistant", ["events:read"])[0].id,
            spare_token_id=accounts.create_token(olivia_id, "old phone", ["events:read"])[0].id,
            keyring=keyring,
            max_token=max_token,
            intrusion=intrusion,
            donation=donation,
            spare_donation=spare,
            ready_donation=ready,
            rule=rules[0],
            spare_rule=rules[1],
            webhook=hooks[0],
            spare_webhook=hooks[1],
            bulk_doomed_event=record_event(hub, "front_door", label="dog"),
            share=ClipShares(store.engine).create(front_door.id, 0, olivia_id, timedelta(days=1))[0].id,
        )
        donations.close()
    finally:
        store.close()


def _mentions(text: str, identifiers: set[str]) -> set[str]:
    """Return the identifiers in ``text`` as whole words ("max" is not in "maxlength" or the attribute max=)."""
    return {name for name in identifiers if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w=-])", text)}


def test_matrix_covers_every_route(world: World) -> None:
    app = create_app(world.hub.services)
    contexts = list(iter_route_contexts(app.routes))
    routed = {
        (method, context.path)
        for context in contexts
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    assert len(routed) >= 40
    assert routed == set(MATRIX), "every route needs a row in MATRIX (missing, then stale rows)" + repr(
        (sorted(routed - set(MATRIX)), sorted(set(MATRIX) - routed))
    )
    plain = {context.path for context in contexts if not isinstance(context.original_route, APIRoute)}
    assert plain == PLAIN_ROUTES
    for row in MATRIX.values():
        assert set(row.expect) == set(PARTIES)


def test_a_route_without_a_policy_stops_the_app_from_starting() -> None:
    # Included routers are nodes of app.routes since FastAPI 0.137: the check must look inside them.
    router = APIRouter(prefix="/api/forgotten")

    @router.get("/{thing}")
    def forgotten(thing: str) -> str:
        return thing

    app = FastAPI()
    app.include_router(router)
    with pytest.raises(RuntimeError, match=re.escape("/api/forgotten/{thing}")):
        check_every_route_has_a_policy(app)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=" ".join)
def test_each_party_gets_what_the_matrix_says_and_nothing_of_another_home(world: World, route: tuple[str, str]) -> None:
    row = MATRIX[route]
    wrong = []
    for party in PARTIES:
        expected = row.expect[party]
        if expected is None:
            continue
        response = world.send(party, row.call)
        if row.undo is not None:
            row.undo(world, party)
        if response.status_code != expected:
            wrong.append(f"{party}: {response.status_code} (expected {expected}) {response.text[:160]}")
        if expected == 303:
            assert response.headers["location"].startswith("/login?next="), party
        # What the request itself named may come back ("no event 'x'"); anything else of another home may not.
        asked = row.call.url.format(**world.targets(party)) + repr(_fill(row.call.json, world.targets(party)))
        kind = response.headers.get("content-type", "")
        if kind.startswith(("image/", "video/")):
            if party != "olivia":
                wrong.append(f"{party}: got {kind}")
            continue
        text = response.text
        leaked = _mentions(text, world.home_a_identifiers(party) | world.home_b_identifiers(party))
        leaked = {name for name in leaked if name not in asked}
        if leaked:
            wrong.append(f"{party}: the answer names {sorted(leaked)}: {response.text[:300]}")
    assert not wrong, "\n".join(wrong)


# A route that names a resource of home A must answer exactly as if the resource did not exist.
FOREIGN_IDS = [
    (("GET", "/api/events/{event}"), "event"),
    (("DELETE", "/api/events/{event}"), "event"),
    (("GET", "/api/events/{event}/snapshot.jpg"), "event"),
    (("GET", "/api/events/{event}/clips/0.mp4"), "event"),
    (("GET", "/api/events/{event}/clips/0/h264.mp4"), "event"),
    (("GET", "/api/events/{event}/neighbours"), "event"),
    (("GET", "/api/events/{event}/clips/0/download"), "event"),
    (("GET", "/api/events/{event}/shares"), "event"),
    (("POST", "/api/events/{event}/shares"), "event"),
    (("GET", "/api/cameras/{camera}/snapshot.jpg"), "camera"),
    (("GET", "/api/cameras/{camera}/stream.mjpg"), "camera"),
    (("DELETE", "/api/tokens/{token}"), "token"),
    (("PATCH", "/api/members/{member}"), "member"),
    (("DELETE", "/api/members/{member}"), "member"),
    (("POST", "/api/members/{member}/reset-link"), "member"),
    (("GET", "/api/webhooks/{webhook}/deliveries"), "webhook"),
    (("POST", "/api/webhooks/{webhook}/test"), "webhook"),
    (("DELETE", "/api/webhooks/{webhook}"), "webhook"),
]


@pytest.mark.parametrize(("request_line", "kind"), FOREIGN_IDS, ids=[" ".join(line) for line, _ in FOREIGN_IDS])
@pytest.mark.parametrize("party", ["max", "bob", "max_token"])
def test_another_homes_id_answers_like_one_that_does_not_exist(
    world: World, request_line: tuple[str, str], kind: str, party: str
) -> None:
    method, url = request_line
    real = world.targets(party)[kind]
    made_up = {
        "event": str(uuid.uuid4()),
        "camera": "back_yard",
        "token": "987654",
        "member": "987654",
        "webhook": "987654",
    }[kind]
    body = {"cameras": ["garden"]} if method == "PATCH" else None
    answers = [
        world.send(party, Call(method, url.replace("{" + kind + "}", value), json=body)) for value in (real, made_up)
    ]
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].text.replace(real, made_up) == answers[1].text


def test_owner_plays_her_own_event(world: World) -> None:
    olivia = world.clients["olivia"]
    event = olivia.get(f"/api/events/{world.front_door.id}")
    assert event.status_code == 200
    assert event.json()["camera"] == "front_door"
    clip_url = event.json()["clips"][0]["url"]
    part = olivia.get(clip_url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert re.fullmatch(r"bytes 0-99/\d+", part.headers["content-range"])
    assert len(part.content) == 100
    assert part.content[4:8] == b"ftyp"
    whole = olivia.get(clip_url)
    assert whole.status_code == 200
    assert whole.content[:100] == part.content
    snapshot = olivia.get(event.json()["snapshot_url"])
    assert snapshot.status_code == 200
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content[:2] == b"\xff\xd8"
    assert [camera["name"] for camera in olivia.get("/api/cameras").json()] == ["front_door", "garden"]


def _listed(client: TestClient, headers: dict[str, str] | None = None, **query: str) -> set[tuple[str, str]]:
    response = client.get("/api/events", params=query, headers=headers)
    assert response.status_code == 200
    return {(event["camera"], event["id"]) for event in response.json()["events"]}


def test_each_caller_lists_only_the_events_of_cameras_they_may_watch(world: World) -> None:
    olivia = _listed(world.clients["olivia"])
    assert ("front_door", world.front_door.id) in olivia
    assert ("garden", world.garden.id) in olivia
    assert {camera for camera, _ in olivia} == {"front_door", "garden"}
    assert _listed(world.clients["max"]) == {("garden", world.garden.id)}
    assert _listed(world.clients["bob"]) == {("shed", world.shed.id)}
    assert _listed(world.clients["max"], camera="front_door") == set()
    assert [camera["name"] for camera in world.clients["max"].get("/api/cameras").json()] == ["garden"]
    assert [camera["name"] for camera in world.clients["bob"].get("/api/cameras").json()] == ["shed"]


def test_a_members_api_token_reaches_only_the_members_cameras(world: World) -> None:
    integration = world.hub.client()
    bearer = {"Authorization": f"Bearer {world.max_token}"}
    assert _listed(integration, bearer) == {("garden", world.garden.id)}
    assert _listed(integration, bearer, camera="front_door") == set()
    for path in ("", "/snapshot.jpg", "/clips/0.mp4", "/clips/0/h264.mp4"):
        assert integration.get(f"/api/events/{world.front_door.id}{path}", headers=bearer).status_code == 404
        assert integration.get(f"/api/events/{world.garden.id}{path}", headers=bearer).status_code == 200
    # A bearer token is not a session: a forged cookie beside it changes nothing, and CSRF is not asked for.
    forged = {**bearer, "Cookie": f"{SESSION_COOKIE}=made-up"}
    assert integration.get(f"/api/events/{world.front_door.id}", headers=forged).status_code == 404
