"""The household's own calibration, on real footage: a false alarm it marks stops coming back, its people stay."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from nacl.signing import SigningKey

from homewarden.cloud.training.dataset import build_dataset
from homewarden.cloud.training.verifier import TrainedVerifier, signed_model_file, train_verifier
from homewarden.detect.base import Detection, Image
from homewarden.detect.household_calibration import (
    Correction,
    HouseholdCalibration,
    build_calibration,
    correction_from_snapshot,
    verdict_of,
)
from homewarden.detect.verifier import PersonVerifier, VerifierSlot, detection_features
from verifier_samples import EMPTY_BOXES, detector, frames, labelled_items

KEY = SigningKey(bytes(range(32)))
# The provider's model learned people and the empty room by the table (EMPTY_BOXES[1]), never the spot by the wall
# where this household's false alarm happens (EMPTY_BOXES[0]).
WALL = EMPTY_BOXES[0]


@pytest.fixture(scope="module")
def provider() -> TrainedVerifier:
    """Train the provider's model on visits 1-3 and the empty room judged at the table only."""
    items = [
        item
        for item in labelled_items()
        if item.donation_id in ("visit-1", "visit-2", "visit-3")
        or (item.label == "nothing" and item.sample_id[-1] == "1")
    ]
    return train_verifier(build_dataset(items, lambda _d: True), "provider-1")


def as_snapshot(image: Image) -> Image:
    """Return a frame as the hub keeps it for an event: a JPEG, decoded again."""
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert decoded is not None
    return np.ascontiguousarray(decoded)


def verifier_at(
    provider: TrainedVerifier, tmp_path_factory: pytest.TempPathFactory, threshold: float
) -> PersonVerifier:
    """Load the provider's signed model into a slot and return a camera's verifier on it."""
    path = tmp_path_factory.mktemp("model") / "model.json"
    path.write_bytes(signed_model_file(provider, KEY))
    slot = VerifierSlot(KEY.verify_key)
    slot.load(path)
    return PersonVerifier(slot, detector(), threshold)


def test_a_marked_false_alarm_is_dropped_the_next_time_and_the_household_s_people_are_kept(
    provider: TrainedVerifier, tmp_path_factory: pytest.TempPathFactory
) -> None:
    empty = [f for f in frames() if f.donation.startswith("empty")]
    visits = [f for f in frames() if f.donation == "visit-4" and f.detections]
    assert len(empty) >= 3
    assert visits
    ghost = Detection("person", 0.45, WALL)
    # Pick the provider's threshold under its own belief in the ghost: without the household it is kept.
    verifier = verifier_at(provider, tmp_path_factory, 0.5)
    model = verifier.slot.model
    assert model is not None
    ghost_rows = np.stack([detection_features(detector(), f.image, ghost) for f in empty])
    believed = model.probabilities(ghost_rows)[:, model.classes.index("person")]
    verifier.min_person_probability = float(min(believed.min() * 0.9, 0.5))
    for frame in empty:
        assert verifier.review(frame.time, frame.image, [ghost]) == [ghost]

    # The household marks the first one a false alarm (its snapshot, its best box), on this hub.
    first = empty[0]
    calibration = build_calibration([("event-1", False, ghost)], lambda _id: as_snapshot(first.image), detector())
    assert calibration.false_alarms == 1
    assert "1 false alarm" in calibration.summary()
    verifier.slot.set_household(calibration)
    for frame in empty[1:]:
        assert verifier.review(frame.time, frame.image, [ghost]) == []
    # People, standing where the false alarm was, are people still.
    for frame in visits:
        assert verifier.review(frame.time, frame.image, list(frame.detections)) == list(frame.detections)

    # The provider's model is untouched: the same file, the same weights.
    assert verifier.slot.model is model
    verifier.slot.set_household(HouseholdCalibration())
    assert verifier.review(empty[1].time, empty[1].image, [ghost]) == [ghost]


def test_without_a_model_from_the_provider_the_household_s_corrections_still_hold(
    provider: TrainedVerifier, tmp_path_factory: pytest.TempPathFactory
) -> None:
    empty = [f for f in frames() if f.donation.startswith("empty")]
    visits = [f for f in frames() if f.donation == "visit-4" and f.detections]
    ghost = Detection("person", 0.45, WALL)
    verifier = verifier_at(provider, tmp_path_factory, 0.3)
    calibration = build_calibration([("event-1", False, ghost)], lambda _id: as_snapshot(empty[0].image), detector())
    verifier.slot.set_household(calibration)
    # The model learned from a donation that ended: the hub deleted it before its replacement arrived.
    verifier.slot.unload()
    assert verifier.slot.model is None
    for frame in empty[1:]:
        assert verifier.review(frame.time, frame.image, [ghost]) == []
    for frame in visits:
        assert verifier.review(frame.time, frame.image, list(frame.detections)) == list(frame.detections)
    # With neither a model nor a correction nothing is checked: NanoDet's word stands, at no cost.
    verifier.slot.set_household(HouseholdCalibration())
    checked = verifier.stats.checked
    assert verifier.review(empty[1].time, empty[1].image, [ghost]) == [ghost]
    assert verifier.stats.checked == checked


def test_a_confirmed_person_raises_what_resembles_it_and_verdicts_are_read_from_attributes() -> None:
    visit = next(f for f in frames() if f.donation == "visit-4" and f.detections)
    person = visit.detections[0]
    row = correction_from_snapshot("e", True, visit.image, person, detector())
    assert row is not None
    features = np.array([row.features])
    low = np.array([0.2])
    raised = HouseholdCalibration((Correction("e", True, row.features),)).adjust(features, low)
    lowered = HouseholdCalibration((Correction("e", False, row.features),)).adjust(features, low)
    assert raised[0] > 0.8
    assert lowered[0] < 0.01
    # A correction made with another feature set says nothing.
    other = HouseholdCalibration((Correction("e", False, (1.0, 2.0)),))
    assert other.adjust(features, low)[0] == pytest.approx(0.2)
    # A box outside the snapshot gives no example.
    outside = Detection("person", 0.5, (700.0, 10.0, 900.0, 100.0))
    assert correction_from_snapshot("e", True, visit.image, outside, detector()) is None
    assert verdict_of({"household_verdict": "false_alarm"}) is False
    assert verdict_of({"household_verdict": "person"}) is True
    assert verdict_of({}) is None
