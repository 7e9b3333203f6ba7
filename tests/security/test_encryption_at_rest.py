"""Held: encryption at rest, replayed as a thief who takes the hub's disk and reads every byte of its storage.

After the real hub has recorded events on both cameras and prepared a donated copy, every file under its storage
folder is searched for footage: the MP4 and JPEG signatures, pieces of the very clips and snapshots the owner can
play (decrypted by the hub over HTTP, so the search knows exactly what plaintext would look like), and the camera
names inside media files. The key file must not hold the passphrase, and no file may hold a password, a session
token or an API token as typed.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from security.conftest import FRONT, GARDEN, MEMBER, OWNER, SESSION_COOKIE, Caller, ServedHub

# The storage search waits for a donated copy (redaction) and reads every stored byte.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
WINDOW = 32
WINDOWS_PER_OBJECT = 12
# Folders whose files are footage or sealed data keys: no camera name may be inside them.
MEDIA_FOLDERS = ("media", "data-keys")


def distinctive_windows(plaintext: bytes) -> list[bytes]:
    """Return pieces of ``plaintext`` that could not occur in another file by chance (varied bytes, no padding)."""
    windows = []
    for start in range(
        len(plaintext) // 4, len(plaintext) - WINDOW, max(1, len(plaintext) // (2 * WINDOWS_PER_OBJECT))
    ):
        window = plaintext[start : start + WINDOW]
        if len(set(window)) >= WINDOW // 2:
            windows.append(window)
    assert len(windows) >= WINDOWS_PER_OBJECT // 2, "the plaintext is too uniform to search for"
    return windows


def stored_files(storage: Path) -> dict[Path, bytes]:
    """Read every file under the storage folder (one the hub removes meanwhile is skipped: it is gone)."""
    contents = {}
    for path in sorted(storage.rglob("*")):
        try:
            if path.is_file():
                contents[path] = path.read_bytes()
        except FileNotFoundError:
            continue
    return contents


def plaintext_of(owner: Caller, event: dict[str, Any]) -> list[bytes]:
    """Return an event's snapshot and clips as the owner plays them (the hub decrypts them)."""
    paths = [event["snapshot_url"]] + [clip["url"] for clip in event["clips"]]
    answers = [owner.get(path) for path in paths]
    assert all(answer.status_code == 200 for answer in answers), [a.status_code for a in answers]
    return [answer.content for answer in answers]


def test_no_footage_and_no_camera_name_is_readable_in_the_hubs_storage(
    hub: ServedHub,
    owner: Caller,
    front_event: dict[str, Any],
    garden_event: dict[str, Any],
    donated_event: dict[str, Any],
) -> None:
    """Held, encryption at rest: the thief searches every stored file for what the owner's player shows."""
    objects = plaintext_of(owner, front_event) + plaintext_of(owner, garden_event)
    # The donated copy, as the owner watched it before confirming; it waits sealed in the outbox now.
    objects.append(donated_event["preview"])
    snapshots = [data for data in objects if data.startswith(b"\xff\xd8\xff")]
    clips = [data for data in objects if data[4:8] == b"ftyp"]
    assert snapshots
    assert clips
    assert len(snapshots) + len(clips) == len(objects)
    # The plaintext's own headers: the ftyp box with its brands, and the JPEG start with its JFIF segment.
    signatures = {clip[4:24] for clip in clips} | {snapshot[:11] for snapshot in snapshots}
    pieces = [window for data in objects for window in distinctive_windows(data)]
    files = stored_files(hub.storage)
    sealed = [path for path in files if path.relative_to(hub.storage).parts[0] in MEDIA_FOLDERS]
    assert len(sealed) >= len(objects), sorted(files)
    assert not (hub.storage / "review").exists()  # the hub keeps no program key and no vault of donated copies
    readable = []
    for path, content in files.items():
        if content.startswith(b"\xff\xd8\xff") or content[4:8] == b"ftyp":
            readable.append(f"{path}: starts as a JPEG or MP4")
        readable += [f"{path}: holds the signature {signature!r}" for signature in signatures if signature in content]
        found = sum(piece in content for piece in pieces)
        if found:
            readable.append(f"{path}: holds {found} piece(s) of a clip or snapshot")
        if path in sealed:
            readable += [f"{path}: names {name}" for name in (FRONT, GARDEN) if name.encode() in content]
    assert not readable, "\n".join(readable)


def test_the_key_file_and_the_database_hold_no_password_or_token_as_typed(
    hub: ServedHub, owner: Caller, member: Caller
) -> None:
    """Held, encryption at rest: the thief looks for the passphrase, passwords, a session cookie and an API token."""
    token = hub.new_token(member, ["events:read"])
    session = owner.client.cookies.get(SESSION_COOKIE, domain="")
    assert session is not None
    key_file = hub.storage / "home-key.json"
    assert key_file.is_file()
    secrets = {"owner passphrase": OWNER[1], "member password": MEMBER[1]}
    secrets |= {"session cookie": session, "API token": token}
    spellings = {
        name: {
            value.encode(),
            value.encode("utf-16-le"),
            base64.b64encode(value.encode()),
            base64.urlsafe_b64encode(value.encode()),
            value.encode().hex().encode(),
        }
        for name, value in secrets.items()
    }
    files = stored_files(hub.storage)
    assert key_file in files
    assert any(path.name.startswith("homewarden.db") for path in files)
    found = [
        f"{path}: {name}"
        for path, content in files.items()
        for name, forms in spellings.items()
        if any(form in content for form in forms)
    ]
    assert not found, found
    # The control: the token works, so it is the real one that was searched for.
    with hub.anonymous() as integration:
        assert integration.get("/api/events", headers={"Authorization": f"Bearer {token}"}).status_code == 200
