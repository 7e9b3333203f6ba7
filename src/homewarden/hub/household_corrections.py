"""Keep the verifier's household calibration in step with what the household corrects on this hub.

"Mark as false alarm" and "this is <member>" on a person event add one correction: the verifier's features of the
event's best box, computed from its snapshot with the hub's own NanoDet and kept in the event's attributes, so the
calibration is rebuilt from the events at start and a deleted event takes its correction with it. Nothing is sent
anywhere; the provider's model (the slot's) is never changed by it.

A verdict whose features could not be computed (the recordings were locked) or were computed for another feature set
(the hub was upgraded) is relearned from its snapshot the next time the owner unlocks the recordings.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from homewarden.detect.base import Detection, Image
from homewarden.detect.household_calibration import (
    FALSE_ALARM,
    PERSON,
    VERDICT_ATTRIBUTE,
    Correction,
    HouseholdCalibration,
    correction_from_snapshot,
    verdict_of,
    with_correction,
)
from homewarden.detect.verifier import FEATURES, CropScorer, VerifierSlot
from homewarden.events.record import EventRecord
from homewarden.store.crypto import Keyring, SealedObjectError
from homewarden.store.database import EventStore
from homewarden.store.sealed_media import HubStorage

log = logging.getLogger(__name__)

# The event attribute a correction's features are kept in: "<feature set>:<comma-separated numbers>".
FEATURES_ATTRIBUTE = "household_verifier_features"
# How many of the newest events the calibration is rebuilt from at start.
NEWEST_EVENTS = 5000


def encode_features(features: tuple[float, ...]) -> str:
    """Write a correction's features as an event attribute."""
    return FEATURES + ":" + ",".join(repr(value) for value in features)


def decode_features(text: str) -> tuple[float, ...] | None:
    """Read an attribute written by encode_features (None: another feature set, or not numbers)."""
    name, _, numbers = text.partition(":")
    if name != FEATURES:
        return None
    try:
        values = tuple(float(value) for value in numbers.split(","))
    except ValueError:
        return None
    return values if all(math.isfinite(value) for value in values) else None


def read_snapshot(storage: HubStorage, keyring: Keyring | None, record: EventRecord) -> Image | None:
    """Decode an event's sealed snapshot (None: no snapshot, recordings locked, or it cannot be read)."""
    if record.snapshot is None or keyring is None:
        return None
    name = storage.media.object_name(Path(record.snapshot))
    if name is None or not storage.vault.exists(name):
        return None
    try:
        data = storage.vault.open(name, keyring).read()
    except (SealedObjectError, OSError):
        # The verdict still counts; only its example for the calibration is missing.
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image)


class HouseholdCorrections:
    """The household's calibration: rebuilt from corrected events, extended by each new correction."""

    def __init__(self, events: EventStore, scorer: CropScorer) -> None:
        self._events = events
        self._scorer = scorer
        self._lock = threading.Lock()
        self._calibration = HouseholdCalibration()
        self._slots: list[VerifierSlot] = []
        # One relearning at a time: two unlocks in a row must not compute the same examples twice.
        self._relearning = threading.Lock()

    @property
    def calibration(self) -> HouseholdCalibration:
        """Return the calibration in use."""
        return self._calibration

    def attach(self, slot: VerifierSlot) -> None:
        """Apply the calibration in a verifier slot, now and after every correction."""
        with self._lock:
            if slot not in self._slots:
                self._slots.append(slot)
            slot.set_household(self._calibration)

    def load(self) -> HouseholdCalibration:
        """Rebuild the calibration from the newest corrected events."""
        corrections = []
        for record in self._events.list_events(limit=NEWEST_EVENTS):
            person = verdict_of(record.attributes)
            features = decode_features(record.attributes.get(FEATURES_ATTRIBUTE, ""))
            if person is not None and features is not None:
                corrections.append(Correction(record.id, person, features))
        self._publish(HouseholdCalibration(tuple(sorted(corrections, key=lambda c: c.event_id))))
        return self._calibration

    def learn(self, record: EventRecord, person: bool, snapshot: Image | None) -> bool:
        """Record the household's verdict on an event and, when its snapshot shows the box, learn from it."""
        self._events.set_attribute(record.id, VERDICT_ATTRIBUTE, PERSON if person else FALSE_ALARM)
        if snapshot is None:
            return False
        correction = self._example(record, person, snapshot)
        if correction is None:
            return False
        self._publish(with_correction(self._calibration, correction))
        return True

    def _example(self, record: EventRecord, person: bool, snapshot: Image) -> Correction | None:
        """Compute an event's example from its snapshot and keep its features in the event's attributes."""
        x1, y1, x2, y2 = (float(value) for value in record.box)
        best = Detection("person", record.score, (x1, y1, x2, y2))
        correction = correction_from_snapshot(record.id, person, snapshot, best, self._scorer)
        if correction is None:
            log.info("event %s: its box does not fit its snapshot; the household calibration skips it", record.id)
            return None
        self._events.set_attribute(record.id, FEATURES_ATTRIBUTE, encode_features(correction.features))
        return correction

    def relearn(self, snapshot_of: Callable[[EventRecord], Image | None]) -> int:
        """Compute the missing or outdated examples of corrected person events from their snapshots; count them."""
        with self._relearning:
            learned = 0
            for record in self._events.list_events(label="person", limit=NEWEST_EVENTS):
                person = verdict_of(record.attributes)
                if person is None:
                    continue
                if decode_features(record.attributes.get(FEATURES_ATTRIBUTE, "")) is not None:
                    continue
                snapshot = snapshot_of(record)
                if snapshot is not None and self._example(record, person, snapshot) is not None:
                    learned += 1
            if learned:
                log.info("household calibration: relearned %d corrected events from their snapshots", learned)
                self.load()
            return learned

    def relearn_in_background(self, snapshot_of: Callable[[EventRecord], Image | None]) -> None:
        """Relearn on a thread of its own, so an unlock is not kept waiting by the detector."""

        def run() -> None:
            try:
                self.relearn(snapshot_of)
            except Exception:  # a failed relearn must show in the log, and never stop the hub
                log.exception("household calibration: relearning from snapshots failed")

        threading.Thread(target=run, name="household-relearn", daemon=True).start()

    def forget(self, event_id: str) -> None:
        """Drop a deleted event's correction."""
        kept = tuple(c for c in self._calibration.corrections if c.event_id != event_id)
        if len(kept) != len(self._calibration.corrections):
            self._publish(HouseholdCalibration(kept))

    def _publish(self, calibration: HouseholdCalibration) -> None:
        with self._lock:
            self._calibration = calibration
            for slot in self._slots:
                slot.set_household(calibration)
