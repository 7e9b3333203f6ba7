"""The hub's message bus: what happened, told to every integration without ever blocking a camera.

Cameras and the web app publish typed messages; integrations (MQTT, webhooks, web push) subscribe. Publishing puts
the message on a bounded queue and returns at once; one dispatcher thread hands each message to every subscriber in
order, so a slow or failing integration delays only the integrations after it, never the cameras. A full queue drops
the message and counts it (logged once per burst), as a camera drops frames rather than block.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from homewarden.events.intrusions import IntrusionSummary
from homewarden.events.record import EventRecord

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000


@dataclass(frozen=True)
class EventStarted:
    """An object became an event (confirmed); ``at`` is its first sighting (Unix seconds for live cameras)."""

    camera: str
    event_id: str
    label: str
    score: float
    at: float


@dataclass(frozen=True)
class EventUpdated:
    """What is known of a running event changed: who it is, or the alarm decision."""

    camera: str
    event_id: str
    label: str
    sub_label: str | None
    alarm: bool
    alarm_reason: str | None
    at: float
    # The intrusion the event belongs to: channels announce an alarm once per intrusion, not once per event.
    intrusion_id: str | None = None


@dataclass(frozen=True)
class IntrusionChanged:
    """An intrusion opened ("new"), gained people or an alarm ("update"), or is over ("end")."""

    kind: str
    intrusion: IntrusionSummary
    at: float


@dataclass(frozen=True)
class EventEnded:
    """An event is over and stored, with its clips and snapshot."""

    record: EventRecord


@dataclass(frozen=True)
class MotionChanged:
    """A camera's motion started or stopped."""

    camera: str
    active: bool
    at: float


@dataclass(frozen=True)
class ArmingChanged:
    """A home's arming mode changed (by hand, schedule or an integration)."""

    home_id: int
    mode: str
    by: str


@dataclass(frozen=True)
class DoorbellPressed:
    """A doorbell was pressed: the paired camera records; ``visitor`` is a member's name, "stranger" or None."""

    camera: str
    event_id: str
    at: float
    visitor: str | None
    snapshot_jpeg: bytes | None
    bell: str = ""


@dataclass(frozen=True)
class CameraStatusChanged:
    """A camera's state changed: "online", "reconnecting", "failed" or "stopped"; ``reason`` says why it is down."""

    camera: str
    state: str
    reason: str | None
    at: float


@dataclass(frozen=True)
class CameraOffline:
    """In an armed mode a camera has been down longer than the configured time: someone may have unplugged it."""

    camera: str
    down_since: float
    reason: str
    mode: str
    at: float


@dataclass(frozen=True)
class StorageProblem:
    """The storage disk is (almost) full and clips fail or may fail; ``problem`` None says there is room again."""

    home_id: int
    problem: str | None
    free_bytes: int
    at: float


@dataclass(frozen=True)
class OffsiteStatus:
    """How far the off-site copies are behind: waiting uploads, the oldest one's age, the last success."""

    home_id: int
    waiting: int
    lag_seconds: float
    last_success_at: float | None
    stuck: bool
    last_error: str | None
    at: float


@dataclass(frozen=True)
class OffsiteStuck:
    """Nothing has reached the cloud for a long time while uploads wait; ``problem`` None says it moves again."""

    home_id: int
    problem: str | None
    waiting: int
    since: float | None
    at: float


@dataclass(frozen=True)
class CamerasChanged:
    """The owner changed the cameras in the settings: the cameras switched on now, and every camera's display name."""

    cameras: tuple[str, ...]
    names: tuple[tuple[str, str], ...]
    at: float


Message = (
    EventStarted
    | EventUpdated
    | EventEnded
    | IntrusionChanged
    | MotionChanged
    | ArmingChanged
    | DoorbellPressed
    | CameraStatusChanged
    | CameraOffline
    | StorageProblem
    | OffsiteStatus
    | OffsiteStuck
    | CamerasChanged
)
Subscriber = Callable[[Message], None]


class HubBus:
    """Publish messages without blocking; deliver them to every subscriber on one dispatcher thread."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        """Start with no subscribers; call start() to deliver."""
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=size)
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def subscribe(self, name: str, subscriber: Subscriber) -> None:
        """Deliver every later message to ``subscriber`` (its failures are logged, never raised to publishers)."""
        with self._lock:
            self._subscribers.append((name, subscriber))

    def publish(self, message: Message) -> None:
        """Queue a message; never blocks (a full queue drops it)."""
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("integrations are behind: %d message(s) dropped", self.dropped)

    def start(self) -> None:
        """Start delivering."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._deliver, name="hub-bus", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every message queued so far was delivered (for tests and shutdown)."""
        done = threading.Event()
        self._queue.put(_Marker(done))  # type: ignore[arg-type]
        done.wait(timeout)

    def _deliver(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            if isinstance(message, _Marker):
                message.done.set()
                continue
            with self._lock:
                subscribers = list(self._subscribers)
            for name, subscriber in subscribers:
                try:
                    subscriber(message)
                except Exception:  # an integration must never take the others (or the hub) down
                    log.exception("integration %s failed on %s", name, type(message).__name__)


@dataclass(frozen=True)
class _Marker:
    done: threading.Event
