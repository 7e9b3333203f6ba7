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


def test_put_is_idempotent_by_content_and_refuses_other_content(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    first = hub.put(OBJECT_ID, b"one")

    again = hub.put(OBJECT_ID, b"one")
    other = hub.put(OBJECT_ID, b"two")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert other.status_code == 409
    assert hub.request("GET", f"/api/v1/objects/{OBJECT_ID}").content == b"one"


def test_a_body_that_does_not_match_its_sha256_is_refused(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()

    wrong = hub.request(
        "PUT", f"/api/v1/objects/{OBJECT_ID}", b"body", {"X-HW-Content-SHA256": hashlib.sha256(b"other").hexdigest()}
    )
    missing = hub.request("PUT", f"/api/v1/objects/{OBJECT_ID}", b"body")

    assert wrong.status_code == 400
    assert "SHA-256" in wrong.json()["detail"]
    assert missing.status_code == 400
    assert hub.request("GET", f"/api/v1/objects/{OBJECT_ID}").status_code == 404
    assert list(cloud.services.store.keys("homes/")) == []


def test_a_bad_object_id_is_refused_in_plain_words(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()

    short = hub.put("too-short", b"x")
    dotted = hub.request("GET", "/api/v1/objects/has.a.dot.in.the.name")

    assert short.status_code == 400
    assert isinstance(short.json()["detail"], str)
    assert dotted.status_code == 400


def test_another_homes_object_is_not_found(cloud: CloudUnderTest) -> None:
    alice = cloud.account().pair_hub()
    bob = cloud.account().pair_hub()
    assert alice.put(OBJECT_ID, b"alice's sealed clip").status_code == 201

    answers = [
        bob.request("GET", f"/api/v1/objects/{OBJECT_ID}"),
        bob.request("POST", f"/api/v1/objects/{OBJECT_ID}/uploads/{'0' * 32}/complete"),
        bob.request("GET", f"/api/v1/objects/{OBJECT_ID}/uploads/{'0' * 32}"),
    ]
    bob_listing = bob.request("GET", "/api/v1/objects")
    bob_delete = bob.request("DELETE", f"/api/v1/objects/{OBJECT_ID}")
    bob_own = bob.put(OBJECT_ID, b"bob's own object under the same id")

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert bob_listing.json() == {"objects": [], "next": None}
    # Bob's delete of "his" object of that id touches nothing of Alice's; his own upload of that id is his alone.
    assert bob_delete.status_code == 204
    assert bob_own.status_code == 201
    assert alice.request("GET", f"/api/v1/objects/{OBJECT_ID}").content == b"alice's sealed clip"
    assert bob.request("GET", f"/api/v1/objects/{OBJECT_ID}").content == b"bob's own object under the same id"
    assert bob.request("GET", "/api/v1/home").json()["objects"] == 1


def test_an_upload_over_the_quota_is_refused_with_507(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    _set_quota(cloud, hub.home_id, 100)

    fits = hub.put("fits_0123456789abcdef", b"x" * 60)
    over = hub.put("over_0123456789abcdef", b"x" * 60)
    multipart = hub.json("POST", "/api/v1/objects/mp_0123456789abcdef/uploads", {"size": 41, "sha256": "0" * 64})

    assert fits.status_code == 201
    assert over.status_code == 507
    assert "quota" in over.json()["detail"]
    assert multipart.status_code == 507
    assert hub.request("GET", "/api/v1/home").json()["bytes"] == 60


def test_listing_pages_by_id(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    ids = [f"page_{number:02d}_0123456789" for number in range(5)]
    for object_id in reversed(ids):
        assert hub.put(object_id, object_id.encode(), pinned=object_id == ids[0]).status_code == 201

    first = hub.request("GET", "/api/v1/objects?limit=2").json()
    second = hub.request("GET", f"/api/v1/objects?after={first['next']}&limit=2").json()
    third = hub.request("GET", f"/api/v1/objects?after={second['next']}&limit=2").json()

    assert [item["id"] for item in first["objects"]] == ids[:2]
    assert first["objects"][0]["pinned"] is True
    assert [item["id"] for item in second["objects"]] == ids[2:4]
    assert [item["id"] for item in third["objects"]] == ids[4:]
    assert third["next"] is None
    assert hub.request("GET", "/api/v1/objects?limit=1001").status_code == 400


def test_a_body_over_the_limit_is_refused_before_it_is_read(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    limit = cloud.config.limits.max_object_bytes
    body = b"\0" * (limit + 1)

    answer = hub.put(OBJECT_ID, body)
    json_answer = cloud.client.post("/api/v1/session", content=b"{" + b" " * cloud.config.limits.max_json_bytes + b"}")

    assert answer.status_code == 413
    assert answer.json()["detail"] == f"the request body is larger than {limit} bytes"
    assert json_answer.status_code == 413
    assert hub.request("GET", f"/api/v1/objects/{OBJECT_ID}").status_code == 404


def _set_quota(cloud: CloudUnderTest, home_id: str, quota: int) -> None:
    from sqlalchemy import update

    from homewarden.cloud.models import Home

    with cloud.services.database.session() as session:
        session.execute(update(Home).where(Home.id == home_id).values(quota_bytes=quota))
