"""The watermark burned in by a real `homewarden cloud worker` on RabbitMQ, for a reviewer of an API process."""

from __future__ import annotations

import io
import threading
import uuid
from pathlib import Path
from typing import Any

import av
import httpx2 as httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cloud.api.test_review_hubs import clip, donate_and_wait, receipts_of
from cloud.review.conftest import make_staff, new_donation_id, queue_rows, seal_to_program
from cloud_process import (
    RABBITMQ_URL,
    CloudAccount,
    S3Server,
    running,
    start_cloud_serve,
    start_cloud_worker,
    write_cloud_config,
)
from homewarden.cloud.api.app import create_cloud_app
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.models import ReviewDonation, ReviewMediaLink
from homewarden.cloud.services import CloudServices
from waiting import wait_for

# More media requests at once than an API process has threads (AnyIO's pool: 40).
MEDIA_REQUESTS = 44

# A worker process takes many seconds to start.
pytestmark = pytest.mark.slow


def first_frame(mp4: bytes) -> np.ndarray:  # type: ignore[type-arg]
    """Return a clip's first frame as RGB."""
    with av.open(io.BytesIO(mp4)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def test_a_worker_watermarks_the_clip_a_reviewer_sees_once(
    tmp_path: Path, cloud_database_url: str, s3_server: S3Server
) -> None:
    config = write_cloud_config(
        tmp_path / "cloud",
        cloud_database_url,
        s3=s3_server,
        broker_url=RABBITMQ_URL,
        queue=f"hw-cloud-test-{uuid.uuid4().hex[:12]}",
    )
    CloudDatabase.open(cloud_database_url, migrate=True).close()
    services = CloudServices.build(load_cloud_config(config), migrate=False)
    original = clip()
    try:
        with (
            running(start_cloud_worker(config, f"watermark-{uuid.uuid4().hex[:8]}@%h")) as worker,
            TestClient(create_cloud_app(services), raise_server_exceptions=False) as client,
        ):
            hub = CloudAccount.sign_up(client).pair_hub()
            donation_id = new_donation_id()
            # Screened by the worker too (the API process only queues the task).
            donate_and_wait(hub, donation_id, original)
            reviewer = make_staff(services, client)
            assignment = reviewer.call("POST", "/api/v1/workbench/next").json()

            link = reviewer.call("POST", f"/api/v1/workbench/assignments/{assignment['id']}/media")
            shown = reviewer.call("GET", link.json()["url"]) if link.status_code == 200 else link
            again = reviewer.call("GET", link.json()["url"]) if link.status_code == 200 else link

            assert link.status_code == 200, link.text
            assert shown.status_code == 200, shown.text
            assert again.status_code == 410
            assert "Traceback" not in worker.output()
            # The worker, not the API process, burned it in.
            assert "homewarden.cloud.review.watermark" in worker.output()
            assert "succeeded" in worker.output()
            assert f"{reviewer.pseudonym}" not in worker.output()
        watermarked = first_frame(shown.content)
        plain = first_frame(original)
        # The band across the top is darkened and lettered; the scene below it is still the scene.
        band = slice(0, max(8, watermarked.shape[0] // 20))
        assert watermarked[band].astype(int).mean() < plain[band].astype(int).mean() - 5
        assert [r["content"]["actor"] for r in receipts_of(hub) if r["content"]["action"] == "view"] == [reviewer.actor]
    finally:
        services.close()


def test_reviewers_waiting_for_the_worker_hold_no_thread_of_the_api(
    tmp_path: Path, cloud_database_url: str, s3_server: S3Server
) -> None:
    config = write_cloud_config(
        tmp_path / "cloud",
        cloud_database_url,
        s3=s3_server,
        broker_url=RABBITMQ_URL,
        queue=f"hw-cloud-test-{uuid.uuid4().hex[:12]}",
        # Links live their longest: the worker marks the 44 copies one after another (over a minute under load,
        # seen in CI), and the first link made must still work when the test opens one.
        extra={"review": {"watermark_wait_seconds": 240, "media_link_seconds": 600}},
    )
    CloudDatabase.open(cloud_database_url, migrate=True).close()
    services = CloudServices.build(load_cloud_config(config), migrate=False)
    answers: list[Any] = []
    lock = threading.Lock()
    try:
        with (
            running(start_cloud_serve(config)) as serve,
            httpx.Client(base_url=serve.base_url, timeout=300) as client,
        ):
            hub = CloudAccount.sign_up(client).pair_hub()
            # A copy queued as the intake leaves it (its screen is tested elsewhere, and needs a worker).
            donation_id, _for_the_other = queue_rows(services.database, hub.home_id, 2)
            blob = seal_to_program(hub.program, donation_id, clip())
            services.store.put(f"review/{donation_id}", blob)
            with services.database.session() as session:
                row = session.get(ReviewDonation, donation_id)
                assert row is not None
                row.object_key, row.size, row.key_id = f"review/{donation_id}", len(blob), hub.program["key_id"]
            watching, waiting = make_staff(services, client), make_staff(services, client)
            assignment = watching.call("POST", "/api/v1/workbench/next").json()

            def ask_for_media() -> None:
                with httpx.Client(base_url=serve.base_url, timeout=300) as own:
                    answer = own.post(f"/api/v1/workbench/assignments/{assignment['id']}/media", headers=watching.auth)
                with lock:
                    answers.append(answer)

            def links_made() -> int:
                with services.database.session() as session:
                    return session.scalar(select(func.count()).select_from(ReviewMediaLink)) or 0

            # No worker runs yet: every request for the clip waits for one (as behind a worker busy for minutes).
            askers = [threading.Thread(target=ask_for_media) for _ in range(MEDIA_REQUESTS)]
            for asker in askers:
                asker.start()
            # A request that held a thread while it waited would leave the last ones queued for a thread; with
            # main's synchronous route, 40 links at most were made and `next` below never answered.
            wait_for(lambda: links_made() == MEDIA_REQUESTS, 60, f"{MEDIA_REQUESTS} media links to be asked for")
            with httpx.Client(base_url=serve.base_url, timeout=60) as other:
                turn = other.post("/api/v1/workbench/next", headers=waiting.auth)
                who = other.get("/api/v1/staff/session", headers=waiting.auth)
            with lock:
                answered_before_the_worker = list(answers)

            with running(start_cloud_worker(config, f"watermark-{uuid.uuid4().hex[:8]}@%h")) as worker:
                for asker in askers:
                    asker.join()
                assert "Traceback" not in worker.output()
            assert turn.status_code == 200, turn.text
            assert who.status_code == 200, who.text
            assert answered_before_the_worker == []
            # Each waiting request got its own single-use link once the worker was done.
            assert [answer.status_code for answer in answers] == [200] * MEDIA_REQUESTS
            urls = {answer.json()["url"] for answer in answers}
            assert len(urls) == MEDIA_REQUESTS
            shown = watching.call("GET", next(iter(urls)))
            assert shown.status_code == 200
            assert watching.call("GET", next(iter(urls))).status_code == 410
    finally:
        services.close()
