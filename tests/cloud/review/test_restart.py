"""The cloud's API process dies in the middle of a review (a real `homewarden cloud serve`, killed and started again):
the reviewer's session, assignment and media link live in PostgreSQL and the object store, not in the process."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import httpx2 as httpx
import pyotp
import pytest
import yaml
from sqlalchemy import func, select

from cloud.api.test_review_hubs import SCREENING_SECONDS, clip, receipts_of, state_of
from cloud.review.conftest import donate, new_donation_id, seal_to_program
from cloud_process import CloudAccount, CloudProcess, start_cloud_serve
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.models import ReviewAssignment
from homewarden.cloud.services import CloudServices
from waiting import wait_for

PASSWORD = "a long reviewer password"


@pytest.fixture
def services(cloud_config: Path) -> Iterator[CloudServices]:
    """Return the operator's services on the cloud's database (to make the reviewer and count rows)."""
    built = CloudServices.build(load_cloud_config(cloud_config), migrate=False)
    try:
        yield built
    finally:
        built.close()


def crash(process: CloudProcess) -> int:
    """Kill the API process as a crash or an OOM kill would (no shutdown), and return its port."""
    process.process.kill()
    process.process.wait(timeout=30)
    process.stop()
    return int(process.base_url.rsplit(":", 1)[1])


def test_a_crash_mid_review_loses_no_assignment_and_the_held_link_works_once(
    cloud_config: Path, services: CloudServices
) -> None:
    # Ten minutes for a link (the most allowed): a restart on a loaded machine takes longer than the default minute.
    written = yaml.safe_load(cloud_config.read_text())
    written["review"]["media_link_seconds"] = 600
    cloud_config.write_text(yaml.safe_dump(written))
    reviewer = services.staff.create("dana.reviews", PASSWORD, "reviewer")
    first = start_cloud_serve(cloud_config)
    second: CloudProcess | None = None
    try:
        with httpx.Client(base_url=first.base_url, timeout=60) as client:
            hub = CloudAccount.sign_up(client).pair_hub()
            donations = [new_donation_id() for _ in range(2)]
            for donation_id in donations:
                assert donate(hub, donation_id, seal_to_program(hub.program, donation_id, clip())).status_code == 201
            for donation_id in donations:
                wait_for(lambda d=donation_id: state_of(hub, d) == "queued", SCREENING_SECONDS, "the copies queued")
            signed_in = client.post(
                "/api/v1/staff/session",
                json={"username": "dana.reviews", "password": PASSWORD, "code": pyotp.TOTP(reviewer.totp_secret).now()},
            )
            assert signed_in.status_code == 200, signed_in.text
            auth = {"Authorization": f"Bearer {signed_in.json()['token']}"}
            assignment = client.post("/api/v1/workbench/next", headers=auth).json()
            link = client.post(f"/api/v1/workbench/assignments/{assignment['id']}/media", headers=auth)
            assert link.status_code == 200, link.text

        port = crash(first)
        second = start_cloud_serve(cloud_config, port=port)

        with httpx.Client(base_url=second.base_url, timeout=60) as client:
            # The session outlives the process; the reviewer still holds the same clip, and `next` hands it again.
            day = client.get("/api/v1/workbench", headers=auth).json()
            again = client.post("/api/v1/workbench/next", headers=auth)
            # The link held across the crash plays once, then says in a sentence why it is gone.
            watched = client.get(link.json()["url"], headers=auth)
            replayed = client.get(link.json()["url"], headers=auth)
            labelled = client.post(
                f"/api/v1/workbench/assignments/{assignment['id']}/labels",
                json={"verdict": "real_event", "label": "person"},
                headers=auth,
            )
            following = client.post("/api/v1/workbench/next", headers=auth)
            hub.client = client
            views = [r for r in receipts_of(hub) if r["content"]["action"] == "view"]

        assert day["assignment"]["id"] == assignment["id"]
        assert day["used_today"] == 1
        assert again.status_code == 200
        assert again.json()["id"] == assignment["id"]
        assert watched.status_code == 200
        with av.open(io.BytesIO(watched.content)) as container:
            assert sum(1 for _ in container.decode(video=0)) > 0
        assert replayed.status_code == 410
        assert replayed.json()["detail"] == "this media link is used, expired or not yours"
        assert labelled.status_code == 200, labelled.text
        assert following.status_code == 200
        assert following.json()["id"] != assignment["id"]
        with services.database.session() as session:
            handed = session.execute(
                select(ReviewAssignment.donation_id, func.count()).group_by(ReviewAssignment.donation_id)
            ).all()
        # One assignment per copy: none lost, none handed twice.
        assert sorted(count for _donation, count in handed) == [1, 1]
        assert {donation for donation, _count in handed} == set(donations)
        assert len(views) == 1
    finally:
        if second is not None:
            assert second.stop() == 0
            assert "Traceback" not in second.output()
