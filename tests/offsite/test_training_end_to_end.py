"""The training loop end to end, every part real: a household's hub donates three clips of real footage, a reviewer
labels them through the workbench, the cloud's Celery worker (RabbitMQ, PostgreSQL, rclone's S3) trains, signs and
promotes a verifier on its beat, and the hub downloads, checks and runs it; then the owner withdraws a clip the
model learned from: the model is tainted, the worker trains one without the clip, the hub switches to it and
deletes the tainted file, the cloud's copy of that file is gone, and the owner's receipt is on the privacy page.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pyotp
import pytest
from sqlalchemy import select

from api.conftest import Hub, csrf_of, record_event, set_up_owner
from cloud.training.donated import EMPTY, TABLE_BOX, VISITS, clip_of
from cloud_process import S3Server, start_cloud_worker
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.models import TrainingLabelItems
from homewarden.cloud.services import CloudServices
from homewarden.cloud.training.registry import model_key
from offsite.conftest import Cloud, running_cloud_with_worker, running_paired_hub
from offsite.test_review import CLOUD_SECONDS, PREPARE_SECONDS
from offsite.test_review_end_to_end import REVIEWER_PASSWORD, make_reviewer
from waiting import wait_for

# Three events of real footage: (the hub's event label, where the clip starts, seconds). The workbench shows a
# reviewer the event's label, which tells the empty table's false cat alarm from the two people.
CLIPS = {"person": ("person", VISITS[0], 4.0), "empty": ("cat", EMPTY, 5.0), "person again": ("person", VISITS[2], 5.0)}
TRAINING_SECONDS = 300.0


@pytest.fixture
def training_cloud(tmp_path: Path, postgres_url: str, s3_server: S3Server) -> Iterator[Cloud]:
    """Run `cloud serve` and one `cloud worker` (no beat yet: the test starts it), on a fresh database and bucket."""
    # Three clips are too few to keep some out for evaluation: every model is judged on none (docs).
    training = {"training": {"every_seconds": 5, "evaluation_percent": 0, "shards": 2}}
    with running_cloud_with_worker(tmp_path / "cloud", s3_server, "train", extra=training) as cloud:
        yield cloud


@pytest.fixture
def training_hub(tmp_path: Path, training_cloud: Cloud) -> Iterator[Hub]:
    """Yield a hub with its off-site worker running, paired with the training cloud."""
    with running_paired_hub(tmp_path / "hub", training_cloud) as hub:
        yield hub


def donate(hub: Hub, owner: httpx.Client, label: str, start: float, seconds: float) -> str:
    """Record an event of real footage and donate it through the consent flow; return the donation id."""
    event = record_event(hub, "front_door", label=label, seconds=seconds, clip=clip_of(start, seconds))
    started = owner.post(f"/api/events/{event.id}/donation", json={}, headers=csrf_of(owner))
    assert started.status_code == 202, started.text
    donation_id = str(started.json()["id"])
    assert hub.services.donations is not None
    hub.services.donations.wait_idle(PREPARE_SECONDS)
    confirmed = owner.post(f"/api/donations/{donation_id}/confirm", headers=csrf_of(owner))
    assert confirmed.status_code == 200, confirmed.text
    return donation_id


def pull(hub: Hub) -> None:
    """Ask the hub's off-site worker for the review program's news now (it asks every 60 s by itself)."""
    sync = hub.services.offsite
    assert sync is not None
    assert sync.review is not None
    sync.review.pull_now.set()
    sync.wake()


def test_labels_train_a_model_the_hub_runs_and_a_withdrawal_replaces_it_everywhere(
    training_hub: Hub, training_cloud: Cloud
) -> None:
    hub, cloud = training_hub, training_cloud
    owner = set_up_owner(hub)
    donated = {name: donate(hub, owner, *clip) for name, clip in CLIPS.items()}
    wait_for(
        lambda: all(owner.get(f"/api/donations/{d}").json()["sent_at"] for d in donated.values()),
        CLOUD_SECONDS,
        "the donated copies to reach the cloud",
    )

    # A reviewer labels each clip as the workbench hands it out: two people, and the empty table (a drawn box).
    secret, _pseudonym = make_reviewer(cloud, "tess")
    reviewer = httpx.Client(base_url=cloud.url, timeout=60)
    try:
        signed_in = reviewer.post(
            "/api/v1/staff/session",
            json={"username": "tess", "password": REVIEWER_PASSWORD, "code": pyotp.TOTP(secret).now()},
        )
        assert signed_in.status_code == 200, signed_in.text
        reviewer.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
        for _ in CLIPS:
            handed: dict[str, object] = {}

            def assigned(into: dict[str, object] = handed) -> bool:
                answer = reviewer.post("/api/v1/workbench/next")
                assert answer.status_code in (200, 404), answer.text
                into.update(answer.json() if answer.status_code == 200 else {})
                return answer.status_code == 200

            wait_for(assigned, CLOUD_SECONDS, "the worker to screen and queue a copy")
            labels = (
                {
                    "verdict": "false_alarm",
                    "cause": "shadow_or_light",
                    "label": "person",
                    "boxes": [{**TABLE_BOX, "t": t} for t in (0.5, 1.5, 2.5, 3.5, 4.5)],
                }
                if handed["label"] == "cat"
                else {"verdict": "real_event", "label": "person", "boxes": []}
            )
            labelled = reviewer.post(f"/api/v1/workbench/assignments/{handed['id']}/labels", json=labels)
            assert labelled.status_code == 200, labelled.text
    finally:
        reviewer.close()

    # Each label queued a task that reads its copy's training items on the worker at once (not at the next run).
    def items_read() -> bool:
        with reading.database.session() as session:
            return set(session.scalars(select(TrainingLabelItems.donation_id))) == set(donated.values())

    reading = CloudServices.build(load_cloud_config(cloud.config), migrate=False)
    try:
        wait_for(items_read, CLOUD_SECONDS, "the worker to read the labelled copies' training items")
    finally:
        reading.close()

    # A worker with the beat starts now (before, its first run could have learned from two labels of three): it
    # trains, signs and promotes every 5 s; the hub downloads, checks and runs the model.
    beat = start_cloud_worker(cloud.config, f"beat-{uuid.uuid4().hex[:8]}@%h", beat=True)
    services = CloudServices.build(load_cloud_config(cloud.config), migrate=False)
    try:
        models = hub.services.verifier_models
        assert models is not None

        def hub_runs_a_model_of_all_three() -> bool:
            pull(hub)
            used = models.in_use()
            return used is not None and used.clips == 3

        wait_for(hub_runs_a_model_of_all_three, TRAINING_SECONDS, "the hub to run a model trained on the three clips")
        first = models.in_use()
        assert first is not None
        assert services.models.models_trained_on(donated["person"]) == [first.version]
        assert models.path(first.version).exists()
        page = owner.get("/privacy")
        assert f"model {first.version}, which learned from 3 donated clips of 1 homes" in page.text

        # The owner withdraws the first clip: the model that learned from it leaves the cloud and the hub.
        withdrawn_at = time.monotonic()
        answer = owner.delete(f"/api/donations/{donated['person']}", headers=csrf_of(owner))
        assert answer.status_code in (200, 202, 204), answer.text

        def hub_runs_a_model_without_it() -> bool:
            pull(hub)
            used = models.in_use()
            return used is not None and used.version != first.version and used.clips == 2

        wait_for(hub_runs_a_model_without_it, TRAINING_SECONDS, "the hub to run a model trained without the clip")
        latency = time.monotonic() - withdrawn_at
        second = models.in_use()
        assert second is not None
        assert second.version not in services.models.models_trained_on(donated["person"])
        assert not models.path(first.version).exists()  # the tainted file is gone from the hub
        assert first.version in services.models.hub_offer().delete
        assert not any(key == model_key(first.version) for key in cloud.stored_bytes())  # and from the cloud's store
        print(f"disgorgement latency: {latency:.1f} s (withdrawal to the hub running a model without the clip)")

        # The owner's receipt, verified by the hub, on the privacy page: model N was replaced by model N+1.
        def receipt_shown() -> bool:
            pull(hub)
            others = owner.get("/api/privacy/access-summary").json()["others"]
            return any(
                entry["action"] == "review.model_replaced"
                and entry["object"] == f"donation:{donated['person']}"
                and f"model {first.version}, trained with this clip, was replaced" in (entry["detail"] or "")
                and f"by model {second.version}, trained without it" in (entry["detail"] or "")
                for entry in others
            )

        wait_for(receipt_shown, CLOUD_SECONDS, "the model replacement receipt on the privacy page")
    except AssertionError:
        print("registry:", *services.models.summaries(), sep="\n")
        print("beat worker:", beat.output()[-6000:])
        raise
    finally:
        services.close()
        beat.stop()
