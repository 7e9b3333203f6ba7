"""The review program end to end, every part real: a household's hub donates a clip, Homewarden Cloud (an API process
and a Celery worker on RabbitMQ, PostgreSQL, rclone's S3) screens and queues it, a reviewer made on the operator's
command line signs in with a TOTP code, is given the clip watermarked by the worker, watches it once and labels it,
and the household's privacy page lists that reviewer's view from the signed receipt its hub verified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pyotp
import pytest

from api.conftest import Hub, set_up_owner
from cloud_process import (
    S3Server,
    run_cloud_command,
)
from homewarden.offsite.identity import OffsiteFolder
from homewarden.review.cloud_chain import CloudChainRecords, verify_cloud_chain
from offsite.conftest import Cloud, running_cloud_with_worker, running_paired_hub
from offsite.test_review import CLOUD_SECONDS, donate_and_confirm
from waiting import wait_for

REVIEWER_PASSWORD = "a long reviewer passphrase 42"


@pytest.fixture
def cloud_with_worker(tmp_path: Path, postgres_url: str, s3_server: S3Server) -> Iterator[Cloud]:
    """Run `homewarden cloud serve` and one `homewarden cloud worker` on RabbitMQ, a fresh database and bucket."""
    with running_cloud_with_worker(tmp_path / "cloud", s3_server, "e2e") as cloud:
        yield cloud


@pytest.fixture
def paired_hub(tmp_path: Path, cloud_with_worker: Cloud) -> Iterator[Hub]:
    """Yield a hub with its off-site worker running, paired with the cloud."""
    with running_paired_hub(tmp_path / "hub", cloud_with_worker) as hub:
        yield hub


def make_reviewer(cloud: Cloud, username: str) -> tuple[str, str]:
    """Make a reviewer with the operator's command; return the TOTP secret and the pseudonym it printed."""
    made = run_cloud_command(
        "reviewer", "create", "--config", str(cloud.config), username, stdin=REVIEWER_PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    secret = re.search(r"secret: (\S+)", made.stdout)
    pseudonym = re.search(r"pseudonym (r_[0-9a-f]+)", made.stdout)
    assert secret is not None, made.stdout
    assert pseudonym is not None, made.stdout
    return secret.group(1), pseudonym.group(1)


def test_a_donated_clip_is_reviewed_in_the_cloud_and_the_view_comes_home_as_a_receipt(
    paired_hub: Hub, cloud_with_worker: Cloud
) -> None:
    hub, cloud = paired_hub, cloud_with_worker
    owner = set_up_owner(hub)
    donation_id = donate_and_confirm(hub, owner)
    wait_for(
        lambda: owner.get(f"/api/donations/{donation_id}").json()["sent_at"] is not None,
        CLOUD_SECONDS,
        "the donated copy to reach the cloud",
    )

    secret, pseudonym = make_reviewer(cloud, "rita")
    reviewer = httpx.Client(base_url=cloud.url, timeout=60)
    try:
        signed_in = reviewer.post(
            "/api/v1/staff/session",
            json={"username": "rita", "password": REVIEWER_PASSWORD, "code": pyotp.TOTP(secret).now()},
        )
        assert signed_in.status_code == 200, signed_in.text
        reviewer.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"

        # The worker screens the copy again before it is queued: until then the queue is empty (404).
        assignment: dict[str, object] = {}

        def assigned() -> bool:
            answer = reviewer.post("/api/v1/workbench/next")
            assert answer.status_code in (200, 404), answer.text
            assignment.update(answer.json() if answer.status_code == 200 else {})
            return answer.status_code == 200

        wait_for(assigned, CLOUD_SECONDS, "the cloud's worker to screen and queue the copy")
        link = reviewer.post(f"/api/v1/workbench/assignments/{assignment['id']}/media")
        assert link.status_code == 200, link.text
        shown = reviewer.get(link.json()["url"])
        assert shown.status_code == 200, shown.text
        assert shown.content[4:8] == b"ftyp"  # an MP4, watermarked by the worker
        assert reviewer.get(link.json()["url"]).status_code == 410  # watched once
        labelled = reviewer.post(
            f"/api/v1/workbench/assignments/{assignment['id']}/labels",
            json={"verdict": "false_alarm", "cause": "pet", "label": "cat", "boxes": []},
        )
        assert labelled.status_code == 200, labelled.text
    finally:
        reviewer.close()

    # Home again: the receipts of the view and the label, verified and in the household's own log, shown to the owner.
    sync = hub.services.offsite
    assert sync is not None
    assert sync.review is not None
    sync.review.pull_now.set()
    sync.wake()

    def reviewer_entries() -> set[tuple[str, str]]:
        others = owner.get("/api/privacy/access-summary").json()["others"]
        return {(entry["actor"], entry["action"]) for entry in others if entry["object"] == f"donation:{donation_id}"}

    actor = f"reviewer:{pseudonym}"
    wait_for(
        lambda: {(actor, "review.view"), (actor, "review.label")} <= reviewer_entries(),
        CLOUD_SECONDS,
        "the reviewer's view and label on the privacy page",
    )
    assert owner.get(f"/api/donations/{donation_id}").json()["reviewer_views"] == 1
    report = verify_cloud_chain(
        CloudChainRecords(hub.services.events.engine),
        OffsiteFolder(hub.services.config.storage.folder).program_keys(),
    )
    assert report.problems == []
