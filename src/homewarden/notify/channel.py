"""The one base every notification channel (MQTT, webhooks, web push) stands on: a bounded queue and a worker thread.

The bus calls a channel with each message; the channel only queues it (a full queue drops it and counts it, as a
camera drops frames rather than block) and returns, so a slow broker, endpoint or push service never holds up the bus
or the channels after it. The channel's own worker thread takes the messages in order and ``deliver``s them; between
messages it runs ``tick`` whenever ``next_wait`` seconds passed or ``wake()`` was called: retries, timers, polling.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from abc import ABC, abstractmethod
from typing import Final

from homewarden.notify.bus import Message

log = logging.getLogger(__name__)

# Run ``tick`` at least once per this many messages, so a steady stream of messages cannot starve retries and timers.
TICK_EVERY = 100


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_WAKE: Final = _Signal("wake")
_STOP: Final = _Signal("stop")


class Channel(ABC):
    """A bus subscriber that works on its own thread: ``bus.subscribe(name, channel)``, then ``start()``."""

    def __init__(self, name: str, *, queue_size: int) -> None:
        """Name the channel (its thread and its log lines); hold at most ``queue_size`` messages."""
        self.name = name
        self._queue: queue.Queue[Message | _Signal] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        # Set by stop(): long work (a round of retries) may check it to end early.
        self.stopping = threading.Event()
        self.dropped = 0

    def wants(self, message: Message) -> bool:
        """Return whether the channel has anything to do with a message (others are not even queued)."""
        return True

    @abstractmethod
    def deliver(self, message: Message) -> None:
        """Act on one message, on the worker thread (an exception is logged and the next message goes on)."""

    def next_wait(self) -> float | None:
        """Return how long the worker may sleep before ``tick`` is due again (None: until a message or wake())."""
        return None

    def tick(self) -> None:  # noqa: B027 (a channel without timed work keeps this one)
        """Do the channel's timed work (after a quiet moment, a wake() or a batch of messages)."""

    def __call__(self, message: Message) -> None:
        """Queue a bus message for the worker; never blocks (a full queue drops it)."""
        if not self.wants(message):
            return
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("%s is behind: %d message(s) dropped", self.name, self.dropped)

    def wake(self) -> None:
        """Run ``tick`` soon (from any thread; never blocks)."""
        # A full queue needs no wake-up: the worker is busy with messages and ticks between them anyway.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_WAKE)

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self.stopping.clear()
            self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Deliver what is queued, then stop the worker (waiting at most ``timeout`` seconds)."""
        if self._thread is None:
            return
        self.stopping.set()
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            log.warning("%s: stopping with %d message(s) undelivered", self.name, self._queue.qsize())
        self._thread.join(timeout)
        self._thread = None

    def _work(self) -> None:
        since_tick = 0
        while True:
            try:
                wait = self.next_wait()
            except Exception:
                log.exception("%s failed; trying again shortly", self.name)
                wait = 1.0
            try:
                item = self._queue.get(timeout=None if wait is None else max(0.0, wait))
            except queue.Empty:
                item = _WAKE
            if item is _STOP:
                return
            if not isinstance(item, _Signal):
                since_tick += 1
                try:
                    self.deliver(item)
                except Exception:  # one failed message must not stop the ones after it
                    log.exception("%s failed on %s", self.name, type(item).__name__)
                if not self._queue.empty() and since_tick < TICK_EVERY:
                    continue
            since_tick = 0
            try:
                self.tick()
            except Exception:  # the database or the network may be briefly away: try again rather than die
                log.exception("%s failed; trying again shortly", self.name)
