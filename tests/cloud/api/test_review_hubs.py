"""The review program's hub-facing routes on PostgreSQL and the rclone S3 server (docs/cloud-protocol.md, v1.1)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy import select, update

from cloud.conftest import CloudUnderTest
from cloud.review.conftest import donate, metadata_header, new_donation_id, seal_to_program
from cloud_process import S3Server, SignedHub, write_cloud_config
from conftest import media_file
from homewarden.cloud.api.app import create_cloud_app
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.models import ReviewDonation
from homewarden.cloud.review.audit import GENESIS_HASH, content_hash_of, first_broken_link, link_hash
from homewarden.cloud.review.signatures import canonical_json, decode_signature
from homewarden.cloud.services import CloudServices
from waiting import wait_for

# Clean footage NudeNet lets through (tests/privacy/test_screening.py); a face in it is what a test policy refuses.
CLEAN_CLIP = "video/head-pose-face-detection-female-and-male.gif"
SCREENING_SECONDS = 180


def clip() -> bytes:
    """Return the plaintext of a donated copy: real footage the screen decodes."""
    return media_file(CLEAN_CLIP).read_bytes()


def verify_signed(program: dict[str, Any], signed: dict[str, Any]) -> None:
    """Check a receipt or checkpoint's signature with a program object's key (raises when it does not verify)."""
    unsigned = {key: value for key, value in signed.items() if key != "signature"}
    VerifyKey(base64.b64decode(program["verify_key"])).verify(
        canonical_json(unsigned), decode_signature(signed["signature"])
    )


def state_of(hub: SignedHub, donation_id: str) -> str:
    """Return a donation's state as its hub reads it."""
    return str(hub.request("GET", f"/api/v1/donations/{donation_id}").json()["state"])


def receipts_of(hub: SignedHub) -> list[dict[str, Any]]:
    """Return every receipt of the hub's home."""
    return list(hub.request("GET", "/api/v1/review/receipts").json()["receipts"])


def donate_and_wait(hub: SignedHub, donation_id: str, plaintext: bytes, state: str = "queued") -> bytes:
    """Donate a copy, wait for the cloud's screen to reach ``state``; return the sealed blob."""
    blob = seal_to_program(hub.program, donation_id, plaintext)
    answer = donate(hub, donation_id, blob)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"donation_id": donation_id, "state": "screening"}
    wait_for(lambda: state_of(hub, donation_id) == state, SCREENING_SECONDS, f"the donation to be {state}")
    return blob


def test_pairing_hands_over_the_program_key_and_the_route_shows_its_rotations(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    pinned = dict(hub.program)

    before = hub.request("GET", "/api/v1/review/program-key").json()
    rotation = cloud.services.program_keys.rotate()
    after = hub.request("GET", "/api/v1/review/program-key").json()

    assert set(pinned) == {"key_id", "verify_key", "created_at"}
    assert before == {"program": pinned, "rotations": []}
    assert after["program"] == rotation["program"] != pinned
    assert after["rotations"] == [rotation]
    verify_signed(pinned, {key: rotation[key] for key in ("previous_key_id", "program", "at", "signature")})


def test_a_donation_is_screened_queued_and_kept_apart_from_the_homes_objects(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()

    blob = donate_and_wait(hub, donation_id, clip())

    status = hub.request("GET", f"/api/v1/donations/{donation_id}").json()
    assert status["state"] == "queued"
    assert (status["labels"], status["views"]) == (0, 0)
    assert list(cloud.services.store.keys("review/")) == [f"review/{donation_id}"]
    assert cloud.services.store.read_all(f"review/{donation_id}") == blob
    assert list(cloud.services.store.keys("homes/")) == []
    assert hub.request("GET", "/api/v1/home").json()["bytes"] == 0
    actions = [receipt["content"]["action"] for receipt in receipts_of(hub)]
    assert actions == ["received", "screened", "queued"]


def test_the_same_copy_again_is_200_and_other_content_409(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    blob = seal_to_program(hub.program, donation_id, b"not a video: the screen refuses it")
    first = donate(hub, donation_id, blob)

    again = donate(hub, donation_id, blob)
    other = donate(hub, donation_id, blob + b"x")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["donation_id"] == donation_id
    assert other.status_code == 409


def test_a_copy_sealed_to_a_key_the_cloud_does_not_hold_is_409(cloud: CloudUnderTest, tmp_path: Path) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()

    answer = donate(hub, donation_id, b"sealed elsewhere", key_id="pk_0000000000000000")

    assert answer.status_code == 409
    assert answer.json() == {"detail": "this review key is not current"}
    assert hub.request("GET", f"/api/v1/donations/{donation_id}").status_code == 404


def test_bad_headers_are_refused_in_plain_words_and_leave_nothing(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    blob = b"sealed bytes"

    missing = donate(hub, donation_id, blob, metadata="")
    not_json = donate(hub, donation_id, blob, metadata="bm90IGpzb24")
    bad_field = donate(hub, donation_id, blob, metadata=metadata_header(width=0))
    past = donate(hub, donation_id, blob, metadata=metadata_header(expires_in=timedelta(days=-1)))
    wrong_hash = donate(hub, donation_id, blob, sha256=hashlib.sha256(b"other").hexdigest())

    assert [answer.status_code for answer in (missing, not_json, bad_field, past, wrong_hash)] == [400] * 5
    assert "X-HW-Donation" in missing.json()["detail"]
    assert "width" in bad_field.json()["detail"]
    assert "expires_at" in past.json()["detail"]
    assert "SHA-256" in wrong_hash.json()["detail"]
    assert hub.request("GET", f"/api/v1/donations/{donation_id}").status_code == 404
    assert list(cloud.services.store.keys("review/")) == []


def test_a_copy_over_16_mib_is_413_unread(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()

    answer = donate(hub, new_donation_id(), b"\0" * (16 * 1024 * 1024 + 1))

    assert answer.status_code == 413
    assert list(cloud.services.store.keys("review/")) == []


def test_every_review_route_refuses_an_unsigned_or_badly_signed_request(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    paths = [
        ("GET", "/api/v1/review/program-key"),
        ("PUT", f"/api/v1/donations/{donation_id}"),
        ("GET", f"/api/v1/donations/{donation_id}"),
        ("DELETE", f"/api/v1/donations/{donation_id}"),
        ("GET", "/api/v1/review/receipts"),
        ("GET", "/api/v1/review/checkpoint"),
        ("GET", "/api/v1/review/chain"),
    ]

    unsigned = [cloud.client.request(method, path) for method, path in paths]
    forged = [
        cloud.client.request(method, path, headers={**hub.key.headers(method, path), "X-HW-Signature": "A" * 86})
        for method, path in paths
    ]

    assert [answer.status_code for answer in unsigned] == [401] * len(paths)
    assert [answer.status_code for answer in forged] == [401] * len(paths)


def test_another_homes_donation_is_not_found_and_its_receipts_are_not_shown(cloud: CloudUnderTest) -> None:
    alice = cloud.account().pair_hub()
    bob = cloud.account().pair_hub()
    donation_id = new_donation_id()
    blob = seal_to_program(alice.program, donation_id, b"alice's copy")
    assert donate(alice, donation_id, blob).status_code == 201

    looked = bob.request("GET", f"/api/v1/donations/{donation_id}")
    withdrawn = bob.request("DELETE", f"/api/v1/donations/{donation_id}")
    taken = donate(bob, donation_id, blob)

    assert looked.status_code == 404
    assert withdrawn.status_code == 404
    assert taken.status_code == 409
    assert receipts_of(bob) == []
    assert {receipt["content"]["home_id"] for receipt in receipts_of(alice)} == {alice.home_id}
    assert alice.request("GET", f"/api/v1/donations/{donation_id}").status_code == 200


def test_a_withdrawal_deletes_the_bytes_now_and_answers_the_same_receipt_again(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    donate_and_wait(hub, donation_id, clip())

    first = hub.request("DELETE", f"/api/v1/donations/{donation_id}")
    again = hub.request("DELETE", f"/api/v1/donations/{donation_id}")

    assert first.status_code == 200, first.text
    assert first.json()["state"] == "withdrawn"
    assert again.json() == first.json()
    receipt = first.json()["receipt"]
    verify_signed(hub.program, receipt)
    assert receipt["content"]["action"] == "withdrawn"
    assert receipt["content"]["donation_id"] == donation_id
    assert list(cloud.services.store.keys("review/")) == []
    with cloud.services.database.session() as session:
        row = session.get(ReviewDonation, donation_id)
        assert row is not None
        assert (row.state, row.withdrawn_at is not None, row.deleted_at is not None) == ("withdrawn", True, True)
    assert state_of(hub, donation_id) == "withdrawn"


def test_withdrawing_before_the_upload_arrived_keeps_the_late_upload_out(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()

    withdrawn = hub.request("DELETE", f"/api/v1/donations/{donation_id}")
    late = donate(hub, donation_id, seal_to_program(hub.program, donation_id, b"late copy"))

    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"
    verify_signed(hub.program, withdrawn.json()["receipt"])
    assert late.status_code == 200
    assert late.json()["state"] == "withdrawn"
    assert list(cloud.services.store.keys("review/")) == []


def test_an_expired_copy_is_deleted_by_the_sweep_with_an_expire_receipt(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    donate_and_wait(hub, donation_id, clip())
    _expire(cloud.services, donation_id)

    assert cloud.services.run_review_sweep() == 1

    assert state_of(hub, donation_id) == "expired"
    assert list(cloud.services.store.keys("review/")) == []
    expired = receipts_of(hub)[-1]
    assert expired["content"]["action"] == "expired"
    verify_signed(hub.program, expired)


def test_receipts_verify_and_page_by_seq(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    for _ in range(3):
        hub.request("DELETE", f"/api/v1/donations/{new_donation_id()}")

    first = hub.request("GET", "/api/v1/review/receipts?limit=2").json()
    rest = hub.request("GET", f"/api/v1/review/receipts?after={first['next']}&limit=2").json()
    too_many = hub.request("GET", "/api/v1/review/receipts?limit=501")

    receipts = first["receipts"] + rest["receipts"]
    assert [receipt["content"]["seq"] for receipt in receipts] == [1, 2, 3]
    assert first["next"] == 2
    assert rest["next"] is None
    assert too_many.status_code == 400
    for receipt in receipts:
        verify_signed(hub.program, receipt)
        assert receipt["content_hash"] == content_hash_of(receipt["content"])
        assert receipt["entry_hash"] == link_hash(receipt["prev_hash"], receipt["content_hash"])
    assert receipts[0]["prev_hash"] == GENESIS_HASH


def test_the_chain_recomputes_to_a_signed_checkpoint_across_homes(cloud: CloudUnderTest) -> None:
    alice = cloud.account().pair_hub()
    bob = cloud.account().pair_hub()
    empty = alice.request("GET", "/api/v1/review/checkpoint").json()
    for hub in (alice, bob, alice):
        hub.request("DELETE", f"/api/v1/donations/{new_donation_id()}")

    checkpoint = bob.request("GET", "/api/v1/review/checkpoint").json()
    same = alice.request("GET", "/api/v1/review/checkpoint").json()
    links = alice.request("GET", "/api/v1/review/chain?after=0&limit=2").json()
    rest = alice.request("GET", f"/api/v1/review/chain?after={links['next']}").json()

    assert (empty["seq"], empty["head_hash"]) == (0, GENESIS_HASH)
    verify_signed(alice.program, checkpoint)
    assert checkpoint == same
    assert checkpoint["seq"] == 3
    chain = [(link["seq"], link["content_hash"], link["entry_hash"]) for link in links["links"] + rest["links"]]
    assert set(links["links"][0]) == {"seq", "content_hash", "entry_hash"}
    assert first_broken_link(chain) is None
    assert chain[-1][2] == checkpoint["head_hash"]
    # Alice's own receipt sits in the chain where it claims.
    mine = receipts_of(alice)[-1]
    assert chain[mine["content"]["seq"] - 1][2] == mine["entry_hash"]


@pytest.fixture
def strict_cloud(tmp_path: Path, cloud_database_url: str, s3_server: S3Server) -> Iterator[CloudUnderTest]:
    """Yield a cloud whose screen refuses a face (a class NudeNet reports in real footage, as the hub's tests do)."""
    path = write_cloud_config(
        tmp_path / "cloud",
        cloud_database_url,
        s3=s3_server,
        extra={"review": {"screening": {"refuse_classes": ["FACE_FEMALE"], "min_score": 0.5}}},
    )
    CloudDatabase.open(cloud_database_url, migrate=True).close()
    services = CloudServices.build(load_cloud_config(path), migrate=False)
    try:
        with TestClient(create_cloud_app(services), raise_server_exceptions=False) as client:
            yield CloudUnderTest(services, client)
    finally:
        services.close()


def test_a_copy_the_clouds_screen_refuses_is_deleted_at_once_with_a_refused_receipt(
    strict_cloud: CloudUnderTest,
) -> None:
    # No test footage shows intimate content (nor should it): a policy refusing faces takes the same path.
    hub = strict_cloud.account().pair_hub()
    donation_id = new_donation_id()

    donate_and_wait(hub, donation_id, clip(), state="refused")

    # The refusal is committed first and the copy deleted right after (deleting before a commit that then failed
    # would leave a donation waiting for bytes that are gone), so the state can be read a moment before the copy goes.
    wait_for(lambda: list(strict_cloud.services.store.keys("review/")) == [], 10, "the refused copy to be deleted")
    receipts = receipts_of(hub)
    assert [receipt["content"]["action"] for receipt in receipts] == ["received", "screened", "refused"]
    assert receipts[-1]["content"]["details"]["found"] == ["FACE_FEMALE"]
    assert receipts[1]["content"]["details"]["passed"] is False
    for receipt in receipts:
        verify_signed(hub.program, receipt)


def test_a_copy_that_does_not_open_with_the_program_key_is_refused(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    # Sealed under another donation id: the bytes were moved, so authentication fails.
    blob = seal_to_program(hub.program, "d_some_other_donation", clip())

    assert donate(hub, donation_id, blob).status_code == 201

    wait_for(lambda: state_of(hub, donation_id) == "refused", SCREENING_SECONDS, "the copy to be refused")
    assert "cannot be opened" in receipts_of(hub)[-1]["content"]["details"]["reason"]
    # Deleted right after the refusal's commit (see the test above).
    wait_for(lambda: list(cloud.services.store.keys("review/")) == [], 10, "the refused copy to be deleted")


def _expire(services: CloudServices, donation_id: str) -> None:
    """Make a donation's expiry pass (how a test makes time pass for the database)."""
    with services.database.session() as session:
        session.execute(
            update(ReviewDonation)
            .where(ReviewDonation.donation_id == donation_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        assert session.scalar(select(ReviewDonation.state).where(ReviewDonation.donation_id == donation_id))


def test_a_withdrawal_during_the_upload_leaves_no_bytes_behind(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    store = cloud.services.store
    real_put = store.put

    def put_then_withdraw(key: str, data: bytes) -> None:
        # The owner withdraws while the bytes are being written (the one moment a test must place by hand).
        real_put(key, data)
        cloud.services.home_donations(hub.home_id).withdraw(donation_id, cloud.services.program_keys.current())

    store.put = put_then_withdraw  # type: ignore[method-assign]
    try:
        answer = donate(hub, donation_id, seal_to_program(hub.program, donation_id, b"copy"))
    finally:
        store.put = real_put  # type: ignore[method-assign]

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "withdrawn"
    assert list(store.keys("review/")) == []
    assert [receipt["content"]["action"] for receipt in receipts_of(hub)] == ["withdrawn"]


def test_after_a_rotation_an_old_key_copy_still_opens_and_receipts_carry_the_new_key(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    pinned = dict(hub.program)
    donation_id = new_donation_id()
    blob = seal_to_program(pinned, donation_id, clip())

    rotation = cloud.services.program_keys.rotate()
    answer = donate(hub, donation_id, blob, key_id=pinned["key_id"])

    assert answer.status_code == 201, answer.text
    wait_for(lambda: state_of(hub, donation_id) == "queued", SCREENING_SECONDS, "the old-key copy to be queued")
    receipts = receipts_of(hub)
    new_program = rotation["program"]
    assert {receipt["key_id"] for receipt in receipts} == {new_program["key_id"]}
    for receipt in receipts:
        verify_signed(new_program, receipt)
    with pytest.raises(BadSignatureError):
        verify_signed(pinned, receipts[0])
