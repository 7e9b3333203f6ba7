"""The watermark burned in by a real `homewarden cloud worker` on RabbitMQ, for a reviewer of an API process."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from cloud.api.test_review_hubs import clip, donate_and_wait, receipts_of
from cloud.review.conftest import make_staff, new_donation_id
from cloud_process import RABBITMQ_URL, CloudAccount, S3Server, running, start_cloud_worker, write_cloud_config
from homewarden.cloud.api.app import create_cloud_app
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.services import CloudServices

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
