"""The periodic duties in one process (the trial's way, and what each worker task calls): retention and the sweep."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from cloud.conftest import CloudUnderTest
from homewarden.cloud.models import BlobDeletion, HubNonce, MultipartUpload, StoredObject
from homewarden.cloud.object_store import BlobMissingError
from homewarden.cloud.retention import abort_forgotten_uploads


def test_retention_keeps_pinned_and_recent_objects(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    for name in ("old_clip_0123456789ab", "home-key-file-v1", "new_clip_0123456789ab"):
        assert hub.put(name, name.encode(), pinned=name == "home-key-file-v1").status_code == 201
    _age(cloud, ["old_clip_0123456789ab", "home-key-file-v1"], timedelta(days=cloud.config.homes.retention_days + 1))

    cloud.services.delete_blobs_now(cloud.services.run_retention())

    listed = [item["id"] for item in hub.request("GET", "/api/v1/objects").json()["objects"]]
    assert listed == ["home-key-file-v1", "new_clip_0123456789ab"]
    assert sorted(cloud.services.store.keys("homes/")) == [
        f"homes/{hub.home_id}/home-key-file-v1",
        f"homes/{hub.home_id}/new_clip_0123456789ab",
    ]


def test_the_sweep_aborts_stale_uploads_prunes_nonces_and_redoes_lost_deletions(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    data = b"m" * 10
    started = hub.json(
        "POST", "/api/v1/objects/stale_0123456789abcd/uploads", {"size": 10, "sha256": hashlib.sha256(data).hexdigest()}
    ).json()
    assert hub.request("PUT", f"/api/v1/objects/stale_0123456789abcd/uploads/{started['upload_id']}/parts/1", data)
    assert hub.put("lost_0123456789abcdef", b"its deletion task was lost").status_code == 201
    long_ago = datetime.now(UTC) - timedelta(days=2)
    key = f"homes/{hub.home_id}/lost_0123456789abcdef"
    with cloud.services.database.session() as session:
        session.execute(update(MultipartUpload).values(created_at=long_ago))
        session.execute(update(HubNonce).values(seen_at=long_ago))
        # The row went and the blob's deletion was recorded, but its task never ran (a broker outage).
        session.execute(delete(StoredObject).where(StoredObject.id == "lost_0123456789abcdef"))
        session.add(BlobDeletion(key=key, requested_at=long_ago))

    cloud.services.delete_blobs_now(cloud.services.run_sweep())

    with cloud.services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(MultipartUpload)) == 0
        assert session.scalar(select(func.count()).select_from(HubNonce)) == 0
        assert session.scalar(select(func.count()).select_from(BlobDeletion)) == 0
    assert list(cloud.services.store.keys("homes/")) == []
    assert hub.request("GET", f"/api/v1/objects/stale_0123456789abcd/uploads/{started['upload_id']}").status_code == 404


def test_an_upload_to_a_key_whose_deletion_is_pending_is_not_deleted_by_it(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    key = f"homes/{hub.home_id}/again_0123456789abcd"
    with cloud.services.database.session() as session:
        session.add(BlobDeletion(key=key, requested_at=datetime.now(UTC) - timedelta(days=1)))

    assert hub.put("again_0123456789abcd", b"uploaded again").status_code == 201
    cloud.services.delete_blobs_now(cloud.services.run_sweep())

    assert hub.request("GET", "/api/v1/objects/again_0123456789abcd").content == b"uploaded again"


def test_the_sweep_aborts_an_upload_only_the_store_knows_once_it_is_stale(cloud: CloudUnderTest) -> None:
    # A process died between starting the upload at the store (rclone here) and writing its row.
    store = cloud.services.store
    key = f"homes/{cloud.account().home_id}/orphan_0123456789ab"
    orphan = store.start_upload(key)
    store.put_part(key, orphan, 1, b"parts nobody will finish")

    cloud.services.delete_blobs_now(cloud.services.run_sweep())
    young = [upload.upload_id for upload in store.uploads()]
    aborted = abort_forgotten_uploads(store, started_before=datetime.now(UTC) + timedelta(minutes=1))

    assert young == [orphan]
    assert aborted == 1
    assert list(store.uploads()) == []
    with pytest.raises(BlobMissingError):
        store.parts(key, orphan)


def _age(cloud: CloudUnderTest, object_ids: list[str], age: timedelta) -> None:
    with cloud.services.database.session() as session:
        session.execute(
            update(StoredObject).where(StoredObject.id.in_(object_ids)).values(uploaded_at=datetime.now(UTC) - age)
        )
