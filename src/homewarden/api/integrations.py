"""Doorbells and voice assistants: a press starts a recording; Home Assistant's conversation API asks the cameras.

A press arrives by HTTP (this router), MQTT or an incoming webhook; all of them call ``press_doorbell``. The voice
endpoint speaks Home Assistant's ``/api/conversation/process`` dialect, so an Assist pipeline (or any client of that
API) can ask who is at the door, arm and disarm, show a camera and ask about strangers, with an API token of scope
``voice``. It only ever answers about the caller's own cameras and home.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from homewarden.api.deps import HOUSEHOLD, Caller, Services, allow
from homewarden.camera.runner import CameraRunner
from homewarden.config.model import ArmingMode
from homewarden.events.alarm import STRANGER
from homewarden.events.arming import schedule_timezone
from homewarden.events.record import EventRecord
from homewarden.faces.gallery import UNKNOWN
from homewarden.hub.services import HubServices
from homewarden.notify.bus import DoorbellPressed, EventEnded, EventStarted, EventUpdated, HubBus, Message

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["integrations"])

# A bell pressed again within this many seconds of the press that started a recording joins that recording:
# a visitor pressing twice (or a bouncing contact) makes one event, not a pile of overlapping ones.
PRESS_JOIN_SECONDS = 5.0
# "Who is at the door?" looks this far back for a press or a person.
DOORSTEP_WINDOW = 120.0
# Enough events to count a busy day's strangers; the store returns the newest first.
STRANGER_SCAN_LIMIT = 1000

# doorbells


class DoorbellError(Exception):
    """A press that cannot start a recording; the message says why."""


class UnknownDoorbellError(DoorbellError):
    """No doorbell of that name is configured."""


class CameraNotRunningError(DoorbellError):
    """The doorbell's camera is not running (stopped, not started yet, or its source is down)."""


class RecentPresses:
    """The last press of each doorbell that started a recording on one camera runner."""

    def __init__(self) -> None:
        """Start with no presses."""
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, str]] = {}

    def press(self, bell: str, ring: Callable[[], str | None]) -> str | None:
        """Return the event a press within PRESS_JOIN_SECONDS joins, or ring and return the new event (or None)."""
        with self._lock:
            now = time.monotonic()
            last = self._last.get(bell)
            if last is not None and now - last[0] < PRESS_JOIN_SECONDS:
                return last[1]
            event_id = ring()
            if event_id is not None:
                self._last[bell] = (now, event_id)
            return event_id


# Kept per runner: a camera started again (a new runner) starts with no presses to join.
_presses: weakref.WeakKeyDictionary[CameraRunner, RecentPresses] = weakref.WeakKeyDictionary()
_presses_lock = threading.Lock()


def _presses_of(runner: CameraRunner) -> RecentPresses:
    with _presses_lock:
        presses = _presses.get(runner)
        if presses is None:
            presses = _presses[runner] = RecentPresses()
        return presses


def press_doorbell(hub: HubServices, bell: str, by: str) -> str:
    """Record a doorbell press on its camera (pre-roll included); return the event id, joined if pressed again.

    ``by`` says where the press came from ("http:<user>", "mqtt", "webhook") for the log. Raises
    UnknownDoorbellError or CameraNotRunningError. Whether the caller may press this bell is the caller's business
    (the HTTP route checks it).
    """
    doorbell = hub.config.doorbells.get(bell)
    if doorbell is None:
        raise UnknownDoorbellError(f"no doorbell {bell!r}")
    camera = doorbell.camera
    runner = hub.runners.get(camera)
    if runner is None or runner.stop_event.is_set():
        raise CameraNotRunningError(f"camera {camera!r} is not running")
    # Follow the bus before the ring, so the visitor the camera finds is never published unheard.
    doorstep = doorstep_of(hub.bus)
    event_id = _presses_of(runner).press(bell, lambda: runner.ring(bell, doorbell.record_seconds))
    if event_id is None:
        raise CameraNotRunningError(f"camera {camera!r} is not running")
    doorstep.pressed(camera, event_id)
    log.info("doorbell %s pressed (by %s): event %s on camera %s", bell, by, event_id, camera)
    return event_id


class DoorbellPress(BaseModel):
    """A press accepted: the event recording it and its camera."""

    event_id: str
    camera: str


@router.post("/doorbells/{bell}/press", status_code=status.HTTP_202_ACCEPTED)
@allow(*HOUSEHOLD, token_scope="doorbell:press")
def press(bell: str, caller: Caller, hub: Services) -> DoorbellPress:
    """Press a doorbell: its camera records from the pre-roll, looks for the visitor's face and notifies."""
    doorbell = hub.config.doorbells.get(bell)
    # A bell on a camera the caller may not watch answers exactly like one that does not exist.
    if doorbell is None or doorbell.camera not in caller.cameras:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no doorbell {bell!r}")
    try:
        event_id = press_doorbell(hub, bell, f"http:{caller.username}")
    except UnknownDoorbellError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no doorbell {bell!r}") from None
    except CameraNotRunningError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    return DoorbellPress(event_id=event_id, camera=doorbell.camera)


# what is at each door now, heard on the bus


@dataclass(frozen=True)
class Sighting:
    """Someone at a camera: a member's name, "stranger" or None (no face seen), heard at ``heard`` (Unix s)."""

    who: str | None
    heard: float


class Doorstep:
    """Follow the bus for the latest doorbell press and the people in view of each camera, for voice answers."""

    def __init__(self) -> None:
        """Start knowing nothing."""
        self._lock = threading.Lock()
        self._rings: dict[str, Sighting] = {}
        self._people: dict[str, tuple[str, Sighting]] = {}

    def pressed(self, camera: str, event_id: str) -> None:
        """Note a press whose visitor is still being looked for (keeps a visitor already found for it)."""
        with self._lock:
            ring = self._rings.get(camera)
            if ring is None or time.time() - ring.heard > PRESS_JOIN_SECONDS:
                self._rings[camera] = Sighting(None, time.time())

    def hear(self, message: Message) -> None:
        """Take one message from the bus."""
        now = time.time()
        with self._lock:
            if isinstance(message, DoorbellPressed):
                self._rings[message.camera] = Sighting(message.visitor, now)
            elif isinstance(message, EventStarted) and message.label == "person":
                self._people[message.event_id] = (message.camera, Sighting(None, now))
            elif isinstance(message, EventUpdated) and message.event_id in self._people:
                self._people[message.event_id] = (message.camera, Sighting(_person(message.sub_label), now))
            elif isinstance(message, EventEnded):
                self._people.pop(message.record.id, None)

    def latest_ring(self, camera: str) -> Sighting | None:
        """Return the camera's latest doorbell press, if any."""
        with self._lock:
            return self._rings.get(camera)

    def in_view(self, camera: str) -> Sighting | None:
        """Return the person the camera follows now (the most recently heard of, if several)."""
        with self._lock:
            seen = [sighting for where, sighting in self._people.values() if where == camera]
        return max(seen, key=lambda sighting: sighting.heard, default=None)


_doorsteps: weakref.WeakKeyDictionary[HubBus, Doorstep] = weakref.WeakKeyDictionary()
_doorsteps_lock = threading.Lock()


def doorstep_of(bus: HubBus) -> Doorstep:
    """Return the doorstep that follows ``bus``, subscribing it the first time (call at start-up to miss nothing)."""
    with _doorsteps_lock:
        doorstep = _doorsteps.get(bus)
        if doorstep is None:
            doorstep = _doorsteps[bus] = Doorstep()
            bus.subscribe("doorstep", doorstep.hear)
        return doorstep


def _person(sub_label: str | None) -> str | None:
    """Turn a person event's sub_label into a visitor: a member's name, "stranger", or None (no face seen)."""
    return STRANGER if sub_label == UNKNOWN else sub_label


# voice


class ConversationRequest(BaseModel):
    """A sentence to act on, as Home Assistant's conversation API takes it."""

    # Home Assistant clients also send agent_id, device_id and the like: ignored rather than refused.
    model_config = ConfigDict(extra="ignore")

    text: str = Field(max_length=500)
    language: str = Field(default="en", max_length=16)
    conversation_id: str | None = Field(default=None, max_length=128)


class PlainSpeech(BaseModel):
    """What to say."""

    speech: str
    extra_data: dict[str, Any] | None = None


class Speech(BaseModel):
    """The answer's speech (plain text only)."""

    plain: PlainSpeech


class IntentResponse(BaseModel):
    """Home Assistant's intent response: its kind, what to say and what it did."""

    response_type: Literal["action_done", "query_answer", "error"]
    language: str
    speech: Speech
    card: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any]


class ConversationResult(BaseModel):
    """Home Assistant's conversation result."""

    response: IntentResponse
    conversation_id: str | None
    continue_conversation: bool = False


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


def answer_sentence(hub: HubServices, caller: Caller, text: str) -> Answer:
    """Understand a sentence and carry it out for the caller."""
    words = normalise(text)
    for intent, pattern in INTENTS:
        match = pattern.fullmatch(words)
        if match is None:
            continue
        if intent in ARMING_MODES:
            return _set_mode(hub, caller, ARMING_MODES[intent])
        if intent == "strangers":
            return _strangers_today(hub, caller)
        place = match.group("place")
        camera = spoken_places(hub, caller.cameras).get(place)
        if camera is None:
            # The caller's cameras only: another home's camera is as unknown as one that does not exist.
            return Answer("error", f"I don't know a camera called {place}.", {"code": "no_valid_targets"})
        if intent == "who":
            return _who_is_at(hub, camera)
        return _show(camera)
    return Answer("error", NOT_UNDERSTOOD, {"code": "no_intent_match"})


def _target(camera: str) -> dict[str, str]:
    return {"type": "camera", "name": camera.replace("_", " "), "id": camera}


def _set_mode(hub: HubServices, caller: Caller, mode: ArmingMode) -> Answer:
    assert caller.home_id is not None  # authorize admits household roles only with a home
    hub.set_mode(caller.home_id, mode, "voice")
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
        return "person", _person(max(people, key=lambda record: record.end).sub_label)
    return None


def _strangers_today(hub: HubServices, caller: Caller) -> Answer:
    assert caller.home_id is not None
    zone = schedule_timezone(hub.arming_for(caller.home_id).alarm)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    events = hub.events.list_events(
        cameras=list(caller.cameras), since=midnight.astimezone(UTC), limit=STRANGER_SCAN_LIMIT
    )
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


@router.post("/conversation/process")
@allow(*HOUSEHOLD, token_scope="voice")
def process_conversation(body: ConversationRequest, caller: Caller, hub: Services) -> ConversationResult:
    """Answer a sentence as Home Assistant's conversation API does (HTTP 200 even when not understood)."""
    answer = answer_sentence(hub, caller, body.text)
    return ConversationResult(
        response=IntentResponse(
            response_type=answer.kind,
            language=body.language,
            speech=Speech(plain=PlainSpeech(speech=answer.speech)),
            data=answer.data,
        ),
        conversation_id=body.conversation_id or uuid.uuid4().hex,
    )
