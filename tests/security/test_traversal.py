"""Held: path traversal, replayed with the bytes an attacker sends (a client library would tidy `..` away).

Every path goes out verbatim over a raw HTTP connection: plain `..`, percent-encoded `%2e%2e` and `%2f`, doubly
encoded, backslashes, NUL bytes and absolute paths, aimed at the static files, event ids, clip indexes, donation ids,
face names and uploaded file names. The hub's secrets on disk (its config, the key file, the database,
the push key) must never come back, and nothing may be written or deleted outside what the route owns.
"""

from __future__ import annotations

import hashlib
import http.client
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from conftest import TEST_DATA
from security.conftest import FRONT, SESSION_COOKIE, Caller, ServedHub

# What any file of the hub's (or the system's) would show if a traversal reached it.
SECRET_MARKERS = (
    b"cameras:",  # the config
    b"SQLite format 3",  # the database
    b"homewarden-home-key",  # the key file
    b"-----BEGIN",  # the push (VAPID) private key
    b"root:x:0:0",  # /etc/passwd
    b"def authorize",  # the hub's own source
)
DOT_DOT = ("..", "%2e%2e", "%2E%2E", ".%2e", "%252e%252e", "..%2f..", "..%5c..", "%2e%2e%2f%2e%2e")


@dataclass(frozen=True)
class RawAnswer:
    """What the hub answered to a raw request."""

    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(hub: ServedHub, path: str, person: Caller | None = None, method: str = "GET") -> RawAnswer:
    """Send ``path`` exactly as written (no normalisation of dots or escapes), as ``person`` if given."""
    address = urlsplit(hub.base_url)
    assert address.hostname is not None
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    headers = {}
    if person is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={person.client.cookies.get(SESSION_COOKIE, domain='')}"
        headers["X-CSRF-Token"] = person.csrf
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return RawAnswer(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    finally:
        connection.close()


def assert_refused_without_secrets(answer: RawAnswer, path: str) -> None:
    """Fail unless the hub refused (4xx) and showed neither footage nor any file's content."""
    assert 400 <= answer.status < 500, (path, answer.status, answer.body[:200])
    assert answer.headers.get("content-type", "").startswith("application/json"), (path, answer.headers)
    for marker in SECRET_MARKERS:
        assert marker not in answer.body, (path, marker)
    assert b"ftyp" not in answer.body[:16]
    assert not answer.body.startswith(b"\xff\xd8")


def fingerprint(hub: ServedHub) -> dict[str, str]:
    """Return the SHA-256 of the config and every key file: what the traversals aim at and must not change."""
    # Footage is left out: the cameras keep recording, and the audit log's checkpoint moves with every access.
    targets = [hub.config, hub.storage / "home-key.json", hub.storage / "gallery-key.bin"]
    targets += [hub.storage / "gallery-key.sealed", *hub.storage.glob("push/*"), *hub.storage.glob("offsite/*key*")]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in targets}


def test_static_files_stay_inside_the_static_folder(hub: ServedHub, owner: Caller) -> None:
    """Held, path traversal: /static/ with every spelling of `..`, absolute paths and NUL, toward source and data."""
    assert raw_request(hub, "/static/app.js").status == 200  # the control: the folder is served
    config = str(hub.config)
    targets = ["api/deps.py", "../homewarden/api/deps.py", "etc/passwd", config.lstrip("/")]
    paths = ["/static//etc/passwd", f"/static/{quote(config, safe='')}", "/static/app.js%00.py"]
    for dots in DOT_DOT:
        for target in targets:
            paths += [f"/static/{dots}/{dots}/{target}", f"/static/{dots}/{dots}/{dots}/{dots}/{dots}/{target}"]
            paths.append(f"/static/{dots}/{dots}/{quote(target, safe='')}")
    for path in paths:
        for person in (None, owner):
            assert_refused_without_secrets(raw_request(hub, path, person), path)


def test_event_ids_that_are_paths_reach_no_file(hub: ServedHub, owner: Caller, front_event: dict[str, Any]) -> None:
    """Held, path traversal: event ids made of `..`, encoded separators and absolute paths of the hub's own files."""
    storage = hub.storage
    absolute = [str(hub.config), str(storage / "home-key.json"), str(storage / "homewarden.db"), "/etc/passwd"]
    media = sorted(storage.glob("media/*/*/*.sealed"))
    assert media, "the hub has recorded nothing yet"
    absolute += [str(media[0]), str(media[0].relative_to(storage)), str(media[0].relative_to(storage / "media"))]
    ids = [f"{dots}/{dots}/homewarden.yaml" for dots in DOT_DOT] + [*DOT_DOT, *absolute]
    for event_id in ids:
        encoded = quote(event_id, safe="%")
        for suffix in ("", "/snapshot.jpg", "/clips/0.mp4", "/clips/0/h264.mp4"):
            path = f"/api/events/{encoded}{suffix}"
            assert_refused_without_secrets(raw_request(hub, path, owner), path)
    # Climbing out of a real event's URL into another route does not open anything either.
    real = front_event["id"]
    for tail in ("/../../members", "/%2e%2e/%2e%2e/faces", "/clips/..%2f..%2fsnapshot.jpg"):
        path = f"/api/events/{real}{tail}"
        answer = raw_request(hub, path, owner)
        assert answer.status in (404, 405, 422), (path, answer.status)


def test_clip_indexes_are_numbers_of_the_events_own_clips(
    hub: ServedHub, member: Caller, front_event: dict[str, Any]
) -> None:
    """Held, path traversal: clip indexes like `../0`, `%2e%2e`, `-1`, `0%00`, `0x0` and 10**30."""
    event = front_event["id"]
    assert raw_request(hub, f"/api/events/{event}/clips/0.mp4", member).status == 200  # the control
    for index in (*DOT_DOT, "..%2f0", "-1", "0%00", "0x0", "1e0", "%30%2e%2e", str(10**30), "+", "%20"):
        for suffix in (".mp4", "/h264.mp4"):
            path = f"/api/events/{event}/clips/{index}{suffix}"
            assert_refused_without_secrets(raw_request(hub, path, member), path)


def test_a_members_traversal_from_their_event_to_a_garden_event_reaches_no_footage(
    hub: ServedHub, member: Caller, front_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    """Held, path traversal with object-level access: a front-door URL climbing over to a garden event."""
    front, garden = front_event["id"], garden_event["id"]
    for climb in ("..", "%2e%2e", "..%2f", "%2e%2e%2f"):
        for path in (
            f"/api/events/{front}/{climb}/{garden}/snapshot.jpg",
            f"/api/events/{front}/clips/{climb}/{climb}/{garden}/clips/0.mp4",
            f"/api/events/{front}%2f{climb}%2f{garden}/snapshot.jpg",
            f"/api/cameras/{FRONT}/{climb}/garden/snapshot.jpg",
            f"/api/cameras/{FRONT}%2f{climb}%2fgarden/snapshot.jpg",
        ):
            answer = raw_request(hub, path, member)
            assert answer.status in (404, 405, 422), (path, answer.status)
            assert not answer.headers.get("content-type", "").startswith(("image/", "video/", "multipart/")), path


def test_donation_ids_and_face_names_that_are_paths_touch_nothing(hub: ServedHub, owner: Caller) -> None:
    """Held, path traversal: donation ids and face names aimed at the key, the database and the pairing's keys."""
    before = fingerprint(hub)
    targets = [f"{dots}/{dots}/{name}" for dots in DOT_DOT for name in ("homewarden.yaml", "data/home-key.json")]
    targets += [*DOT_DOT, str(hub.storage / "home-key.json"), str(hub.storage / "offsite" / "device-key.pem")]
    for target in targets:
        name = quote(target, safe="%")
        for method, path, person in (
            ("GET", f"/api/donations/{name}", owner),
            ("GET", f"/api/donations/{name}/preview.mp4", owner),
            ("POST", f"/api/donations/{name}/confirm", owner),
            ("DELETE", f"/api/donations/{name}", owner),
            ("DELETE", f"/api/faces/{name}", owner),
        ):
            assert_refused_without_secrets(raw_request(hub, path, person, method), f"{method} {path}")
    assert fingerprint(hub) == before
    assert (hub.storage / "home-key.json").is_file()


def test_a_face_named_like_a_path_or_a_photo_named_like_one_writes_nothing_outside(
    hub: ServedHub, owner: Caller
) -> None:
    """Held, path traversal: enrolment with a member name of `..` parts and photo file names aimed elsewhere."""
    photo = sorted((TEST_DATA / "faces" / "probe").glob("*.jpg"))[0]
    planted = f"planted-{uuid.uuid4().hex}.jpg"
    aims = [hub.storage / planted, hub.config.parent / planted, Path("/tmp") / planted]
    for name in ("../../evil", "..", "/etc/evil", "..\\..\\evil", "%2e%2e"):
        answer = owner.post("/api/faces", data={"name": name}, files={"photos": ("face.jpg", photo.read_bytes())})
        assert answer.status_code in (400, 422), (name, answer.status_code, answer.text[:200])
    # A name the hub accepts, with photos whose file names climb out: refused or not, nothing lands there.
    noise = b"\xff\xd8\xff\xe0 not a photo"
    for aim in aims:
        upload = ("../../../../../../../.." + str(aim), noise, "image/jpeg")
        answer = owner.post("/api/faces", data={"name": "Traversal Test"}, files={"photos": upload})
        assert answer.status_code == 400, answer.text
        assert "/" not in answer.json()["detail"].split(":")[0], answer.text
        assert str(aim.parent) not in answer.text
    for aim in aims:
        assert not aim.exists(), aim
    assert "Traversal Test" not in {face["name"] for face in owner.get("/api/faces").json()}
