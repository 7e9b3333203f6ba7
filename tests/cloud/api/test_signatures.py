"""Signed hub requests: what the cloud refuses (docs/cloud-protocol.md, "Signed requests")."""

from __future__ import annotations

import hashlib
import time

from cloud.conftest import CloudUnderTest
from cloud_process import HubKey, SignedHub

OBJECT_ID = "sig_0123456789abcdef"


def test_a_replayed_request_is_refused(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    headers = hub.key.headers("GET", "/api/v1/home")

    first = cloud.client.get("/api/v1/home", headers=headers)
    replayed = cloud.client.get("/api/v1/home", headers=headers)

    assert first.status_code == 200
    assert replayed.status_code == 401
    assert replayed.json()["detail"] == "this nonce was already used (a replayed request)"


def test_an_altered_body_path_or_query_fails_the_signature(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    body = b"sealed"
    digest = {"X-HW-Content-SHA256": hashlib.sha256(body).hexdigest()}
    signed_put = hub.key.headers("PUT", f"/api/v1/objects/{OBJECT_ID}", body)
    signed_list = hub.key.headers("GET", "/api/v1/objects?limit=5")

    other_body = cloud.client.put(
        f"/api/v1/objects/{OBJECT_ID}",
        content=b"SEALED",
        headers={**signed_put, "X-HW-Content-SHA256": hashlib.sha256(b"SEALED").hexdigest()},
    )
    other_path = cloud.client.put(
        "/api/v1/objects/sig_other_0123456789", content=body, headers={**signed_put, **digest}
    )
    other_query = cloud.client.get("/api/v1/objects?limit=6", headers=signed_list)
    other_method = cloud.client.delete(f"/api/v1/objects/{OBJECT_ID}", headers=signed_put)

    for answer in (other_body, other_path, other_query, other_method):
        assert answer.status_code == 401
        assert answer.json()["detail"] == "the request's signature does not verify"
    assert hub.request("GET", "/api/v1/objects").json()["objects"] == []


def test_a_timestamp_outside_the_clock_window_is_refused(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    window = cloud.config.limits.clock_window_seconds

    old = hub.request("GET", "/api/v1/home", timestamp=int(time.time()) - window - 5)
    future = hub.request("GET", "/api/v1/home", timestamp=int(time.time()) + window + 5)
    recent = hub.request("GET", "/api/v1/home", timestamp=int(time.time()) - window + 30)

    assert old.status_code == 401
    assert "timestamp" in old.json()["detail"]
    assert future.status_code == 401
    assert recent.status_code == 200


def test_missing_or_malformed_headers_and_an_unknown_hub_are_refused(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    headers = hub.key.headers("GET", "/api/v1/home")
    stranger = HubKey()
    stranger.hub_id = "hub_doesnotexist000000000"

    unsigned = cloud.client.get("/api/v1/home")
    without_nonce = cloud.client.get("/api/v1/home", headers={k: v for k, v in headers.items() if k != "X-HW-Nonce"})
    bad_nonce = hub.request("GET", "/api/v1/home", nonce="not-hex")
    unknown = SignedHub(cloud.client, stranger, "").request("GET", "/api/v1/home")
    # A key that is not the paired one, under the paired hub's id.
    impostor_key = HubKey()
    impostor_key.hub_id = hub.key.hub_id
    impostor = SignedHub(cloud.client, impostor_key, "").request("GET", "/api/v1/home")

    assert unsigned.status_code == 401
    assert "x-hw-hub header is missing" in unsigned.json()["detail"]
    assert without_nonce.status_code == 401
    assert bad_nonce.status_code == 401
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "this hub is not paired"
    assert impostor.status_code == 401
    assert impostor.json()["detail"] == "the request's signature does not verify"


def test_a_hub_unpaired_by_its_account_is_refused_at_once(cloud: CloudUnderTest) -> None:
    account = cloud.account()
    hub = account.pair_hub()
    assert hub.put(OBJECT_ID, b"before").status_code == 201

    unpaired = cloud.client.delete(f"/api/v1/hubs/{hub.key.hub_id}", headers=account.auth)
    after = hub.request("GET", f"/api/v1/objects/{OBJECT_ID}")

    assert unpaired.status_code == 204
    assert after.status_code == 401
    assert after.json() == {"detail": "this hub is not paired"}
    hubs = cloud.client.get("/api/v1/hubs", headers=account.auth).json()
    assert [entry["active"] for entry in hubs] == [False]


def test_a_hub_can_unpair_itself(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()

    assert hub.request("DELETE", "/api/v1/hub").status_code == 204
    assert hub.request("GET", "/api/v1/home").status_code == 401


def test_pairing_a_new_hub_revokes_the_previous_one_and_keeps_the_objects(cloud: CloudUnderTest) -> None:
    account = cloud.account()
    stolen = account.pair_hub("hub that was stolen")
    assert stolen.put(OBJECT_ID, b"evidence").status_code == 201

    restored = account.pair_hub("restore hub")

    assert stolen.request("GET", "/api/v1/home").status_code == 401
    assert restored.request("GET", f"/api/v1/objects/{OBJECT_ID}").content == b"evidence"
    assert restored.home_id == stolen.home_id


def test_another_homes_hub_cannot_be_unpaired_by_an_account(cloud: CloudUnderTest) -> None:
    alice = cloud.account()
    bob = cloud.account()
    bobs_hub = bob.pair_hub()

    answer = cloud.client.delete(f"/api/v1/hubs/{bobs_hub.key.hub_id}", headers=alice.auth)

    assert answer.status_code == 404
    assert bobs_hub.request("GET", "/api/v1/home").status_code == 200
