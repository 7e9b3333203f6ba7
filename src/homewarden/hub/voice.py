"""Voice: the sentences a voice assistant may say to the hub, understood and answered about the caller's cameras.

The API speaks Home Assistant's ``/api/conversation/process`` dialect (api/integrations.py); this module knows the
intents: who is at the door, arm and disarm, show a camera, strangers today. It only ever answers about the cameras
and home it is given.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from homewarden.config.model import ArmingMode
from homewarden.events.alarm import STRANGER
from homewarden.events.arming import schedule_timezone
from homewarden.events.record import EventRecord
from homewarden.faces.gallery import UNKNOWN
from homewarden.hub.doorbell import Sighting, doorstep_of, visitor_of
from homewarden.hub.services import HubServices

# "Who is at the door?" looks this far back for a press or a person.
DOORSTEP_WINDOW = 120.0
# Enough events to count a busy day's strangers; the store returns the newest first.
STRANGER_SCAN_LIMIT = 1000


@dataclass(frozen=True)
class Answer:
    """An intent's answer before it is dressed as a conversation result."""

    kind: Literal["action_done", "query_answer", "error"]
    speech: str
    data: dict[str, Any]


NOT_UNDERSTOOD = "Sorry, I didn't understand that."
# Words a request may carry or leave out without changing what it asks.
FILLER = frozenset({"the", "please", "hey", "ok", "okay", "can", "could", "would", "you", "now", "all"})
SAYS_ARM = r"arm(?: cameras?| alarm| system)?"
SAYS_SET = r"(?:set |switch to |turn on |activate |go to )?"
PLACE = r"(?P<place>.+?)(?: cameras?)?"
INTENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "who",
        re.compile(
            r"(?:who's|who is|who s|is there anyone|is anyone|is there anybody|is anybody|is someone|is there someone)"
            rf" (?:at|by|outside|in front of) {PLACE}"
        ),
    ),
    ("disarmed", re.compile(rf"(?:disarm(?: cameras?| alarm| system)?|{SAYS_SET}disarmed(?: mode)?|turn off alarm)")),
    ("night", re.compile(rf"(?:{SAYS_ARM} (?:for |in |to )?night(?: mode)?|{SAYS_SET}night mode)")),
    ("home", re.compile(rf"(?:{SAYS_ARM} (?:for |in |to )?home(?: mode)?|{SAYS_SET}home mode|i'm home|i am home)")),
    ("away", re.compile(rf"(?:{SAYS_ARM}(?: (?:for |in |to )?away(?: mode)?)?|{SAYS_SET}away mode)")),
    ("show", re.compile(rf"(?:show(?: me)?|let me see|display|open) {PLACE}")),
    (
        "strangers",
        re.compile(
            r"(?:(?:were|was|have|has) there(?: been)?|did (?:we have|we get|you see)|any)(?: any)?"
            r" strangers?(?: (?:so far )?today)?"
        ),
    ),
]
ARMING_MODES: dict[str, ArmingMode] = {"disarmed": "disarmed", "home": "home", "away": "away", "night": "night"}


def normalise(text: str) -> str:
    """Return the words of a request in lower case, without punctuation or filler ("the", "please")."""
    words = re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'").replace("_", " "))
    return " ".join(word.strip("'") for word in words if word not in FILLER and word.strip("'"))


def spoken_places(hub: HubServices, cameras: tuple[str, ...]) -> dict[str, str]:
    """Return the names the caller may say for their cameras ("front door", or a doorbell's name) to the camera."""
    places = {normalise(camera): camera for camera in cameras}
    for bell, doorbell in hub.config.doorbells.items():
        if doorbell.camera in cameras:
            places.setdefault(normalise(bell.replace("-", " ")), doorbell.camera)
    return places


def spoken(camera: str) -> str:
    """Return how a camera is said in an answer: front_door is "the front door"."""
    return "the " + camera.replace("_", " ").replace("-", " ")


def answer_sentence(hub: HubServices, home_id: int, cameras: tuple[str, ...], text: str) -> Answer:
    """Understand a sentence and carry it out for someone of ``home_id`` who may watch ``cameras``."""
    words = normalise(text)
    for intent, pattern in INTENTS:
        match = pattern.fullmatch(words)
        if match is None:
            continue
        if intent in ARMING_MODES:
            return _set_mode(hub, home_id, ARMING_MODES[intent])
        if intent == "strangers":
            return _strangers_today(hub, home_id, cameras)
        place = match.group("place")
        camera = spoken_places(hub, cameras).get(place)
        if camera is None:
            # The caller's cameras only: another home's camera is as unknown as one that does not exist.
            return Answer("error", f"I don't know a camera called {place}.", {"code": "no_valid_targets"})
        if intent == "who":
            return _who_is_at(hub, camera)
        return _show(camera)
    return Answer("error", NOT_UNDERSTOOD, {"code": "no_intent_match"})


def _target(camera: str) -> dict[str, str]:
    return {"type": "camera", "name": camera.replace("_", " "), "id": camera}


def _set_mode(hub: HubServices, home_id: int, mode: ArmingMode) -> Answer:
    hub.set_mode(home_id, mode, "voice")
    speech = "The cameras are disarmed." if mode == "disarmed" else f"The cameras are armed ({mode})."
    target = {"type": "arming", "name": mode, "id": "arming_mode"}
    return Answer("action_done", speech, {"targets": [target], "success": [target], "failed": [], "mode": mode})


def _show(camera: str) -> Answer:
    return Answer(
        "query_answer",
        f"Here is {spoken(camera)}.",
        {
            "targets": [_target(camera)],
            "success": [_target(camera)],
            "failed": [],
            "snapshot_url": f"/api/cameras/{camera}/snapshot.jpg",
            "stream_url": f"/api/cameras/{camera}/stream.mjpg",
        },
    )


def _who_is_at(hub: HubServices, camera: str) -> Answer:
    now = time.time()
    recent = [record for record in hub.events.list_events(cameras=[camera], limit=50) if record.live]
    found = _latest_visitor(hub, camera, recent, now)
    place = spoken(camera)
    data: dict[str, Any] = {"targets": [_target(camera)], "success": [], "failed": []}
    if found is None:
        status_now = hub.live.cameras().get(camera)
        if status_now is not None and not status_now.online:
            return Answer("query_answer", f"I can't see {place}: its camera is offline.", {**data, "visitor": None})
        return Answer("query_answer", f"Nobody is at {place}.", {**data, "visitor": None})
    kind, who = found
    if who is None:
        speech = f"Someone is at {place}, I couldn't see their face."
    elif who == STRANGER:
        speech = f"Someone I don't recognise is at {place}."
    else:
        speech = f"{who.capitalize()} is at {place}."
    return Answer("query_answer", speech, {**data, "visitor": who, "seen_by": kind})


def _latest_visitor(
    hub: HubServices, camera: str, recent: list[EventRecord], now: float
) -> tuple[str, str | None] | None:
    """Return how the latest visitor was seen ("doorbell" or "person") and who, within DOORSTEP_WINDOW."""
    doorstep = doorstep_of(hub.bus)
    rings = [
        Sighting(record.sub_label, record.start)
        for record in recent
        if record.label == "doorbell" and now - record.start <= DOORSTEP_WINDOW
    ]
    ring = doorstep.latest_ring(camera)
    if ring is not None and now - ring.heard <= DOORSTEP_WINDOW:
        rings.append(ring)
    if rings:
        return "doorbell", max(rings, key=lambda sighting: sighting.heard).who
    person = doorstep.in_view(camera)
    if person is not None:
        return "person", person.who
    people = [record for record in recent if record.label == "person" and now - record.end <= DOORSTEP_WINDOW]
    if people:
        return "person", visitor_of(max(people, key=lambda record: record.end).sub_label)
    return None


def _strangers_today(hub: HubServices, home_id: int, cameras: tuple[str, ...]) -> Answer:
    zone = schedule_timezone(hub.arming_for(home_id).alarm)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    events = hub.events.list_events(cameras=list(cameras), since=midnight.astimezone(UTC), limit=STRANGER_SCAN_LIMIT)
    strangers = [
        record
        for record in events
        if record.live
        and (record.alarm_reason == STRANGER or (record.label == "person" and record.sub_label == UNKNOWN))
    ]
    data: dict[str, Any] = {"count": len(strangers), "events": [record.id for record in strangers]}
    if not strangers:
        return Answer("query_answer", "No strangers today.", data)
    last = max(strangers, key=lambda record: record.start)
    at = datetime.fromtimestamp(last.start, tz=UTC).astimezone(zone)
    where = f"at {at:%H:%M} at {spoken(last.camera)}"
    counted = "1 stranger today," if len(strangers) == 1 else f"{len(strangers)} strangers today, the last"
    return Answer("query_answer", f"Yes, {counted} {where}.", {**data, "last_camera": last.camera})
