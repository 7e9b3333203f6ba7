"""The false-alarm verifier on the hub: a signed model file that re-checks person detections before they count.

The model file is JSON, never pickle: an envelope ``{"format", "payload", "signature"}`` whose payload (base64 of
canonical JSON) holds the standardisation, the weights of one or more linear shards and the per-class calibration,
and whose signature is Ed25519 over the payload bytes, made by the cloud's program key. docs/training.md describes it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from homewarden.config.model import VerifierConfig
from homewarden.detect.base import Detection, Image
from homewarden.detect.body_parts import BODY_PART_GROUPS, BodyPartScorer, body_part_scorer
from homewarden.detect.labels import COCO_LABELS

log = logging.getLogger(__name__)

ENVELOPE_FORMAT = "homewarden-signed-model/1"
MODEL_FORMAT = "homewarden-verifier/1"
# The feature set's name: stored items and models of another set are recomputed or refused, never mixed.
FEATURES = "nanodet-groups-bodyparts-v2"
CLASSES: tuple[str, ...] = ("person", "cat", "dog", "animal", "vehicle", "nothing")
# What a detection the verifier does not believe to be a person becomes; None drops it.
RELABEL: dict[str, str | None] = {"cat": "cat", "dog": "dog", "animal": None, "vehicle": "car", "nothing": None}
# The crop the verifier looks at: the box grown by this factor, squared, so NanoDet sees some context.
CROP_GROWTH = 1.2
MIN_CROP = 32
GEOMETRY = ("score", "log_aspect", "area_share", "width_share", "height_share", "centre_y")
# NanoDet's 80 class scores on the crop, in six groups (each the best score of its members). All 80 let a model learn
# what the few donated scenes look like (a chair, a bench, a clock on the wall) rather than what a person is: held out
# by clip on the shared footage (docs/benchmarks.md, "Verifier, generalising"), the groups with the body parts drop up
# to 7 of the aquarium's 12 false persons (0-5 with other calibration folds) and keep 98.5 % of the people; the 80
# scores drop none.
CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "person": ("person",),
    "cat": ("cat",),
    "dog": ("dog",),
    "animal": ("bird", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    "vehicle": ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"),
}
_GROUPED = {name for members in CLASS_GROUPS.values() for name in members}
_CLASS_COLUMNS = [[COCO_LABELS.index(name) for name in members] for members in CLASS_GROUPS.values()] + [
    [index for index, name in enumerate(COCO_LABELS) if name not in _GROUPED]
]
CLASS_SCORES = tuple(f"nanodet:{group}" for group in (*CLASS_GROUPS, "other"))
BODY_PARTS = tuple(f"body:{group}" for group in BODY_PART_GROUPS)

FloatArray = npt.NDArray[np.float64]


class VerifierLoadError(Exception):
    """A verifier model file that cannot be used; the message is for the user."""


class DetectionReview(Protocol):
    """A second look at a frame's detections before tracking (the verifier, or a benchmark's recorder)."""

    def review(self, now: float, image: Image, detections: list[Detection]) -> list[Detection]:
        """Return the detections to track, in a frame analysed at `now`."""
        ...


@runtime_checkable
class CropScorer(Protocol):
    """A detector that can say how much of each class it sees in an image (NanoDetDetector)."""

    def class_scores(self, image: Image) -> npt.NDArray[np.float32]:
        """Return each class's best score anywhere in a BGR image."""
        ...


def feature_crop(image: Image, box: tuple[float, float, float, float]) -> Image:
    """Cut the square crop around a box that the verifier's features are computed on."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1, MIN_CROP) * CROP_GROWTH
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    right, bottom = min(width, math.ceil(cx + side / 2)), min(height, math.ceil(cy + side / 2))
    return image[top : max(bottom, top + 1), left : max(right, left + 1)]


def detection_features(
    scorer: CropScorer, image: Image, detection: Detection, body_parts: BodyPartScorer | None = None
) -> FloatArray:
    """Return a detection's features: NanoDet's class-group scores on its crop, its box geometry, body-part scores."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = detection.box
    box_w, box_h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    geometry = [
        detection.score,
        math.log(box_h / box_w),
        box_w * box_h / (width * height),
        box_w / width,
        box_h / height,
        (y1 + y2) / 2 / height,
    ]
    crop = feature_crop(image, detection.box)
    scores = scorer.class_scores(crop).astype(np.float64)
    groups = np.array([scores[columns].max() for columns in _CLASS_COLUMNS], dtype=np.float64)
    parts = (body_parts or body_part_scorer()).group_scores(crop)
    return np.concatenate([groups, np.array(geometry, dtype=np.float64), parts])


def softmax(logits: FloatArray) -> FloatArray:
    """Turn (n, k) logits into probabilities per row."""
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: FloatArray = weights / weights.sum(axis=1, keepdims=True)
    return result


@dataclass(frozen=True)
class LinearShard:
    """One trained shard: standardisation and a multinomial logistic regression."""

    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: FloatArray

    def probabilities(self, features: FloatArray) -> FloatArray:
        """Return the shard's class probabilities for (n, d) features."""
        return softmax(((features - self.mean) / self.scale) @ self.coef.T + self.intercept)


@dataclass(frozen=True)
class VerifierModel:
    """A verified verifier model, ready to apply."""

    version: str
    classes: tuple[str, ...]
    shards: tuple[LinearShard, ...]
    # Per class, a log-offset added to the shards' mean probability before renormalising, fitted by the cloud on
    # clips the shards did not train on (their own probabilities are over-confident on what they have seen).
    calibration: FloatArray
    trained_on: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: FloatArray) -> FloatArray:
        """Return calibrated class probabilities for (n, d) features: the shards' mean, then the calibration."""
        mean = np.mean([shard.probabilities(features) for shard in self.shards], axis=0)
        return softmax(np.log(np.clip(mean, 1e-12, 1.0)) + self.calibration)


def _array(value: Any, shape: Sequence[int], what: str) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != tuple(shape) or not np.all(np.isfinite(array)):
        raise VerifierLoadError(f"verifier model: {what} must be finite numbers of shape {tuple(shape)}")
    return array


def model_from_payload(payload: dict[str, Any]) -> VerifierModel:
    """Build a model from a verified payload, or raise VerifierLoadError naming what is wrong."""
    try:
        if payload["format"] != MODEL_FORMAT:
            raise VerifierLoadError(f"verifier model: format {payload['format']!r}, this hub reads {MODEL_FORMAT!r}")
        if payload["features"] != FEATURES:
            raise VerifierLoadError(f"verifier model: features {payload['features']!r}, this hub makes {FEATURES!r}")
        classes = tuple(str(name) for name in payload["classes"])
        if "person" not in classes or not set(classes) <= set(CLASSES):
            raise VerifierLoadError(f"verifier model: classes {list(classes)} are not a subset of {list(CLASSES)}")
        width = int(payload["feature_count"])
        shards = tuple(
            LinearShard(
                _array(shard["mean"], (width,), "mean"),
                _array(shard["scale"], (width,), "scale"),
                _array(shard["coef"], (len(classes), width), "coef"),
                _array(shard["intercept"], (len(classes),), "intercept"),
            )
            for shard in payload["shards"]
        )
        if not shards or any(np.any(shard.scale <= 0) for shard in shards):
            raise VerifierLoadError("verifier model: no shards, or a scale that is not positive")
        calibration = _array(payload["calibration"], (len(classes),), "calibration")
        return VerifierModel(str(payload["version"]), classes, shards, calibration, dict(payload.get("trained_on", {})))
    except (KeyError, TypeError, ValueError) as exc:
        raise VerifierLoadError(f"verifier model: missing or malformed field ({exc})") from None


def read_signed_model(data: bytes, key: VerifyKey) -> VerifierModel:
    """Check a model file's signature with the program's key and read it; raise VerifierLoadError if it fails."""
    try:
        envelope = json.loads(data)
        if envelope["format"] != ENVELOPE_FORMAT:
            raise VerifierLoadError(f"verifier model: not a {ENVELOPE_FORMAT} file")
        payload = base64.b64decode(envelope["payload"], validate=True)
        signature = bytes.fromhex(envelope["signature"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError, binascii.Error):
        raise VerifierLoadError("verifier model: not a signed model file") from None
    try:
        key.verify(payload, signature)
    except (BadSignatureError, ValueError):
        raise VerifierLoadError("verifier model: the signature does not match the program's key") from None
    try:
        content = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise VerifierLoadError("verifier model: signed payload is not JSON") from None
    if not isinstance(content, dict):
        raise VerifierLoadError("verifier model: signed payload is not an object")
    return model_from_payload(content)


class HouseholdAdjustment(Protocol):
    """The household's own calibration (detect/household_calibration.py), applied after the provider's model."""

    @property
    def corrections(self) -> Sequence[object]:
        """Return the household's corrections (none: the adjustment changes nothing)."""
        ...

    def adjust(self, features: FloatArray, person_probability: FloatArray) -> FloatArray:
        """Return the person probabilities the household's corrections move."""
        ...


class VerifierSlot:
    """The model in use, swapped atomically; a file that fails to load leaves the previous model in place."""

    def __init__(self, key: VerifyKey | None = None) -> None:
        self._key = key
        self._lock = threading.Lock()
        self._model: VerifierModel | None = None
        self._household: HouseholdAdjustment | None = None

    @property
    def model(self) -> VerifierModel | None:
        """Return the model in use (None: no verifier yet)."""
        return self._model

    @property
    def household(self) -> HouseholdAdjustment | None:
        """Return the household's own calibration (None: no corrections), applied after the provider's model."""
        return self._household

    def set_household(self, calibration: HouseholdAdjustment | None) -> None:
        """Swap in the household's calibration; cameras use it from their next frame."""
        self._household = calibration

    def load(self, path: Path, key: VerifyKey | None = None) -> VerifierModel:
        """Switch to the model in a file; on any failure keep the current one and raise VerifierLoadError.

        ``key`` checks the signature instead of the slot's own (the program key pinned now, after a rotation).
        """
        verify_key = key or self._key
        if verify_key is None:
            raise VerifierLoadError("verifier model: no program key to check its signature with")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise VerifierLoadError(f"verifier model {path}: cannot read ({exc.strerror or exc})") from None
        model = read_signed_model(data, verify_key)
        with self._lock:
            previous, self._model = self._model, model
        log.info(
            "verifier model %s in use (was %s)", model.version, previous.version if previous is not None else "none"
        )
        return model

    def unload(self) -> None:
        """Stop using the model (it learned from a donation that ended): cameras go on without a verifier."""
        with self._lock:
            previous, self._model = self._model, None
        if previous is not None:
            log.info("verifier model %s no longer in use", previous.version)


@dataclass
class VerifierStats:
    """How many person detections the verifier saw and turned down."""

    checked: int = 0
    rejected: int = 0


class PersonVerifier:
    """Re-check each person detection with the slot's model; keep, relabel or drop it."""

    def __init__(self, slot: VerifierSlot, scorer: CropScorer, min_person_probability: float) -> None:
        self.slot = slot
        self.scorer = scorer
        self.min_person_probability = min_person_probability
        self.stats = VerifierStats()

    def review(self, now: float, image: Image, detections: list[Detection]) -> list[Detection]:
        """Return the detections with the persons the model does not believe relabelled or dropped."""
        model = self.slot.model
        household = self.slot.household
        people = [d for d in detections if d.label == "person"]
        corrected = household is not None and bool(household.corrections)
        if not people or (model is None and not corrected):
            return detections
        features = np.stack([detection_features(self.scorer, image, d) for d in people])
        if model is not None:
            probabilities = model.probabilities(features)
            person_probability = probabilities[:, model.classes.index("person")]
        else:
            # No model from the provider right now (none yet, or the one in use learned from a donation that ended
            # and was deleted before its replacement arrived): NanoDet's word stands, and only the household's own
            # corrections move it, so a marked false alarm stays dropped in between.
            probabilities = np.zeros((len(people), 0))
            person_probability = np.ones(len(people))
        if household is not None:
            person_probability = household.adjust(features, person_probability)
        verdicts: dict[int, Detection | None] = {}
        for detection, row, chance in zip(people, probabilities, person_probability, strict=True):
            self.stats.checked += 1
            if chance >= self.min_person_probability:
                continue
            self.stats.rejected += 1
            verdicts[id(detection)] = self._instead(model, row, detection)
        kept = []
        for detection in detections:
            replacement = verdicts.get(id(detection), detection)
            if replacement is not None:
                kept.append(replacement)
        return kept

    @staticmethod
    def _instead(model: VerifierModel | None, row: FloatArray, detection: Detection) -> Detection | None:
        """Return what a turned-down person detection becomes: the model's likeliest other class, or nothing."""
        if model is None:
            return None
        person = model.classes.index("person")
        others = [i for i in range(len(model.classes)) if i != person]
        label = RELABEL.get(model.classes[max(others, key=lambda i: row[i])])
        return None if label is None else Detection(label, detection.score, detection.box, cut=detection.cut)


def camera_verifier(config: VerifierConfig, slot: VerifierSlot | None, detector: object) -> PersonVerifier | None:
    """Return the verifier a camera runs, or None: turned off, no model slot, or a detector that cannot score crops."""
    if not config.enabled or slot is None or not isinstance(detector, CropScorer):
        return None
    return PersonVerifier(slot, detector, config.min_person_probability)
