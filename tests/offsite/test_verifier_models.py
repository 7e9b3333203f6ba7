"""The hub's verifier model courier against a real cloud (`cloud serve`, PostgreSQL, rclone's S3): it runs the
promoted model, refuses a file that does not match the offer or is not signed by the pinned program key, rolls back
to the model in use when a signed file cannot be applied, and deletes a tainted model at once.

A bad file needs a cloud that misbehaves: the test plays it by editing the registry's rows and the store's objects
behind the cloud's back, as a compromised store or database would.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace

import pytest
from nacl.signing import SigningKey

from api.conftest import Hub
from cloud.training.donated import EMPTY, TABLE_BOX, VISITS, add_labelled_copy, clip_of, donation_id_where
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.models import TrainedModel
from homewarden.cloud.services import CloudServices
from homewarden.cloud.training.dataset import canonical_json
from homewarden.cloud.training.registry import model_key
from homewarden.cloud.training.runs import is_evaluation
from homewarden.cloud.training.verifier import TrainedVerifier, signed_model_file
from homewarden.detect.verifier import ENVELOPE_FORMAT
from offsite.conftest import Cloud
from offsite.test_review import cloud_client, paired_hub

__all__ = ["paired_hub"]


@pytest.fixture
def cloud_services(cloud: Cloud) -> Iterator[CloudServices]:
    """Open the running cloud's database and store, as its worker does."""
    services = CloudServices.build(load_cloud_config(cloud.config), migrate=False)
    yield services
    services.close()


def publish(services: CloudServices, version: int, data: bytes) -> None:
    """Put a file in the store as model ``version`` and promote it, announcing its SHA-256 (the compromised side)."""
    services.store.put(model_key(version), data)
    with services.database.session() as session:
        for row in session.query(TrainedModel).filter(TrainedModel.state == "promoted"):
            row.state = "retired"
        session.flush()
        row = session.get(TrainedModel, version)
        assert row is not None
        row.state, row.object_key, row.sha256 = "promoted", model_key(version), hashlib.sha256(data).hexdigest()


def test_the_hub_runs_the_promoted_model_refuses_bad_files_rolls_back_and_drops_tainted_ones(
    paired_hub: Hub, cloud: Cloud, cloud_services: CloudServices
) -> None:
    hub, services = paired_hub, cloud_services
    sync = hub.services.offsite
    assert sync is not None
    sync.stop()  # the test pulls by hand, one step at a time
    models = hub.services.verifier_models
    assert models is not None
    home = cloud.account().home_id
    reviewer = services.staff.create("rita", "a long reviewer passphrase 42", "reviewer").staff.id
    percent = services.config.training.evaluation_percent
    person = donation_id_where(lambda d: not is_evaluation(d, percent))
    empty = donation_id_where(lambda d: not is_evaluation(d, percent))
    add_labelled_copy(
        services, home, reviewer, person, clip_of(VISITS[0]), {"verdict": "real_event", "label": "person"}
    )
    boxes = [{**TABLE_BOX, "t": t} for t in (0.5, 1.5, 2.5, 3.5)]
    add_labelled_copy(
        services,
        home,
        reviewer,
        empty,
        clip_of(EMPTY),
        {"verdict": "false_alarm", "cause": "other", "label": "x", "boxes": boxes},
    )
    assert services.run_training().version == 1
    with closing(cloud_client(hub)) as client:
        models.refresh(client)
        in_use = models.in_use()
        assert in_use is not None
        assert (in_use.version, in_use.clips, in_use.homes) == (1, 2, 1)
        assert models.stored() == [1]

        # Model 2 is trained, then its file swapped: first for bytes the offer's SHA-256 does not match...
        second = services.run_training(force=True)
        assert second.version == 2
        good = services.store.read_all(model_key(2))
        publish(services, 2, good)
        services.store.put(model_key(2), good.replace(b'"signature":"', b'"signature":"00'))
        models.refresh(client)
        assert models.in_use() == in_use
        assert models.problem is not None
        assert "SHA-256" in models.problem
        assert models.stored() == [1]

        # ...then for a file signed with a key that is not the program's, announced with its own SHA-256.
        envelope = json.loads(good)
        payload = base64.b64decode(envelope["payload"])
        forged = signed_model_file(TrainedVerifier(json.loads(payload), ()), SigningKey.generate())
        publish(services, 2, forged)
        models.refresh(client)
        assert models.in_use() == in_use
        assert models.problem is not None
        assert "not by a review program key" in models.problem
        assert models.stored() == [1]

        # A file the program key signed but the hub cannot apply (wrong shapes): the model in use stays (roll back).
        broken = json.loads(payload)
        broken["shards"][0]["coef"] = [[0.0]]
        broken_payload = canonical_json(broken)
        key = services.program_keys.current()
        unusable = canonical_json(
            {
                "format": ENVELOPE_FORMAT,
                "payload": base64.b64encode(broken_payload).decode(),
                "signature": key.signing_key.sign(broken_payload).signature.hex(),
            }
        )
        publish(services, 2, unusable)
        models.refresh(client)
        assert models.in_use() == in_use
        assert models.problem is not None
        assert "coef" in models.problem
        assert models.stored() == [1]

        # The real file of model 2: switched to without a restart; model 1 stays on disk to roll back to.
        publish(services, 2, good)
        models.refresh(client)
        assert models.in_use() == replace(in_use, version=2)
        assert models.stored() == [2, 1]
        assert models.problem is None

        # The person clip is withdrawn: both models learned from it; the hub stops using them and deletes them at once.
        with services.database.session() as session:
            assert session.get(TrainedModel, 2) is not None
        services.home_donations(home).withdraw(person, services.program_keys.current())
        offer = services.models.hub_offer()
        assert offer.delete == [1, 2]
        models.refresh(client)
        assert models.in_use() is None
        assert models.stored() == []
