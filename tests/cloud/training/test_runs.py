"""The training loop on the cloud's real tables and store (PostgreSQL, rclone's S3) with real footage and NanoDet:
labels of active donations → dataset → training → evaluation → signed file → registry, and a withdrawal that
taints the model, deletes its file and makes the next run replace it with one trained without the clip.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from nacl.signing import VerifyKey
from sqlalchemy import select

from cloud.conftest import CloudUnderTest
from cloud.training.donated import (
    EMPTY,
    TABLE_BOX,
    VISITS,
    add_labelled_copy,
    clip_of,
    donation_id_where,
)
from homewarden.cloud.models import ReviewAuditEntry, ReviewDonation, TrainedModel, TrainingLabelItems
from homewarden.cloud.object_store import BlobMissingError
from homewarden.cloud.training.registry import model_key
from homewarden.cloud.training.runs import TRAINING_LOCK, is_evaluation
from homewarden.cloud.training.verifier import shard_of
from homewarden.detect.verifier import read_signed_model

PERSON = {"verdict": "real_event", "cause": None, "label": "person"}


def nothing_boxes(*times: float) -> dict[str, object]:
    """Return a reviewer's false alarm with boxes drawn on the empty table at ``times``."""
    return {
        "verdict": "false_alarm",
        "cause": "shadow_or_light",
        "label": "person",
        "boxes": [{**TABLE_BOX, "t": at} for at in times],
    }


@pytest.fixture
def labelled(cloud: CloudUnderTest) -> dict[str, str]:
    """Label five donated copies of two homes (three to train on, two of the evaluation set) and one expired."""
    services = cloud.services
    homes = [cloud.account().home_id, cloud.account().home_id]
    reviewer = services.staff.create("rita", "a long reviewer passphrase 42", "reviewer").staff.id

    def train_id() -> str:
        return donation_id_where(lambda d: not is_evaluation(d, services.config.training.evaluation_percent))

    def evaluation_id() -> str:
        return donation_id_where(lambda d: is_evaluation(d, services.config.training.evaluation_percent))

    ids = {
        "person_a": train_id(),
        "person_b": train_id(),
        "empty": train_id(),
        "eval_person": evaluation_id(),
        "eval_empty": evaluation_id(),
        "expired": train_id(),
    }
    copies = {
        "person_a": (homes[0], clip_of(VISITS[0]), PERSON),
        "person_b": (homes[1], clip_of(VISITS[2]), PERSON),
        "empty": (homes[0], clip_of(EMPTY, 5.0), nothing_boxes(0.5, 1.5, 2.5, 3.5, 4.5)),
        "eval_person": (homes[1], clip_of(VISITS[4]), PERSON),
        "eval_empty": (homes[1], clip_of(EMPTY, 5.0), nothing_boxes(1.0, 2.0, 3.0, 4.0)),
        "expired": (homes[0], clip_of(VISITS[1]), PERSON),
    }
    for name, (home, mp4, labels) in copies.items():
        # An expired copy waits for the sweep to erase it; until then it must not be trained on either.
        expires = timedelta(seconds=-1) if name == "expired" else timedelta(days=30)
        add_labelled_copy(services, home, reviewer, ids[name], mp4, labels, expires_in=expires)
    return ids


def test_a_run_trains_on_active_consents_only_judges_signs_and_promotes(
    cloud: CloudUnderTest, labelled: dict[str, str]
) -> None:
    services = cloud.services
    outcome = services.run_training()
    assert outcome.promoted, outcome.summary
    assert outcome.version == 1
    model = services.models.promoted()
    assert model is not None
    assert (model.version, model.clips, model.homes) == (1, 3, 2)
    # Which donations model 1 learned from is one query: not the evaluation set, not the expired copy.
    for name in ("person_a", "person_b", "empty"):
        assert services.models.models_trained_on(labelled[name]) == [1], name
    for name in ("eval_person", "eval_empty", "expired"):
        assert services.models.models_trained_on(labelled[name]) == [], name
    # Judged on the evaluation donations only, persons and the empty table both.
    assert model.metrics["persons"] > 0
    assert model.metrics["others"] == 4
    assert model.metrics["score"] is not None
    # The file in the store is the one the registry names, signed with the program key, readable by a hub.
    data = services.store.read_all(model_key(1))
    hub_model = read_signed_model(data, VerifyKey(services.program_keys.current().verify_key))
    assert hub_model.version == "1"
    assert hub_model.trained_on["donations"] == 3

    # Nothing changed: nothing to learn. Forced: the same data make the same model, which does not beat itself; the
    # copies are not read again (their items were kept), so NanoDet is not called.
    assert services.run_training().version is None
    calls = services.person_detector().calls  # type: ignore[attr-defined]
    again = services.run_training(force=True)
    assert services.person_detector().calls == calls  # type: ignore[attr-defined]
    assert (again.version, again.promoted) == (2, False), again.summary
    assert services.models.promoted() == model
    assert [m.state for m in services.models.summaries()] == ["candidate", "promoted"]


def test_a_withdrawal_taints_the_model_deletes_its_file_and_the_next_run_replaces_it(
    cloud: CloudUnderTest, labelled: dict[str, str]
) -> None:
    services = cloud.services
    first = services.run_training()
    assert first.version == 1
    withdrawn = labelled["person_a"]
    with services.database.session() as session:
        donation = session.get(ReviewDonation, withdrawn)
        assert donation is not None
        home = donation.home_id

    # The owner withdraws: in that transaction the model is tainted and its file doomed (deleted right after).
    services.home_donations(home).withdraw(withdrawn, services.program_keys.current())
    offer = services.models.hub_offer()
    assert offer.model is None
    assert offer.delete == [1]
    with services.database.session() as session:
        kept = set(session.scalars(select(TrainingLabelItems.donation_id)))
    assert withdrawn not in kept  # the features read from the copy went with it
    assert labelled["person_b"] in kept
    with pytest.raises(BlobMissingError):
        services.store.read_all(model_key(1))

    replaced = services.run_training()
    assert replaced.promoted, replaced.summary
    assert (replaced.version, replaced.replaced) == (2, 1)
    assert services.models.models_trained_on(withdrawn) == [1]
    offer = services.models.hub_offer()
    assert offer.model is not None
    assert (offer.model.version, offer.model.clips, offer.delete) == (2, 2, [1])
    with services.database.session() as session:
        tainted = session.get(TrainedModel, 1)
        new = session.get(TrainedModel, 2)
        assert tainted is not None
        assert new is not None
        assert (tainted.state, tainted.replaced_by, tainted.object_key) == ("tainted", 2, None)
        # SISA: the shards the withdrawn donation was not in are reused as they were; its own shard is erased.
        held = shard_of(withdrawn, len(tainted.shards))
        assert tainted.shards[held] == {"samples_digest": "", "samples": 0, "weights": None, "erased": True}
        kept = [s["samples_digest"] for s in tainted.shards if s.get("weights") is not None]
        # Donation ids are random, so which other shards held samples varies from run to run (none, when every
        # other donation fell in the withdrawn one's shard); whatever was kept is reused as it was.
        others = {shard_of(d, len(tainted.shards)) for d in labelled.values() if d != withdrawn} - {held}
        assert len(kept) <= len(others)
        assert set(kept) <= {s["samples_digest"] for s in new.shards}
        # The owner's receipt: model 1, trained with the clip, was replaced by model 2, trained without it.
        entry = session.scalar(
            select(ReviewAuditEntry).where(
                ReviewAuditEntry.donation_id == withdrawn, ReviewAuditEntry.action == "model_replaced"
            )
        )
        assert entry is not None
        assert entry.home_id == home
        assert (entry.details["model"], entry.details["replaced_by"]) == (1, 2)


def test_every_model_that_learned_from_a_withdrawn_clip_is_accounted_for_to_its_owner(
    cloud: CloudUnderTest, labelled: dict[str, str]
) -> None:
    services = cloud.services
    assert services.run_training().promoted
    # A forced run makes model 2 from the same labels: a candidate that does not beat model 1, never on a hub.
    assert (services.run_training(force=True).version, services.models.promoted().version) == (2, 1)  # type: ignore[union-attr]
    withdrawn = labelled["person_a"]
    with services.database.session() as session:
        donation = session.get(ReviewDonation, withdrawn)
        assert donation is not None
        home = donation.home_id
    services.home_donations(home).withdraw(withdrawn, services.program_keys.current())

    def receipts() -> list[tuple[int, int | None]]:
        with services.database.session() as session:
            entries = session.scalars(
                select(ReviewAuditEntry)
                .where(ReviewAuditEntry.donation_id == withdrawn, ReviewAuditEntry.action == "model_replaced")
                .order_by(ReviewAuditEntry.seq)
            )
            return [(entry.details["model"], entry.details["replaced_by"]) for entry in entries]

    # The candidate left with its file in the withdrawal's transaction: the owner is told at once. The promoted
    # model is told of when its replacement runs.
    assert receipts() == [(2, None)]
    assert services.run_training().replaced == 1
    assert receipts() == [(2, None), (1, 3)]


def test_a_run_started_while_another_runs_does_nothing(cloud: CloudUnderTest, labelled: dict[str, str]) -> None:
    services = cloud.services
    # Held by "another worker": this run neither trains nor takes a version number.
    with services.database.held(TRAINING_LOCK) as alone:
        assert alone
        outcome = services.run_training()
    assert outcome.version is None
    assert "another training run" in outcome.summary
    assert services.models.summaries() == []
    assert services.run_training().version == 1


def test_a_labelled_copy_read_ahead_leaves_the_run_only_training(
    cloud: CloudUnderTest, labelled: dict[str, str]
) -> None:
    services = cloud.services
    training = services.training()
    for name in ("person_a", "person_b", "empty"):
        assert training.read_donation(labelled[name]) > 0, name
    # Ended consent is not read: the expired copy has no items, and reading it again reads nothing.
    assert training.read_donation(labelled["expired"]) == 0
    with services.database.session() as session:
        kept = set(session.scalars(select(TrainingLabelItems.donation_id)))
    assert {labelled["person_a"], labelled["person_b"], labelled["empty"]} <= kept
    assert labelled["expired"] not in kept
    # With the evaluation copies read ahead too, the run reads no copy at all: NanoDet is not called.
    for name in ("eval_person", "eval_empty"):
        training.read_donation(labelled[name])
    calls = services.person_detector().calls  # type: ignore[attr-defined]
    outcome = services.run_training()
    assert outcome.promoted, outcome.summary
    assert services.person_detector().calls == calls  # type: ignore[attr-defined]
