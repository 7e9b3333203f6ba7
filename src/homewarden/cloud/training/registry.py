"""The model registry: every verifier version, what it learned from, how it scored, and where it stands.

A model is a row of ``training_models`` (state candidate, promoted, tainted or retired) and its signed file in the
object store under ``training/models/``; the donations it learned from are rows of ``training_model_donations``.
``taint_models_of`` runs in the transaction that ends a donation (``erase_donation``): every model that learned from
it is tainted there and then, its file doomed, and the weights of the shard that held the donation erased, so no byte
trained on the clip survives the transaction; the training worker then replaces the model the hubs were running.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.deletion import doom_blob
from homewarden.cloud.models import TrainedModel, TrainedModelDonation, TrainingLabelItems
from homewarden.cloud.object_store import BlobMissingError, ObjectStore
from homewarden.cloud.review.audit import CLOUD_ACTOR, record
from homewarden.cloud.review.signatures import iso
from homewarden.errors import Refusal, RefusedError

MODEL_PREFIX = "training/models/"
# A receipt's action when a model that learned from the owner's clip left the hubs.
MODEL_REPLACED = "model_replaced"
DATASET_PREFIX = "training/datasets/"
CANDIDATE, PROMOTED, TAINTED, RETIRED = "candidate", "promoted", "tainted", "retired"


def model_key(version: int) -> str:
    """Return the object store key of a model version's signed file."""
    return f"{MODEL_PREFIX}verifier-{version}"


def manifest_key(digest: str) -> str:
    """Return the object store key of a dataset's manifest."""
    return f"{DATASET_PREFIX}{digest}"


@dataclass(frozen=True)
class ModelSummary:
    """A model version as the operator's list and the hubs see it: counts and metrics, never content."""

    version: int
    state: str
    clips: int
    homes: int
    samples: int
    metrics: dict[str, Any]
    sha256: str
    code_version: str
    dataset_digest: str
    created_at: datetime
    promoted_at: datetime | None
    tainted_at: datetime | None
    replaced_by: int | None


@dataclass(frozen=True)
class HubOffer:
    """What a hub is told: the promoted model (None: run none) and the versions it must delete."""

    model: ModelSummary | None
    delete: list[int]


def summary_of(row: TrainedModel) -> ModelSummary:
    """Return a model row as a summary."""
    return ModelSummary(
        version=row.version,
        state=row.state,
        clips=row.clips,
        homes=row.homes,
        samples=row.samples,
        metrics=dict(row.metrics),
        sha256=row.sha256,
        code_version=row.code_version,
        dataset_digest=row.dataset_digest,
        created_at=row.created_at,
        promoted_at=row.promoted_at,
        tainted_at=row.tainted_at,
        replaced_by=row.replaced_by,
    )


def labels_digest(rows: list[tuple[int, str]]) -> str:
    """Return the digest of the label rows (label id, donation id) a dataset is built from."""
    return hashlib.sha256(";".join(f"{label}:{donation}" for label, donation in sorted(rows)).encode()).hexdigest()


def forget_label_items(session: Session, donation_id: str) -> None:
    """Delete the labelled items (features) read from a donation's copy, in the caller's transaction."""
    session.execute(delete(TrainingLabelItems).where(TrainingLabelItems.donation_id == donation_id))


def taint_models_of(session: Session, donation_id: str, home_id: str, now: datetime) -> list[str]:
    """Taint every model that learned from a donation, in the caller's transaction; return model files doomed.

    The promoted model's owners are told when the worker replaces it; a model no hub runs any more (retired by a
    newer one, or a candidate never promoted) leaves with its file here, and the donation's owner is told so now.
    """
    rows = session.scalars(
        select(TrainedModel)
        .join(TrainedModelDonation, TrainedModelDonation.model_version == TrainedModel.version)
        .where(TrainedModelDonation.donation_id == donation_id)
        .with_for_update(of=TrainedModel)
    ).all()
    if not rows:
        return []
    # Imported here: the API processes that end donations should not load scikit-learn for nothing.
    from homewarden.cloud.training.verifier import shard_of

    doomed = []
    for row in rows:
        if row.state != TAINTED:
            if row.state != PROMOTED:
                details = {"model": row.version, "replaced_by": None, "at": iso(now)}
                record(
                    session,
                    home_id=home_id,
                    donation_id=donation_id,
                    action=MODEL_REPLACED,
                    actor=CLOUD_ACTOR,
                    details=details,
                )
            row.state = TAINTED
            row.tainted_at = now
        if row.object_key is not None:
            doom_blob(session, row.object_key)
            doomed.append(row.object_key)
            row.object_key = None
        # The shard that held the donation learned from it: its weights go now; the others' may be reused.
        shards = [dict(shard) for shard in row.shards]
        held = shard_of(donation_id, len(shards)) if shards else None
        if held is not None and shards[held].get("weights") is not None:
            shards[held] = {"samples_digest": "", "samples": 0, "weights": None, "erased": True}
            row.shards = shards
    return doomed


class ModelRegistry:
    """Read the registry: the list, the promoted model, what hubs are offered and the promoted file."""

    def __init__(self, database: CloudDatabase, store: ObjectStore) -> None:
        """Read models in ``database`` and their files in ``store``."""
        self._database = database
        self._store = store

    def summaries(self) -> list[ModelSummary]:
        """Return every model version, newest first."""
        with self._database.session() as session:
            return [
                summary_of(row) for row in session.scalars(select(TrainedModel).order_by(TrainedModel.version.desc()))
            ]

    def donation_counts(self) -> dict[int, int]:
        """Return how many donations each model version learned from."""
        with self._database.session() as session:
            counts: dict[int, int] = {}
            for version in session.scalars(select(TrainedModelDonation.model_version)):
                counts[version] = counts.get(version, 0) + 1
            return counts

    def models_trained_on(self, donation_id: str) -> list[int]:
        """Return the versions that learned from a donation (one query on the join table)."""
        with self._database.session() as session:
            return list(
                session.scalars(
                    select(TrainedModelDonation.model_version)
                    .where(TrainedModelDonation.donation_id == donation_id)
                    .order_by(TrainedModelDonation.model_version)
                )
            )

    def promoted(self) -> ModelSummary | None:
        """Return the promoted model, or None."""
        with self._database.session() as session:
            row = session.scalar(select(TrainedModel).where(TrainedModel.state == PROMOTED))
            return None if row is None else summary_of(row)

    def hub_offer(self) -> HubOffer:
        """Return the model hubs should run and the tainted versions they must delete."""
        with self._database.session() as session:
            row = session.scalar(select(TrainedModel).where(TrainedModel.state == PROMOTED))
            tainted = list(
                session.scalars(
                    select(TrainedModel.version).where(TrainedModel.state == TAINTED).order_by(TrainedModel.version)
                )
            )
            return HubOffer(None if row is None else summary_of(row), tainted)

    def model_file(self, version: int) -> bytes:
        """Return the signed file of the promoted model; any other version is not found (410 once tainted)."""
        with self._database.session() as session:
            row = session.get(TrainedModel, version)
            if row is None or row.object_key is None or row.state != PROMOTED:
                gone = row is not None and row.state == TAINTED
                raise RefusedError(
                    f"model {version} is {'withdrawn' if gone else 'not the promoted model'}",
                    Refusal.GONE if gone else Refusal.NOT_FOUND,
                )
            key = row.object_key
        try:
            return self._store.read_all(key)
        except BlobMissingError:
            raise RefusedError(f"model {version} is not in the store", Refusal.NOT_FOUND) from None
