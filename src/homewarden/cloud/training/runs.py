"""One training run: labels of active donations → dataset → training → evaluation → signed file → registry.

A run reads the reviewers' label rows of donations whose consent is active (labelled, not withdrawn, expired,
refused or flagged, not past ``expires_at``), opens each copy with a row not read before with the program key in
memory, reads its person detections and boxes (``clips.read_clip``; the items are kept per label row until the
donation ends, so a copy is read once), keeps the evaluation donations out (``is_evaluation``), trains the
verifier (reusing the shards of the model it follows whose samples did not change), judges it and the promoted
model on the evaluation donations, signs it and records it. It is promoted only when it beats the promoted model
there, or when no model is promoted, or when it replaces a tainted one (a model trained on an ended donation never
stays on a hub, whatever its score). A run whose label rows are those of an existing model has nothing to learn.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.config import TrainingConfig
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.deletion import claim_key, doom_blob
from homewarden.cloud.models import (
    ReviewDonation,
    ReviewLabel,
    TrainedModel,
    TrainedModelDonation,
    TrainingLabelItems,
)
from homewarden.cloud.object_store import ObjectStore, ObjectStoreError
from homewarden.cloud.review.assignments import LABELLED
from homewarden.cloud.review.audit import CLOUD_ACTOR, record
from homewarden.cloud.review.donations import read_copy
from homewarden.cloud.review.keys import ProgramKeyError, ProgramKeys
from homewarden.cloud.review.signatures import iso
from homewarden.cloud.training.clips import ClipReadError, PersonDetector, read_clip
from homewarden.cloud.training.dataset import Dataset, LabelledItem, build_dataset, canonical_json
from homewarden.cloud.training.features import FEATURES
from homewarden.cloud.training.labels import LabelRow, LabelRowError, boxes_of, labelled_items
from homewarden.cloud.training.registry import (
    CANDIDATE,
    MODEL_REPLACED,
    PROMOTED,
    RETIRED,
    TAINTED,
    labels_digest,
    manifest_key,
    model_key,
)
from homewarden.cloud.training.verifier import (
    ShardModel,
    TrainedVerifier,
    TrainingError,
    signed_model_file,
    train_verifier,
)
from homewarden.detect.verifier import VerifierLoadError, VerifierModel, read_signed_model
from homewarden.store.crypto import SealedObjectError

log = logging.getLogger(__name__)

# Promotion compares models at the hub's default detect.verifier.min_person_probability.
EVALUATION_THRESHOLD = 0.3
# The name of the lock one training run holds (CloudDatabase.held).
TRAINING_LOCK = "homewarden.cloud.training"


def is_evaluation(donation_id: str, percent: int) -> bool:
    """Tell whether a donation belongs to the evaluation set (a hash of its id: always the same ones, never trained)."""
    value = int.from_bytes(hashlib.sha256(f"homewarden-evaluation:{donation_id}".encode()).digest()[:8], "big")
    return value % 100 < percent


def evaluate(model: VerifierModel, dataset: Dataset) -> dict[str, Any]:
    """Judge a model on labelled samples: persons kept, non-persons taken for a person, and one score to compare."""
    if not dataset.samples:
        return {"samples": 0, "score": None}
    features, labels = dataset.matrix()
    probabilities = model.probabilities(features)
    said_person = probabilities[:, model.classes.index("person")] >= EVALUATION_THRESHOLD
    is_person = labels == 0  # CLASSES[0] is "person"
    persons, others = int(is_person.sum()), int((~is_person).sum())
    kept = float(said_person[is_person].mean()) if persons else None
    false = float(said_person[~is_person].mean()) if others else None
    accuracy = float((np.argmax(probabilities, axis=1) == labels).mean())
    # Youden's J at the hub's threshold: persons kept minus false persons; one side alone when the set has one.
    score = (kept if kept is not None else 1.0) - (false if false is not None else 0.0)
    return {
        "samples": len(dataset.samples),
        "persons": persons,
        "others": others,
        "person_kept": kept,
        "false_person": false,
        "accuracy": accuracy,
        "score": score,
        "threshold": EVALUATION_THRESHOLD,
    }


def _item_of(row: LabelRow, stored: dict[str, Any]) -> LabelledItem:
    """Return a kept item with its provenance from the label row it came from."""
    return LabelledItem(
        sample_id=str(stored["sample"]),
        donation_id=row.donation_id,
        consent_id=f"{row.donation_id}:{row.consent}",
        home_id=row.home_id,
        label=str(stored["label"]),
        label_source=f"label:{row.label_id}",
        features=tuple(float(value) for value in stored["features"]),
    )


def beats(candidate: dict[str, Any], current: dict[str, Any]) -> bool:
    """Tell whether a candidate's evaluation is strictly better than the current model's on the same samples."""
    if candidate.get("score") is None or current.get("score") is None:
        return False
    return float(candidate["score"]) > float(current["score"])


@dataclass(frozen=True)
class TrainingOutcome:
    """What a run did, in one line for the log and the operator."""

    summary: str
    version: int | None = None
    promoted: bool = False
    replaced: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Donation:
    donation_id: str
    home_id: str
    consent: str


class TrainingRuns:
    """Train, judge, sign and record verifier models from the review program's labels."""

    def __init__(
        self,
        database: CloudDatabase,
        store: ObjectStore,
        keys: ProgramKeys,
        config: TrainingConfig,
        detector: Callable[[], PersonDetector],
        delete_blobs: Callable[[list[str]], None],
    ) -> None:
        """Work on the cloud's database, store and program key; ``detector`` makes NanoDet on first use."""
        self._database = database
        self._store = store
        self._keys = keys
        self._config = config
        self._detector = detector
        self._delete_blobs = delete_blobs

    def run(self, force: bool = False) -> TrainingOutcome:
        """Train a model if there is something new to learn or a tainted model to replace; record and maybe promote.

        One run at a time across every worker and process: two runs started together (a beat firing while a slow run
        goes on, or the command beside a worker) would both train on the same labels and promote one after the other.
        """
        with self._database.held(TRAINING_LOCK) as alone:
            if not alone:
                return TrainingOutcome("another training run is going on; this one did nothing")
            return self._run(force)

    def _run(self, force: bool) -> TrainingOutcome:
        now = utc_now()
        rows, donations = self._active_labels(now)
        digest = labels_digest([(row.label_id, row.donation_id) for row in rows])
        with self._database.session() as session:
            current = session.scalar(select(TrainedModel).where(TrainedModel.state == PROMOTED))
            replacing = self._to_replace(session)
            follows = replacing or current
            known = session.scalar(
                select(TrainedModel.version).where(TrainedModel.labels_digest == digest, TrainedModel.state != TAINTED)
            )
            previous = self._shards_of(follows)
            current_version = None if current is None else current.version
            replacing_version = None if replacing is None else replacing.version
        if known is not None and replacing is None and not force:
            return TrainingOutcome(f"nothing new to learn: model {known} was trained on these labels")
        items = self._items(rows, donations)
        dataset = build_dataset(items, {d.donation_id for d in donations})
        counts = Counter(item.label for item in dataset.samples)
        log.info(
            "training data: %d label rows of %d donations gave %d samples (%s)",
            len(rows),
            len(donations),
            len(dataset.samples),
            ", ".join(f"{label} {count}" for label, count in sorted(counts.items())) or "none",
        )
        training = Dataset(tuple(i for i in dataset.samples if not self._evaluation(i.donation_id)))
        evaluation = Dataset(tuple(i for i in dataset.samples if self._evaluation(i.donation_id)))
        version = self._next_version()
        try:
            trained = train_verifier(training, str(version), self._config.shards, previous=previous)
        except TrainingError as error:
            if replacing_version is not None:
                self._retire_without_replacement(replacing_version)
                return TrainingOutcome(
                    f"model {replacing_version} withdrawn from the hubs with no replacement: {error}",
                    replaced=replacing_version,
                )
            return TrainingOutcome(f"no model trained: {error}")
        key = self._keys.current()
        model_file = signed_model_file(trained, key.signing_key)
        candidate = read_signed_model(model_file, VerifyKey(key.verify_key))
        metrics = evaluate(candidate, evaluation)
        current_metrics = self._current_metrics(current_version, evaluation)
        if replacing_version is not None and current_version is None:
            promote, why = True, f"replaces model {replacing_version}, which learned from a donation that ended"
        elif current_version is None:
            promote, why = True, "no model was promoted"
        elif beats(metrics, current_metrics):
            promote, why = True, f"beats model {current_version} on the evaluation set"
        else:
            promote, why = False, f"does not beat model {current_version} on the evaluation set"
        metrics = {**metrics, "current": {"version": current_version, **current_metrics}}
        return self._record(
            version, trained, training, model_file, metrics, digest, donations, promote, why, replacing_version
        )

    # Reading the review tables and the copies

    def _evaluation(self, donation_id: str) -> bool:
        return is_evaluation(donation_id, self._config.evaluation_percent)

    def read_donation(self, donation_id: str) -> int:
        """Read a newly labelled copy's items now and keep them, so a run need not; return how many were read.

        Queued when a reviewer labels (tasks.READ_LABELS): decoding a copy and running NanoDet on it is most of what
        a run with new labels costs, and done here it spreads over the workers as labels arrive. A copy whose
        consent ended meanwhile, or whose items are kept already, is not read.
        """
        rows, donations = self._active_labels(utc_now(), donation_id)
        return len(self._items(rows, donations))

    def _active_labels(self, now: datetime, donation_id: str | None = None) -> tuple[list[LabelRow], list[_Donation]]:
        """Return the label rows of donations whose consent is active (of one donation if given), and those."""
        with self._database.session() as session:
            query = (
                select(ReviewLabel, ReviewDonation)
                .join(ReviewDonation, ReviewDonation.donation_id == ReviewLabel.donation_id)
                .where(
                    ReviewDonation.state == LABELLED,
                    ReviewDonation.deleted_at.is_(None),
                    ReviewDonation.withdrawn_at.is_(None),
                    ReviewDonation.object_key.is_not(None),
                    ReviewDonation.expires_at > now,
                )
                .order_by(ReviewLabel.id)
            )
            if donation_id is not None:
                query = query.where(ReviewDonation.donation_id == donation_id)
            found = session.execute(query).all()
            rows, donations = [], {}
            for label, donation in found:
                consent = str(donation.details.get("consent", ""))
                rows.append(
                    LabelRow(
                        label_id=label.id,
                        donation_id=label.donation_id,
                        home_id=donation.home_id,
                        consent=consent,
                        verdict=label.verdict,
                        cause=label.cause,
                        label=label.label,
                        boxes=tuple(label.boxes or ()),
                    )
                )
                donations[donation.donation_id] = _Donation(donation.donation_id, donation.home_id, consent)
            return rows, sorted(donations.values(), key=lambda d: d.donation_id)

    def _items(self, rows: list[LabelRow], donations: list[_Donation]) -> list[LabelledItem]:
        """Return every row's labelled items: kept ones as they are, the others read from the copy (then kept).

        A copy is opened in memory only when one of its rows has no items for the current feature set yet; an
        unreadable copy is left out of the run (logged), never half of it.
        """
        by_donation: dict[str, list[LabelRow]] = defaultdict(list)
        for row in rows:
            by_donation[row.donation_id].append(row)
        with self._database.session() as session:
            kept = {
                cached.label_id: cached.items
                for cached in session.scalars(
                    select(TrainingLabelItems).where(
                        TrainingLabelItems.label_id.in_([row.label_id for row in rows]),
                        TrainingLabelItems.features == FEATURES,
                    )
                )
            }
        items: list[LabelledItem] = []
        for donation in donations:
            its_rows = by_donation[donation.donation_id]
            if all(row.label_id in kept for row in its_rows):
                items += [_item_of(row, stored) for row in its_rows for stored in kept[row.label_id]]
                continue
            read = self._read_copy(donation, its_rows)
            if read is not None:
                self._keep(donation.donation_id, read)
                items += [item for row_items in read.values() for item in row_items]
        return items

    def _read_copy(self, donation: _Donation, rows: list[LabelRow]) -> dict[int, list[LabelledItem]] | None:
        """Open a copy in memory and turn each of its label rows into labelled items (None: unreadable)."""
        try:
            boxes = [boxes_of(row) for row in rows]
            with self._database.session() as session:
                found = session.get(ReviewDonation, donation.donation_id)
                blob = None if found is None else read_copy(self._store, found)
            if blob is None:
                return None
            reading = read_clip(
                self._keys.open_copy(donation.donation_id, blob),
                self._detector(),
                [box for row_boxes in boxes for box in row_boxes],
            )
            del blob
        except (ClipReadError, LabelRowError, SealedObjectError, ProgramKeyError, CryptoError) as error:
            log.error("donation %s left out of training: %s", donation.donation_id, error)
            return None
        read: dict[int, list[LabelledItem]] = {}
        start = 0
        for row, row_boxes in zip(rows, boxes, strict=True):
            features = reading.box_features[start : start + len(row_boxes)]
            start += len(row_boxes)
            read[row.label_id] = labelled_items(row, reading.detections, features)
        return read

    def _keep(self, donation_id: str, read: dict[int, list[LabelledItem]]) -> None:
        """Keep a copy's items for the next runs, unless its labels went meanwhile (the copy ended)."""
        now = utc_now()
        try:
            with self._database.session() as session:
                live = set(session.scalars(select(ReviewLabel.id).where(ReviewLabel.id.in_(list(read)))))
                for label_id, row_items in read.items():
                    if label_id not in live:
                        continue
                    session.merge(
                        TrainingLabelItems(
                            label_id=label_id,
                            donation_id=donation_id,
                            features=FEATURES,
                            items=[
                                {"sample": item.sample_id, "label": item.label, "features": list(item.features)}
                                for item in row_items
                            ],
                            created_at=now,
                        )
                    )
        except IntegrityError:
            # The labels were erased between the check and the write: nothing of the copy is kept.
            log.info("items of donation %s not kept: its labels were erased during the run", donation_id)

    # The registry

    def _to_replace(self, session: Session) -> TrainedModel | None:
        """Return the tainted model hubs were running that nothing replaced yet."""
        return session.scalar(
            select(TrainedModel)
            .where(
                TrainedModel.state == TAINTED,
                TrainedModel.promoted_at.is_not(None),
                TrainedModel.replaced_by.is_(None),
                TrainedModel.retired_at.is_(None),
            )
            .order_by(TrainedModel.version.desc())
            .limit(1)
        )

    def _shards_of(self, row: TrainedModel | None) -> TrainedVerifier | None:
        """Return a model's shards for reuse (a tainted model's erased shard is trained again)."""
        if row is None or len(row.shards) != self._config.shards:
            return None
        shards = tuple(
            ShardModel(str(shard["samples_digest"]), int(shard["samples"]), shard.get("weights"))
            for shard in row.shards
            if shard.get("weights") is not None or int(shard["samples"]) == 0
        )
        return TrainedVerifier({}, shards)

    def _next_version(self) -> int:
        with self._database.session() as session:
            latest = session.scalar(select(TrainedModel.version).order_by(TrainedModel.version.desc()).limit(1))
            return (latest or 0) + 1

    def _current_metrics(self, version: int | None, evaluation: Dataset) -> dict[str, Any]:
        """Judge the promoted model on today's evaluation set (the same samples as the candidate)."""
        if version is None:
            return {}
        try:
            data = self._store.read_all(model_key(version))
            key = self._keys.current()
            return evaluate(read_signed_model(data, VerifyKey(key.verify_key)), evaluation)
        except (VerifierLoadError, ObjectStoreError) as error:
            # A promoted file gone bad cannot win a comparison: the candidate is judged against nothing.
            log.error("promoted model %s could not be judged: %s", version, error)
            return {"score": None, "problem": str(error)}

    def _record(
        self,
        version: int,
        trained: TrainedVerifier,
        training: Dataset,
        model_file: bytes,
        metrics: dict[str, Any],
        digest: str,
        donations: list[_Donation],
        promote: bool,
        why: str,
        replacing: int | None,
    ) -> TrainingOutcome:
        """Store the file and manifest, then the rows; a donation that ended meanwhile voids the run."""
        manifest = training.manifest()
        dataset_digest = training.digest()
        key = model_key(version)
        with self._database.session() as session:
            claim_key(session, key)
        self._store.put(key, model_file)
        self._store.put(manifest_key(dataset_digest), canonical_json(manifest))
        learned = {d.donation_id: d for d in donations if d.donation_id in set(training.donations)}
        per_donation: dict[str, int] = defaultdict(int)
        for item in training.samples:
            per_donation[item.donation_id] += 1
        now = utc_now()
        with self._database.session() as session:
            locked = session.scalars(
                select(ReviewDonation)
                .where(ReviewDonation.donation_id.in_(list(learned)))
                .order_by(ReviewDonation.donation_id)
                .with_for_update()
            ).all()
            ended = [row.donation_id for row in locked if row.state != LABELLED or row.deleted_at is not None]
            if ended or len(locked) != len(learned):
                doom_blob(session, key)
                voided = True
            else:
                voided = False
                self._add_rows(session, version, trained, model_file, metrics, digest, dataset_digest, now, key)
                for donation_id, donation in learned.items():
                    session.add(
                        TrainedModelDonation(
                            model_version=version,
                            donation_id=donation_id,
                            home_id=donation.home_id,
                            consent=donation.consent,
                            samples=per_donation[donation_id],
                        )
                    )
                session.flush()
                if promote:
                    self._promote(session, version, replacing, now)
        if voided:
            self._delete_blobs([key])
            return TrainingOutcome(f"model {version} discarded: donations {', '.join(ended)} ended during training")
        state = "promoted" if promote else "kept as a candidate"
        log.info("verifier model %s trained on %d samples and %s: %s", version, len(training.samples), state, why)
        return TrainingOutcome(f"model {version} {state}: {why}", version, promote, replacing, metrics)

    def _add_rows(
        self,
        session: Session,
        version: int,
        trained: TrainedVerifier,
        model_file: bytes,
        metrics: dict[str, Any],
        digest: str,
        dataset_digest: str,
        now: datetime,
        key: str,
    ) -> None:
        trained_on = trained.payload["trained_on"]
        session.add(
            TrainedModel(
                version=version,
                state=CANDIDATE,
                dataset_digest=dataset_digest,
                labels_digest=digest,
                manifest_key=manifest_key(dataset_digest),
                code_version=str(trained_on["code"]),
                features=FEATURES,
                shards=[
                    {"samples_digest": shard.samples_digest, "samples": shard.samples, "weights": shard.weights}
                    for shard in trained.shards
                ],
                metrics=metrics,
                clips=int(trained_on["donations"]),
                homes=int(trained_on["homes"]),
                samples=int(trained_on["samples"]),
                object_key=key,
                sha256=hashlib.sha256(model_file).hexdigest(),
                signature=str(json.loads(model_file)["signature"]),
                created_at=now,
            )
        )

    def _promote(self, session: Session, version: int, replacing: int | None, now: datetime) -> None:
        """Make ``version`` the promoted model: the previous one retires; a replaced tainted one's owners are told."""
        new = session.get(TrainedModel, version)
        assert new is not None
        old = session.scalar(select(TrainedModel).where(TrainedModel.state == PROMOTED).with_for_update())
        if old is not None:
            old.state, old.retired_at, old.replaced_by = RETIRED, now, version
            session.flush()  # one promoted model at a time (a unique index holds it)
        new.state, new.promoted_at = PROMOTED, now
        if replacing is not None:
            tainted = session.get(TrainedModel, replacing)
            if tainted is not None:
                tainted.replaced_by = version
                self._receipts(session, tainted, version, now)

    def _retire_without_replacement(self, replacing: int) -> None:
        """Record that a tainted model left the hubs with nothing to replace it (too few labels remain)."""
        now = utc_now()
        with self._database.session() as session:
            tainted = session.get(TrainedModel, replacing)
            if tainted is not None and tainted.replaced_by is None and tainted.retired_at is None:
                tainted.retired_at = now
                self._receipts(session, tainted, None, now)

    def _receipts(self, session: Session, tainted: TrainedModel, replaced_by: int | None, now: datetime) -> None:
        """Tell each owner whose ended donation the tainted model learned from: it left the hubs, and for what."""
        ended = session.execute(
            select(TrainedModelDonation.donation_id, ReviewDonation.home_id)
            .join(ReviewDonation, ReviewDonation.donation_id == TrainedModelDonation.donation_id)
            .where(TrainedModelDonation.model_version == tainted.version, ReviewDonation.deleted_at.is_not(None))
            .order_by(TrainedModelDonation.donation_id)
        ).all()
        for donation_id, home_id in ended:
            record(
                session,
                home_id=home_id,
                donation_id=donation_id,
                action=MODEL_REPLACED,
                actor=CLOUD_ACTOR,
                details={"model": tainted.version, "replaced_by": replaced_by, "at": iso(now)},
            )
