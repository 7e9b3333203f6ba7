"""Train the false-alarm verifier: deterministic, sharded by donation (SISA), signed for the hubs.

Same dataset, same shard count, same version: the same model file, byte for byte. Samples are sorted by id, the
solver is scikit-learn's L-BFGS on one BLAS thread, floats are written at full precision in canonical JSON, and
Ed25519 signatures are deterministic. A donation lives in exactly one shard (by the hash of its id), so a withdrawal
retrains that shard only; the other shards are reused as they are, and the result equals training from scratch.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from nacl.signing import SigningKey
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from homewarden import __version__
from homewarden.cloud.training.dataset import Dataset, canonical_json
from homewarden.cloud.training.features import FEATURE_NAMES, FEATURES
from homewarden.detect.verifier import CLASSES, ENVELOPE_FORMAT, MODEL_FORMAT, LinearShard, model_from_payload, softmax

FloatArray = npt.NDArray[np.float64]
# A class a shard never saw gets this logit offset: its probability is effectively zero, but stays a finite number.
ABSENT_CLASS = -30.0
REGULARISATION = 1.0
# The least spread a feature is standardised by. Scores (0-1) that barely moved in training, a body part the donated
# clips never showed, would otherwise be divided by almost nothing, and the first crop where they do move (a person
# seen from behind, after training on faces) would swing the decision by dozens of standard deviations.
MIN_SCALE = 0.05
MAX_ITERATIONS = 2000
CALIBRATION_FOLDS = 3
# The calibration pools the out-of-fold probabilities of this many fold assignments (each a hash of the repeat and the
# donation id): with one, which donations happened to share a fold moved the offsets enough to keep 6 or 13 of the
# aquarium's 14 false persons (docs/benchmarks.md, "Verifier, motion").
CALIBRATION_REPEATS = 5
# The verifier must not cost visits: the person offset is raised until this share of the people in the folds a
# model did not train on keep a person probability of at least the hub's default threshold
# (detect.verifier.min_person_probability). Whatever false persons it can still drop are a bonus. A fold's model
# learned from two thirds of the donations only, so it is harder on people than the model trained on all of them:
# at 0.96 the models held out by clip still kept 98.8-99.2 % of the true persons of the shared footage in six fold
# assignments (docs/benchmarks.md, "Verifier, motion"; 0.99 kept 99.4-99.7 % and up to 11 of 14 false ones).
PERSON_RECALL = 0.96
DEFAULT_THRESHOLD = 0.3


class TrainingError(ValueError):
    """A dataset the verifier cannot be trained on; the message says why."""


def shard_of(donation_id: str, shards: int) -> int:
    """Return the shard a donation's samples train in (stable across runs and machines)."""
    return int.from_bytes(hashlib.sha256(donation_id.encode()).digest()[:8], "big") % shards


def _fit(features: FloatArray, labels: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Fit standardisation and a multinomial logistic regression over every class of CLASSES."""
    present = sorted(set(labels.tolist()))
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale = np.maximum(scale, MIN_SCALE)
    standard = (features - mean) / scale
    coef = np.zeros((len(CLASSES), features.shape[1]))
    intercept = np.full(len(CLASSES), ABSENT_CLASS)
    if len(present) == 1:
        # A shard whose donations all show one class can only say that class; the other shards outvote it.
        intercept[present[0]] = 0.0
        return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": coef.tolist(), "intercept": intercept.tolist()}
    with threadpool_limits(limits=1):
        regression = LogisticRegression(
            C=REGULARISATION, max_iter=MAX_ITERATIONS, solver="lbfgs", class_weight="balanced"
        )
        regression.fit(standard, labels)
    if len(present) == 2:
        # scikit-learn keeps one row for two classes: the softmax of (0, w.x + b) is the same model.
        coef[present[1]] = regression.coef_[0]
        intercept[present[0]], intercept[present[1]] = 0.0, regression.intercept_[0]
    else:
        for row, index in enumerate(regression.classes_):
            coef[int(index)], intercept[int(index)] = regression.coef_[row], regression.intercept_[row]
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": coef.tolist(),
        "intercept": intercept.tolist(),
    }


@dataclass(frozen=True)
class ShardModel:
    """One shard's weights and the digest of the samples it learned from (to know when it must be retrained)."""

    samples_digest: str
    samples: int
    weights: dict[str, Any] | None


def _shard_samples(dataset: Dataset, shards: int) -> list[Dataset]:
    parts: list[list[Any]] = [[] for _ in range(shards)]
    for item in dataset.samples:
        parts[shard_of(item.donation_id, shards)].append(item)
    return [Dataset(tuple(part)) for part in parts]


def train_shards(dataset: Dataset, shards: int, reuse: Sequence[ShardModel] = ()) -> list[ShardModel]:
    """Train each shard, reusing a previous shard model whose samples are unchanged."""
    if shards < 1:
        raise TrainingError("shards must be at least 1")
    previous = {model.samples_digest: model for model in reuse}
    models = []
    for part in _shard_samples(dataset, shards):
        digest = part.digest()
        if digest in previous:
            models.append(previous[digest])
            continue
        features, labels = part.matrix()
        models.append(ShardModel(digest, len(part.samples), _fit(features, labels) if part.samples else None))
    return models


def _shard_probabilities(weights: dict[str, Any], features: FloatArray) -> FloatArray:
    names = ("mean", "scale", "coef", "intercept")
    shard = LinearShard(*(np.asarray(weights[name], dtype=np.float64) for name in names))
    return shard.probabilities(features)


def fit_calibration(dataset: Dataset) -> list[float]:
    """Fit a per-class log-offset on probabilities from folds that did not train on the sample (by donation).

    Every donation is held out once in each of CALIBRATION_REPEATS fold assignments, and the offsets fit all the
    out-of-fold probabilities together.
    """
    donations = dataset.donations
    if len(donations) < CALIBRATION_FOLDS:
        return [0.0] * len(CLASSES)
    log_probs, truths, judged = [], [], []
    assignments = [(repeat, fold) for repeat in range(CALIBRATION_REPEATS) for fold in range(CALIBRATION_FOLDS)]
    for repeat, fold in assignments:
        held = {d for d in donations if shard_of(f"{repeat}/{d}", CALIBRATION_FOLDS) == fold}
        train, test = dataset.without(held), Dataset(tuple(i for i in dataset.samples if i.donation_id in held))
        seen = {item.label for item in train.samples}
        if not test.samples or len(seen) < 2:
            continue
        features, labels = train.matrix()
        test_features, test_labels = test.matrix()
        log_probs.append(np.log(np.clip(_shard_probabilities(_fit(features, labels), test_features), 1e-12, 1.0)))
        truths.append(test_labels)
        # The person raise below may only count people of a fold that trained on people: one that never saw any
        # gives them a probability of about e^-30, and with few donations (a fold holding every visit) that pushed
        # the person offset to +14, a model that calls everything a person.
        judged.append(np.full(len(test_labels), "person" in seen))
    if not log_probs:
        return [0.0] * len(CLASSES)
    # A class a fold never trained on stays in the log-loss: it is what a model meets when a new kind of scene
    # arrives, and it pulls that class's offset up (held out by clip, "nothing" is the class that needs it).
    scores, truth, person_judged = np.concatenate(log_probs), np.concatenate(truths), np.concatenate(judged)

    def loss(offsets: FloatArray) -> tuple[float, FloatArray]:
        probs = softmax(scores + offsets)
        rows = np.arange(len(truth))
        onehot = np.zeros_like(probs)
        onehot[rows, truth] = 1.0
        # A little pull towards zero keeps classes absent from the folds where they are.
        value = -np.log(np.clip(probs[rows, truth], 1e-12, 1.0)).mean() + 1e-3 * float(offsets @ offsets)
        return float(value), (probs - onehot).mean(axis=0) + 2e-3 * offsets

    with threadpool_limits(limits=1):
        result = minimize(loss, np.zeros(len(CLASSES)), jac=True, method="L-BFGS-B")
    offsets = np.array(result.x, dtype=np.float64)
    person = CLASSES.index("person")
    people = (truth == person) & person_judged
    if people.any():
        # The log-loss weighs a lost visitor like a kept cat; the household does not. Per person, the raise of the
        # person offset that lifts it to the threshold: p' = p e^d / (p e^d + 1 - p) >= t.
        chance = np.clip(softmax(scores + offsets)[people, person], 1e-12, 1 - 1e-12)
        needed = np.log(DEFAULT_THRESHOLD * (1 - chance) / ((1 - DEFAULT_THRESHOLD) * chance))
        offsets[person] += max(0.0, float(np.quantile(needed, PERSON_RECALL, method="higher")))
    return [float(value) for value in offsets]


@dataclass(frozen=True)
class TrainedVerifier:
    """A trained verifier: its payload (what the hub reads) and its shards (what a retraining may reuse)."""

    payload: dict[str, Any]
    shards: tuple[ShardModel, ...]

    def payload_bytes(self) -> bytes:
        """Return the canonical payload the signature covers."""
        return canonical_json(self.payload)


def _one_class(weights: dict[str, Any]) -> bool:
    """Say whether a shard learned a single class (its donations all showed one): it can only repeat that class."""
    intercept = np.asarray(weights["intercept"])
    return not np.any(np.asarray(weights["coef"])) and int(np.sum(intercept != ABSENT_CLASS)) == 1


def voting_shards(models: Sequence[ShardModel]) -> list[dict[str, Any]]:
    """Return the weights of the shards whose probabilities the model averages.

    A shard that holds no donation (more shards than donations) has nothing to say. One that learned a single class
    (with few donations, a shard of visits only) would only pull every answer towards that class: averaged with the
    others, four shards of which two saw only people call an empty room half a person. Such shards vote only when no
    shard learned two classes.
    """
    trained = [model.weights for model in models if model.weights is not None]
    mixed = [weights for weights in trained if not _one_class(weights)]
    return mixed or trained


def train_verifier(
    dataset: Dataset, version: str, shards: int = 1, previous: TrainedVerifier | None = None, calibrate: bool = True
) -> TrainedVerifier:
    """Train a verifier on a dataset; shards whose samples `previous` already learned are reused."""
    if len({item.label for item in dataset.samples}) < 2:
        raise TrainingError("the dataset needs samples of two classes at least")
    models = train_shards(dataset, shards, previous.shards if previous is not None else ())
    present = sorted({item.label for item in dataset.samples}, key=CLASSES.index)
    payload = {
        "format": MODEL_FORMAT,
        "version": version,
        "features": FEATURES,
        "feature_count": len(FEATURE_NAMES),
        "classes": list(CLASSES),
        "shards": voting_shards(models),
        "calibration": fit_calibration(dataset) if calibrate else [0.0] * len(CLASSES),
        "trained_on": {
            "dataset": dataset.digest(),
            "donations": len(dataset.donations),
            "homes": len({item.home_id for item in dataset.samples}),
            "samples": len(dataset.samples),
            "classes_seen": present,
            "code": __version__,
        },
    }
    model_from_payload(payload)  # the hub must be able to read what the cloud signs
    return TrainedVerifier(payload, tuple(models))


def retrain_without(
    trained: TrainedVerifier, dataset: Dataset, withdrawn: Collection[str], version: str
) -> TrainedVerifier:
    """Retrain after a withdrawal: only the shards that held a withdrawn donation learn again."""
    return train_verifier(dataset.without(withdrawn), version, len(trained.shards), previous=trained)


def signed_model_file(trained: TrainedVerifier, key: SigningKey) -> bytes:
    """Return the model file the hubs download: the payload and the program key's signature over it."""
    payload = trained.payload_bytes()
    envelope = {
        "format": ENVELOPE_FORMAT,
        "payload": base64.b64encode(payload).decode(),
        "signature": key.sign(payload).signature.hex(),
    }
    return canonical_json(envelope)
