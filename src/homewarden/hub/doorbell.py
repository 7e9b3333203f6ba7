"""Doorbells: a press records on the bell's camera from the pre-roll, and the doorstep remembers who came.

A press arrives by HTTP (api/integrations.py), MQTT or an incoming webhook; all of them call ``press_doorbell``.
``Doorstep`` follows the bus for the latest press and the people in view of each camera, for the voice answers
(hub/voice.py).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from homewarden.camera.runner import CameraRunner
from homewarden.errors import Refusal, RefusedError
from homewarden.events.alarm import STRANGER
from homewarden.faces.gallery import UNKNOWN
from homewarden.hub.services import HubServices
from homewarden.i18n import _
from homewarden.notify.bus import DoorbellPressed, EventEnded, EventStarted, EventUpdated, HubBus, Message

log = logging.getLogger(__name__)

# A bell pressed again within this many seconds of the press that started a recording joins that recording:
# a visitor pressing twice (or a bouncing contact) makes one event, not a pile of overlapping ones.
PRESS_JOIN_SECONDS = 5.0


class DoorbellError(RefusedError):
    """A press that cannot start a recording; the message says why."""


class UnknownDoorbellError(DoorbellError):
    """No doorbell of that name is configured."""

    refusal = Refusal.NOT_FOUND


class CameraNotRunningError(DoorbellError):
    """The doorbell's camera is not running (stopped, not started yet, or its source is down)."""

    refusal = Refusal.UNAVAILABLE


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
        raise UnknownDoorbellError(_("no doorbell {bell!r}").format(bell=bell))
    camera = doorbell.camera
    runner = hub.runners.get(camera)
    if runner is None or runner.stop_event.is_set():
        raise CameraNotRunningError(_("camera {name!r} is not running").format(name=camera))
    # Follow the bus before the ring, so the visitor the camera finds is never published unheard.
    doorstep = doorstep_of(hub.bus)
    event_id = _presses_of(runner).press(bell, lambda: runner.ring(bell, doorbell.record_seconds))
    if event_id is None:
        raise CameraNotRunningError(_("camera {name!r} is not running").format(name=camera))
    doorstep.pressed(camera, event_id)
    log.info("doorbell %s pressed (by %s): event %s on camera %s", bell, by, event_id, camera)
    return event_id


# What is at each door now, heard on the bus.


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
                self._people[message.event_id] = (message.camera, Sighting(visitor_of(message.sub_label), now))
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


def visitor_of(sub_label: str | None) -> str | None:
    """Turn a person event's sub_label into a visitor: a member's name, "stranger", or None (no face seen)."""
    return STRANGER if sub_label == UNKNOWN else sub_label
