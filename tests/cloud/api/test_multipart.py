"""Multipart uploads: start, parts, the resume listing, completion with the SHA-256 checked."""

from __future__ import annotations

import hashlib
import os

from cloud.conftest import CloudUnderTest

OBJECT_ID = "big_0123456789abcdef"


def test_a_multipart_upload_resumes_from_the_listing_and_completes(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    data = os.urandom(cloud.config.limits.part_bytes + 1234)
    started = hub.json(
        "POST", f"/api/v1/objects/{OBJECT_ID}/uploads", {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    )
    assert started.status_code == 200, started.text
    upload_id, part_size = started.json()["upload_id"], started.json()["part_size"]
    parts_path = f"/api/v1/objects/{OBJECT_ID}/uploads/{upload_id}"

    first = hub.request("PUT", f"{parts_path}/parts/1", data[:part_size])
    # The hub "crashes" here; after its restart it asks what arrived and sends the rest.
    arrived = hub.request("GET", parts_path)
    early = hub.request("POST", f"{parts_path}/complete")
    second = hub.request("PUT", f"{parts_path}/parts/2", data[part_size:])
    completed = hub.request("POST", f"{parts_path}/complete")

    assert part_size >= 5 * 1024 * 1024
    assert first.json() == {"n": 1, "size": part_size}
    assert arrived.json() == {"parts": [{"n": 1, "size": part_size}]}
    assert early.status_code == 400
    assert early.json()["detail"] == "parts missing: 2"
    assert second.json() == {"n": 2, "size": 1234}
    assert completed.status_code == 201, completed.text
    assert completed.json()["size"] == len(data)
    assert hub.request("GET", f"/api/v1/objects/{OBJECT_ID}").content == data
    assert hub.request("GET", parts_path).status_code == 404


def test_a_part_of_the_wrong_size_or_number_is_refused(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    size = cloud.config.limits.part_bytes + 10
    upload_id = hub.json("POST", f"/api/v1/objects/{OBJECT_ID}/uploads", {"size": size, "sha256": "a" * 64}).json()[
        "upload_id"
    ]
    parts_path = f"/api/v1/objects/{OBJECT_ID}/uploads/{upload_id}/parts"

    short = hub.request("PUT", f"{parts_path}/1", b"x" * 10)
    beyond = hub.request("PUT", f"{parts_path}/3", b"x" * 10)

    assert short.status_code == 400
    assert "part 1 must be" in short.json()["detail"]
    assert beyond.status_code == 400


def test_joined_parts_whose_sha256_differs_are_refused_and_removed(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    data = b"y" * 1000
    upload_id = hub.json(
        "POST", f"/api/v1/objects/{OBJECT_ID}/uploads", {"size": len(data), "sha256": hashlib.sha256(b"z").hexdigest()}
    ).json()["upload_id"]
    path = f"/api/v1/objects/{OBJECT_ID}/uploads/{upload_id}"
    assert hub.request("PUT", f"{path}/parts/1", data).status_code == 200

    completed = hub.request("POST", f"{path}/complete")

    assert completed.status_code == 400
    assert "SHA-256" in completed.json()["detail"]
    assert hub.request("GET", f"/api/v1/objects/{OBJECT_ID}").status_code == 404
    assert list(cloud.services.store.keys("homes/")) == []


def test_completing_an_upload_of_content_already_stored_answers_200(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    data = b"q" * 100
    assert hub.put(OBJECT_ID, data).status_code == 201
    upload_id = hub.json(
        "POST", f"/api/v1/objects/{OBJECT_ID}/uploads", {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    ).json()["upload_id"]
    path = f"/api/v1/objects/{OBJECT_ID}/uploads/{upload_id}"
    assert hub.request("PUT", f"{path}/parts/1", data).status_code == 200

    completed = hub.request("POST", f"{path}/complete")
    conflicting = hub.json("POST", f"/api/v1/objects/{OBJECT_ID}/uploads", {"size": 5, "sha256": "b" * 64})

    assert completed.status_code == 200
    assert conflicting.status_code == 409
