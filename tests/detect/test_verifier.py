"""The hub's verifier: signed model files only, atomic swaps with rollback, people kept and false persons dropped."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from nacl.signing import SigningKey

from homewarden.cloud.training.dataset import build_dataset, canonical_json
from homewarden.cloud.training.features import FEATURE_NAMES
from homewarden.cloud.training.verifier import TrainedVerifier, signed_model_file, train_verifier
from homewarden.config.model import VerifierConfig
from homewarden.detect.base import Detection
from homewarden.detect.verifier import (
    PersonVerifier,
    VerifierLoadError,
    VerifierSlot,
    camera_verifier,
    read_signed_model,
)
from verifier_samples import detector, frames, labelled_items

KEY = SigningKey(bytes(range(32)))
HELD_OUT = ("visit-4", "empty-3")


@pytest.fixture(scope="module")
def trained() -> TrainedVerifier:
    """Train on every sample but the held-out visit and empty stretch."""
    return train_verifier(build_dataset(labelled_items(), lambda d: d not in HELD_OUT), "v1")


def resigned(trained: TrainedVerifier, **changes: object) -> bytes:
    """Return a model file whose payload was changed and signed again with the right key."""
    payload = canonical_json(trained.payload | changes)
    envelope = {
        "format": "homewarden-signed-model/1",
        "payload": base64.b64encode(payload).decode(),
        "signature": KEY.sign(payload).signature.hex(),
    }
    return json.dumps(envelope).encode()


def test_a_model_signed_by_the_program_key_loads_and_one_changed_byte_is_refused(trained: TrainedVerifier) -> None:
    data = signed_model_file(trained, KEY)
    assert read_signed_model(data, KEY.verify_key).version == "v1"
    with pytest.raises(VerifierLoadError, match="signature does not match"):
        read_signed_model(data, SigningKey(bytes(32)).verify_key)
    envelope = json.loads(data)
    payload = bytearray(base64.b64decode(envelope["payload"]))
    payload[len(payload) // 2] ^= 1
    envelope["payload"] = base64.b64encode(bytes(payload)).decode()
    with pytest.raises(VerifierLoadError, match="signature does not match"):
        read_signed_model(json.dumps(envelope).encode(), KEY.verify_key)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x04pickle", "not a signed model file"),
        (b'{"format": "something-else", "payload": "", "signature": ""}', "not a homewarden-signed-model/1 file"),
        (b'{"format": "homewarden-signed-model/1", "payload": "***", "signature": "00"}', "not a signed model file"),
    ],
)
def test_what_is_not_a_signed_model_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(VerifierLoadError, match=message):
        read_signed_model(data, KEY.verify_key)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"features": "yolo-crop-v9"}, "features 'yolo-crop-v9', this hub makes 'nanodet-groups-bodyparts-v2'"),
        ({"format": "homewarden-verifier/7"}, "format 'homewarden-verifier/7'"),
        ({"classes": ["ghost", "nothing"]}, "not a subset"),
        ({"calibration": [0.0]}, "calibration must be finite numbers of shape"),
        ({"shards": []}, "no shards"),
    ],
)
def test_a_signed_model_this_hub_cannot_apply_is_refused(
    trained: TrainedVerifier, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(VerifierLoadError, match=message):
        read_signed_model(resigned(trained, **changes), KEY.verify_key)


def test_the_slot_swaps_models_and_keeps_the_last_good_one_when_a_load_fails(
    tmp_path: Path, trained: TrainedVerifier
) -> None:
    slot = VerifierSlot(KEY.verify_key)
    assert slot.model is None
    first, second, forged = tmp_path / "v1.json", tmp_path / "v2.json", tmp_path / "forged.json"
    first.write_bytes(signed_model_file(trained, KEY))
    second.write_bytes(resigned(trained, version="v2"))
    forged.write_bytes(signed_model_file(trained, SigningKey(bytes(32))))
    assert slot.load(first).version == "v1"
    with pytest.raises(VerifierLoadError, match="signature"):
        slot.load(forged)
    with pytest.raises(VerifierLoadError, match="cannot read"):
        slot.load(tmp_path / "missing.json")
    assert slot.model is not None
    assert slot.model.version == "v1"
    slot.load(second)
    assert slot.model.version == "v2"


def test_the_verifier_keeps_people_and_drops_the_empty_room_on_frames_it_never_trained_on(
    tmp_path: Path, trained: TrainedVerifier
) -> None:
    slot = VerifierSlot(KEY.verify_key)
    (tmp_path / "model.json").write_bytes(signed_model_file(trained, KEY))
    slot.load(tmp_path / "model.json")
    verifier = PersonVerifier(slot, detector(), min_person_probability=0.3)
    visits = [f for f in frames() if f.donation == "visit-4" and f.detections]
    empty = [f for f in frames() if f.donation == "empty-3"]
    assert visits
    assert empty
    for frame in visits:
        assert verifier.review(frame.time, frame.image, list(frame.detections)) == list(frame.detections)
    cat = Detection("cat", 0.5, (10.0, 10.0, 60.0, 50.0))
    for frame in empty:
        ghost = Detection("person", 0.45, (330.0, 80.0, 440.0, 360.0))
        # Only persons are judged: the cat passes untouched, the person the empty room is not is dropped.
        assert verifier.review(frame.time, frame.image, [ghost, cat]) == [cat]
    people = sum(len(f.detections) for f in visits)
    assert verifier.stats.checked == people + len(empty)
    assert verifier.stats.rejected == len(empty)


def test_without_a_model_or_when_turned_off_nothing_changes(trained: TrainedVerifier) -> None:
    slot = VerifierSlot(KEY.verify_key)
    frame = frames()[0]
    ghost = [Detection("person", 0.45, (330.0, 80.0, 440.0, 360.0))]
    assert PersonVerifier(slot, detector(), 0.3).review(frame.time, frame.image, ghost) == ghost
    assert camera_verifier(VerifierConfig(), slot, detector()) is None
    assert camera_verifier(VerifierConfig(enabled=True), None, detector()) is None
    assert camera_verifier(VerifierConfig(enabled=True), slot, object()) is None
    assert isinstance(camera_verifier(VerifierConfig(enabled=True), slot, detector()), PersonVerifier)


def test_the_features_are_class_group_scores_then_the_box_geometry_then_body_parts() -> None:
    frame = next(f for f in frames() if f.detections)
    row = np.array(next(item.features for item in labelled_items() if item.donation_id == frame.donation))
    assert row.shape == (len(FEATURE_NAMES),) == (6 + 6 + 7,)
    assert row[0] > 0.5  # NanoDet's own `person` score on the crop of a person
    assert np.all((row[:6] >= 0) & (row[:6] <= 1))  # NanoDet's best score per class group
    assert np.all((row[12:] >= 0) & (row[12:] <= 1))  # NudeNet's best score per body-part group
