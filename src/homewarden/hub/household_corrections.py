"""Keep the verifier's household calibration in step with what the household corrects on this hub.

"Mark as false alarm" and "this is <member>" on a person event add one correction: the verifier's features of the
event's best box, computed from its snapshot with the hub's own NanoDet and kept in the event's attributes, so the
calibration is rebuilt from the events at start and a deleted event takes its correction with it. Nothing is sent
anywhere; the provider's model (the slot's) is never changed by it.
"""

from __future__ import annotations

import logging
import math
import threading

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
from homewarden.store.database import EventStore

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


class HouseholdCorrections:
    """The household's calibration: rebuilt from corrected events, extended by each new correction."""

    def __init__(self, events: EventStore, scorer: CropScorer) -> None:
        self._events = events
        self._scorer = scorer
        self._lock = threading.Lock()
        self._calibration = HouseholdCalibration()
        self._slots: list[VerifierSlot] = []

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
        x1, y1, x2, y2 = (float(value) for value in record.box)
        best = Detection("person", record.score, (x1, y1, x2, y2))
        correction = correction_from_snapshot(record.id, person, snapshot, best, self._scorer)
        if correction is None:
            log.info("event %s: its box does not fit its snapshot; the household calibration skips it", record.id)
            return False
        self._events.set_attribute(record.id, FEATURES_ATTRIBUTE, encode_features(correction.features))
        self._publish(with_correction(self._calibration, correction))
        return True

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
