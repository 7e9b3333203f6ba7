"""The S3 store (on `rclone serve s3`) and the folder store behave the same through the one interface."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud_process import S3Server
from homewarden.cloud.config import S3StoreConfig
from homewarden.cloud.object_store import (
    BlobMissingError,
    FolderObjectStore,
    ObjectStore,
    ObjectStoreError,
    S3ObjectStore,
)

MIB = 1024 * 1024


@pytest.fixture(params=["s3", "folder"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Return an empty store of each kind."""
    if request.param == "folder":
        made: ObjectStore = FolderObjectStore(tmp_path / "objects")
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        made = S3ObjectStore.from_config(
            S3StoreConfig(
                endpoint_url=server.endpoint_url,
                bucket=server.new_bucket(),
                access_key=server.access_key,
                secret_key=server.secret_key,
            )
        )
    made.check()
    return made


def test_put_read_list_and_delete(store: ObjectStore) -> None:
    store.put("homes/h_1/object-a", b"a" * 1000)
    store.put("homes/h_1/object-b", b"b")
    store.put("homes/h_2/object-a", b"other home")

    assert store.read_all("homes/h_1/object-a") == b"a" * 1000
    assert list(store.keys("homes/h_1/")) == ["homes/h_1/object-a", "homes/h_1/object-b"]

    store.delete("homes/h_1/object-a")
    store.delete("homes/h_1/object-a")

    assert list(store.keys("homes/h_1/")) == ["homes/h_1/object-b"]
    with pytest.raises(BlobMissingError):
        store.read("homes/h_1/object-a")


def test_multipart_upload_lists_its_parts_and_joins_them(store: ObjectStore) -> None:
    key = "homes/h_1/large"
    upload = store.start_upload(key)
    store.put_part(key, upload, 2, b"tail")
    store.put_part(key, upload, 1, b"x" * (5 * MIB))

    parts = store.parts(key, upload)
    store.finish_upload(key, upload, parts)

    assert [(part.number, part.size) for part in parts] == [(1, 5 * MIB), (2, 4)]
    assert store.read_all(key) == b"x" * (5 * MIB) + b"tail"


def test_an_aborted_upload_is_gone_and_leaves_no_object(store: ObjectStore) -> None:
    key = "homes/h_1/abandoned"
    upload = store.start_upload(key)
    store.put_part(key, upload, 1, b"part")

    store.abort_upload(key, upload)
    store.abort_upload(key, upload)

    with pytest.raises(BlobMissingError):
        store.parts(key, upload)
    assert list(store.keys("homes/")) == []


def test_keys_outside_the_clouds_own_shape_are_refused(store: ObjectStore) -> None:
    for key in ("../escape", "homes/h_1/../../x", "/absolute", "homes/h 1/x"):
        with pytest.raises(ValueError, match="not an object store key"):
            store.put(key, b"x")


def test_an_s3_store_that_does_not_answer_is_an_object_store_error() -> None:
    store = S3ObjectStore.from_config(
        S3StoreConfig(endpoint_url="http://127.0.0.1:1", bucket="nothing", access_key="a", secret_key="b")
    )

    with pytest.raises(ObjectStoreError, match="bucket 'nothing' does not answer"):
        store.check()


def test_uploads_in_progress_are_listed_with_their_start_until_finished_or_aborted(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    finished = store.start_upload("homes/h_1/finished")
    abandoned = store.start_upload("homes/h_1/abandoned")
    store.put_part("homes/h_1/finished", finished, 1, b"done")
    store.put_part("homes/h_1/abandoned", abandoned, 1, b"left")

    listed = {(upload.key, upload.upload_id) for upload in store.uploads()}
    starts = [upload.started_at for upload in store.uploads()]
    store.finish_upload("homes/h_1/finished", finished, store.parts("homes/h_1/finished", finished))
    after_finishing = [(upload.key, upload.upload_id) for upload in store.uploads()]
    store.abort_upload("homes/h_1/abandoned", abandoned)

    assert listed == {("homes/h_1/finished", finished), ("homes/h_1/abandoned", abandoned)}
    assert all(before < started <= datetime.now(UTC) + timedelta(seconds=5) for started in starts)
    assert after_finishing == [("homes/h_1/abandoned", abandoned)]
    assert list(store.uploads()) == []
