"""The object routes a hub calls, on PostgreSQL and the rclone S3 server (docs/cloud-protocol.md, "Objects")."""

from __future__ import annotations

import hashlib

from cloud.conftest import CloudUnderTest

OBJECT_ID = "obj_0123456789abcdef"


def test_put_then_get_list_and_delete_an_object(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()

    created = hub.put(OBJECT_ID, b"sealed bytes")
    fetched = hub.request("GET", f"/api/v1/objects/{OBJECT_ID}")
    listed = hub.request("GET", "/api/v1/objects?limit=10")
    home = hub.request("GET", "/api/v1/home")

    assert created.status_code == 201, created.text
    assert created.json()["sha256"] == hashlib.sha256(b"sealed bytes").hexdigest()
    assert created.json()["size"] == 12
    assert fetched.status_code == 200
    assert fetched.content == b"sealed bytes"
    assert fetched.headers["content-type"] == "application/octet-stream"
    assert [item["id"] for item in listed.json()["objects"]] == [OBJECT_ID]
    assert listed.json()["next"] is None
    assert home.json()["objects"] == 1
    assert home.json()["bytes"] == 12
    assert list(cloud.services.store.keys("homes/")) == [f"homes/{hub.home_id}/{OBJECT_ID}"]

    assert hub.request("DELETE", f"/api/v1/objects/{OBJECT_ID}").status_code == 204
    assert hub.request("DELETE", f"/api/v1/objects/{OBJECT_ID}").status_code == 204
    assert hub.request("GET", f"/api/v1/objects/{OBJECT_ID}").status_code == 404
    # Tasks run in-process here: the blob went right after its row.
    assert list(cloud.services.store.keys("homes/")) == []
