"""Events the database could not take yet: kept on disk and saved again until it takes them.

A camera must not lose an event because PostgreSQL restarts or the network to it drops. The record (its clips are
already sealed in the media folder) is written as JSON to ``<storage>/pending-events/`` and saved again with backoff;
a hub that is stopped or killed meanwhile saves them at its next start.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from homewarden.events.record import ClipRecord, EventRecord
from homewarden.store.durable_files import write_durably
from homewarden.store.errors import StoreError

log = logging.getLogger(__name__)

PENDING_FOLDER = "pending-events"
RETRY_START = 2.0
RETRY_MAX = 30.0


def record_to_json(record: EventRecord) -> dict[str, Any]:
    """Return the record as plain JSON values."""
    return asdict(record)


def record_from_json(document: dict[str, Any]) -> EventRecord:
    """Rebuild a record written by record_to_json."""
    return EventRecord(
        **{
            **document,
            "box": tuple(document["box"]),
            "clips": tuple(ClipRecord(**clip) for clip in document["clips"]),
            "zones": tuple(document["zones"]),
        }
    )


class EventOutbox:
    """Save events, keeping on disk (and retrying) those the database refuses; thread-safe."""

    def __init__(
        self, folder: Path, save: Callable[[EventRecord], None], on_saved: Callable[[EventRecord], None]
    ) -> None:
        """Keep refused events under ``folder``; ``on_saved`` runs after every successful save."""
        self.folder = folder
        self._save = save
        self._on_saved = on_saved
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def save(self, record: EventRecord) -> bool:
        """Save a record now, or keep it for later; return whether it is in the database."""
        with self._lock:
            if self._waiting():
                # Keep the order: events waiting from before go in first.
                self._keep(record)
                self._wake.set()
                return False
            try:
                self._save(record)
            except StoreError as exc:
                self._keep(record)
                log.error(
                    "camera %s: event %s kept on disk until the database is back: %s", record.camera, record.id, exc
                )
                self._wake.set()
                return False
        self._on_saved(record)
        return True

    def pending(self) -> list[str]:
        """Return the ids of the events waiting, oldest first."""
        return [path.stem.split("-", 1)[1] for path in self._files()]

    def save_waiting(self) -> int:
        """Try to save every waiting event, oldest first; stop at the first refusal; return how many went in."""
        saved = 0
        for path in self._files():
            try:
                record = record_from_json(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.error("pending event %s cannot be read (moved aside): %s", path.name, exc)
                path.rename(path.with_suffix(".unreadable"))
                continue
            with self._lock:
                try:
                    self._save(record)
                except StoreError as exc:
                    log.debug("pending events still refused: %s", exc)
                    return saved
                path.unlink()
            saved += 1
            log.info("camera %s: event %s saved (it waited for the database)", record.camera, record.id)
            self._on_saved(record)
        return saved

    def start(self) -> None:
        """Start saving waiting events in the background (those of an earlier run first)."""
        if self._thread is None:
            self._wake.set()
            self._thread = threading.Thread(target=self._retry, name="event-outbox", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Try once more, then stop; what still waits stays on disk for the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        left = self.pending()
        if left:
            log.warning("%d event(s) still wait for the database; they are saved at the next start", len(left))

    def _retry(self) -> None:
        delay = RETRY_START
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            if self._files() and self.save_waiting() == 0 and self._files():
                delay = min(delay * 2, RETRY_MAX)
            else:
                delay = RETRY_START
            if self._stopping.is_set():
                self.save_waiting()
                return

    def _waiting(self) -> bool:
        return any(True for _ in self._files())

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        # Names start with the time they were kept, so name order is arrival order.
        return sorted(self.folder.glob("*.json"))

    def _keep(self, record: EventRecord) -> None:
        path = self.folder / f"{time.time_ns():020d}-{record.id}.json"
        write_durably(path, [json.dumps(record_to_json(record)).encode()])
