"""The cloud's chain as the hub checks it: receipts' hashes and signatures, checkpoints extending each other, each
receipt found at its seq; a rewritten history is named in plain words. The cloud here is a real signing key held by
the test (review/cloud_signer.py); tests/offsite/test_review.py runs the same checks against the real cloud.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from nacl.signing import SigningKey

from homewarden.review.cloud_chain import (
    ChainError,
    CloudChainRecords,
    check_checkpoint,
    check_extension,
    check_receipt,
    verify_cloud_chain,
)
from homewarden.review.program_key import PinnedKeys, ProgramKey
from homewarden.store.database import EventStore
from review.cloud_signer import CloudChain, program_of, rotation, signature


def keys_of(*signing: SigningKey) -> PinnedKeys:
    """Return pinned keys holding ``signing`` in order."""
    return PinnedKeys(tuple(ProgramKey.from_document(program_of(key)) for key in signing))


def test_a_receipt_checks_out_and_any_change_is_refused() -> None:
    chain = CloudChain(SigningKey.generate())
    chain.add("home-b", "d-other", "received")
    receipt = chain.add("home-a", "d-0123456789abcdef", "view", "reviewer:r_0a1b2c3d")
    keys = keys_of(chain.key)
    checked = check_receipt(receipt, keys, "home-a")
    assert (checked.seq, checked.action, checked.actor) == (2, "view", "reviewer:r_0a1b2c3d")
    with pytest.raises(ChainError, match="another home"):
        check_receipt(receipt, keys, "home-b")
    altered = copy.deepcopy(receipt)
    altered["content"]["actor"] = "cloud"
    with pytest.raises(ChainError, match="content hash"):
        check_receipt(altered, keys)
    forged = copy.deepcopy(receipt)
    forged["signature"] = signature(SigningKey.generate(), {"anything": 1})
    with pytest.raises(ChainError, match="not the review program's"):
        check_receipt(forged, keys)
    with pytest.raises(ChainError, match="never accepted"):
        check_receipt(receipt, keys_of(SigningKey.generate()))


def test_receipts_signed_before_a_rotation_check_with_the_older_key() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    chain = CloudChain(old)
    early = chain.add("home-a", "d-0123456789abcdef", "received")
    keys = keys_of(old).follow({"program": program_of(new), "rotations": [rotation(old, new)]})
    chain.key = new
    late = chain.add("home-a", "d-0123456789abcdef", "queued")
    assert check_receipt(early, keys).seq == 1
    assert check_receipt(late, keys).seq == 2


def test_a_checkpoint_extends_the_last_one_and_a_rewrite_between_them_is_named() -> None:
    chain = CloudChain(SigningKey.generate())
    keys = keys_of(chain.key)
    mine = chain.add("home-a", "d-0123456789abcdef", "view", "reviewer:r_0a1b2c3d")
    first = check_checkpoint(chain.checkpoint(), keys)
    check_extension(0, "0" * 64, first, chain.links(0), {})
    for n in range(3):
        chain.add("home-b", f"d-other-{n:08d}", "view")
    second = check_checkpoint(chain.checkpoint(), keys)
    check_extension(first.seq, first.head_hash, second, chain.links(first.seq), {1: mine["entry_hash"]})

    # The cloud rewrites entry 2 (another home's view) and signs a checkpoint over the new history: the links the
    # hub fetches cannot lead from the checkpoint it kept to that one.
    rewritten = CloudChain(chain.key, chain.entries[:1])
    rewritten.add("home-b", "d-other-00000000", "label")
    for n in (1, 2):
        rewritten.add("home-b", f"d-other-{n:08d}", "view")
    forged = check_checkpoint(rewritten.checkpoint(), keys)
    with pytest.raises(ChainError, match="rewritten between seq 1 and 4"):
        check_extension(first.seq, first.head_hash, forged, chain.links(first.seq), {})
    # Having seen seq 4, the hub catches the rewrite at the cloud's next checkpoint, whatever links it is sent.
    rewritten.add("home-a", "d-0123456789abcdef", "withdrawn")
    later = check_checkpoint(rewritten.checkpoint(), keys)
    with pytest.raises(ChainError, match="rewritten between seq 4 and 5"):
        check_extension(second.seq, second.head_hash, later, rewritten.links(second.seq), {})
    # History rewritten under the hub's own receipt, from the start: its receipt is not where it claimed.
    again = CloudChain(chain.key)
    again.add("home-a", "d-0123456789abcdef", "label", "reviewer:r_0a1b2c3d")
    with pytest.raises(ChainError, match="not the one its receipt showed"):
        check_extension(
            0, "0" * 64, check_checkpoint(again.checkpoint(), keys), again.links(0), {1: mine["entry_hash"]}
        )


@pytest.fixture
def records(database_url: str) -> Iterator[CloudChainRecords]:
    """Return the hub's kept receipts and checkpoints, in a migrated database (SQLite and PostgreSQL)."""
    store = EventStore.open(database_url)
    yield CloudChainRecords(store.engine)
    store.close()


def test_what_the_hub_kept_verifies_and_a_checkpoint_over_another_history_is_named(
    records: CloudChainRecords,
) -> None:
    chain = CloudChain(SigningKey.generate())
    keys = keys_of(chain.key)
    receipt = chain.add("home-a", "d-0123456789abcdef", "view", "reviewer:r_0a1b2c3d")
    records.add_receipt(1, check_receipt(receipt, keys))
    assert not records.add_receipt(1, check_receipt(receipt, keys))  # kept once
    records.add_checkpoint(check_checkpoint(chain.checkpoint(), keys), chain.links(0))
    chain.add("home-b", "d-other-00000000", "view")
    records.add_checkpoint(check_checkpoint(chain.checkpoint(), keys), chain.links(1))
    report = verify_cloud_chain(records, keys)
    assert (report.receipts, report.checkpoints, report.problems) == (1, 2, [])
    assert records.last_checkpoint() == (2, chain.head)
    assert records.last_receipt_seq() == 1

    # A newer checkpoint whose links do not start where the last one ended: the cloud's history moved under it.
    forged = CloudChain(chain.key)
    forged.add("home-a", "d-0123456789abcdef", "label")
    forged.add("home-b", "d-other-00000000", "view")
    forged.add("home-b", "d-other-00000001", "view")
    records.add_checkpoint(check_checkpoint(forged.checkpoint(), keys), forged.links(2))
    report = verify_cloud_chain(records, keys)
    assert report.problems == ["the cloud's review log was rewritten between seq 2 and 3"]
