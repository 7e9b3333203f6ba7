"""The hub's link to the review program in Homewarden Cloud: donated copies out, withdrawals, receipts and
checkpoints in.

``ReviewProgramLink`` is the donations' courier: a confirmed copy is sealed to the pinned program key and kept,
sealed, in the outbox (the hub keeps no other copy); a withdrawal is queued ahead of everything. The off-site worker
hands it the items of those kinds and asks it, every ``RECEIPTS_SECONDS`` and right after a withdrawal, to refresh the
program key, pull the home's receipts (each checked against the pinned keys and added to the household's own audit
log as ``review.<action>``) and keep the cloud's newest checkpoint with the links that show it extends the last one.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from homewarden.i18n import N_
from homewarden.offsite.client import CloudClient, CloudError, ConflictError, sha256_hex
from homewarden.offsite.identity import OffsiteFolder, PairingError
from homewarden.offsite.outbox import Outbox, OutboxItem
from homewarden.offsite.verifier_models import VerifierModels
from homewarden.privacy.audit import Actor, AuditLog
from homewarden.privacy.donations import NOT_PAIRED, DonationRecord, Donations
from homewarden.review.cloud_chain import (
    ChainError,
    CloudChainRecords,
    Link,
    check_checkpoint,
    check_extension,
    check_receipt,
)
from homewarden.review.program_key import PinnedKeys, seal_to_program
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, sealed_size

log = logging.getLogger(__name__)

RECEIPTS_SECONDS = 60.0
RECEIPTS_CURSOR = "review_receipts_after"
REVIEW_PROBLEM = "review_problem"
NO_PROGRAM_KEY = N_("the cloud this hub is paired with gave no review program key: pair again with a newer cloud")
CLOUD = Actor("cloud", "Homewarden Cloud")


class ReviewProgramLink:
    """Send donations and withdrawals to the cloud, and bring its receipts and checkpoints home."""

    def __init__(
        self, folder: OffsiteFolder, outbox: Outbox, audit: AuditLog, chain: CloudChainRecords, home_id: int
    ) -> None:
        """Work with the pairing in ``folder`` and the outbox; receipts go into ``audit`` for ``home_id``."""
        self.folder = folder
        self.outbox = outbox
        self.audit = audit
        self.chain = chain
        self.home_id = home_id
        self.donations: Donations | None = None
        # The verifier model courier, asked at every pull (None: a hub made by hand in a test).
        self.models: VerifierModels | None = None
        self.pull_now = threading.Event()
        # The off-site worker's wake-up, so a withdrawal leaves at once rather than at its next look.
        self.wake: Callable[[], None] = lambda: None
        self._pull_lock = threading.Lock()

    # The donations' courier

    def keys(self) -> PinnedKeys | None:
        """Return the pinned program keys (None when unpaired or the cloud gave none)."""
        if self.folder.pairing_stamp() is None:
            return None
        try:
            return self.folder.program_keys()
        except PairingError as exc:
            log.error("%s", exc)
            return None

    def unavailable(self) -> str | None:
        """Return why donations cannot go now, or None."""
        if self.folder.pairing_stamp() is None:
            return NOT_PAIRED
        keys = self.keys()
        if keys is None:
            return NO_PROGRAM_KEY
        if keys.problem is not None:
            return f"donations are paused: {keys.problem}"
        return None

    def sealed_size(self, plaintext_size: int) -> int:
        """Return the size of a copy once sealed to the program key."""
        return SEALED_DATA_KEY_SIZE + sealed_size(plaintext_size)

    def send(self, donation: DonationRecord, copy: bytes) -> None:
        """Seal the copy to the current program key and queue it, sealed, with the metadata the workbench shows."""
        keys = self.keys()
        if keys is None or keys.problem is not None:
            raise PairingError(self.unavailable() or NOT_PAIRED)
        key = keys.current
        body = seal_to_program(copy, donation.id, key)
        metadata = {
            "label": donation.label,
            "duration_s": float(donation.duration or 0.0),
            "width": int(donation.width or 0),
            "height": int(donation.height or 0),
            "donated_at": (donation.donated_at or datetime.now(UTC)).isoformat(),
            "expires_at": (donation.expires_at or datetime.now(UTC)).isoformat(),
            "consent": CONSENT_VERSION,
        }
        meta = json.dumps({"key_id": key.key_id, "metadata": metadata}, separators=(",", ":"))
        self.outbox.enqueue_donation(donation.id, body, sha256_hex(body), meta)
        self.wake()

    def withdraw(self, donation_id: str) -> None:
        """Queue the cloud's deletion of a donation ahead of other work."""
        self.outbox.enqueue_withdrawal(donation_id)
        self.wake()

    # The worker's side

    def attempt(self, client: CloudClient, item: OutboxItem) -> None:
        """Carry out a donation or withdrawal item; CloudErrors go to the worker, which retries with backoff."""
        if item.kind == "withdraw":
            answer = client.delete_donation(item.subject)
            self.outbox.deleted(item)
            if self.donations is not None:
                self.donations.withdrawal_confirmed(item.subject, _moment(answer.get("deleted_at")))
            receipt = answer.get("receipt")
            if receipt is not None:
                self._take_receipt(receipt)
            self.pull_now.set()
            return
        assert item.kind == "donation"
        assert item.body is not None
        assert item.meta is not None
        meta = json.loads(item.meta)
        try:
            answer = client.put_donation(item.subject, item.body, str(meta["key_id"]), dict(meta["metadata"]))
        except ConflictError as exc:
            # A key the cloud no longer holds, or another body under this id: the hub keeps no copy to seal again.
            self.outbox.fail(item, str(exc))
            if self.donations is not None:
                self.donations.undeliverable(item.subject, f"the cloud refused it ({exc}); donate the clip again")
            self.refresh_key(client)
            return
        self.outbox.uploaded(item, sha256_hex(item.body), len(item.body), str(meta["key_id"]))
        if self.donations is not None:
            self.donations.sent(item.subject, str(answer.get("state") or "screening"), datetime.now(UTC))

    def refused_for_good(self, item: OutboxItem, error: str) -> None:
        """Tell the owner when the cloud refused a donated copy for good."""
        if item.kind == "donation" and self.donations is not None:
            self.donations.undeliverable(item.subject, error)

    def refresh_key(self, client: CloudClient) -> None:
        """Follow the cloud's key rotations from the pinned key; a broken chain pauses donations and is shown."""
        keys = self.keys()
        if keys is None:
            return
        try:
            answer = client.program_key()
        except CloudError as exc:
            log.debug("review key not refreshed: %s", exc)
            return
        followed = keys.follow(answer)
        if followed != keys:
            if followed.problem is not None:
                log.error("review program: %s; donations are paused", followed.problem)
            elif len(followed.keys) > len(keys.keys):
                log.info("review program key rotated to %s, signed by %s", followed.current.key_id, keys.current.key_id)
            self.folder.save_program_keys(followed)

    def pull(self, client: CloudClient) -> int:
        """Refresh the key, take every new receipt, keep the newest checkpoint; return how many receipts came."""
        with self._pull_lock:
            self.pull_now.clear()
            self.refresh_key(client)
            taken = 0
            # Its own cursor, not the newest receipt kept: a withdrawal's answer brings a later receipt first.
            after = int(self.outbox.state(RECEIPTS_CURSOR) or 0)
            while True:
                page, following = client.receipts(after)
                for document in page:
                    taken += self._take_receipt(document)
                if page:
                    after = max(after, max(int(document["content"]["seq"]) for document in page))
                    self.outbox.set_state(RECEIPTS_CURSOR, str(after))
                if not following or not page:
                    break
                after = max(after, following)
            self._take_checkpoint(client)
            if self.models is not None:
                self.models.refresh(client)
            return taken

    def _take_receipt(self, document: Any) -> int:
        keys = self.keys()
        if keys is None:
            return 0
        try:
            pairing = self.folder.pairing()
            receipt = check_receipt(document, keys, pairing.home_id if pairing else None)
        except (ChainError, PairingError) as exc:
            log.error("review program: a receipt was refused: %s", exc)
            self.outbox.set_state(REVIEW_PROBLEM, str(exc))
            return 0
        if not self.chain.add_receipt(self.home_id, receipt):
            return 0
        role, _, _pseudonym = receipt.actor.partition(":")
        actor = Actor("reviewer", receipt.actor) if role == "reviewer" else CLOUD
        self.audit.record(
            actor,
            f"review.{receipt.action}",
            f"donation:{receipt.donation_id}",
            home_id=self.home_id,
            detail=receipt_detail(receipt.action, receipt.details, receipt.seq, receipt.at),
        )
        if self.donations is not None:
            self.donations.cloud_changed(receipt.donation_id, receipt.action, receipt.actor, _moment(receipt.at))
        return 1

    def _take_checkpoint(self, client: CloudClient) -> None:
        keys = self.keys()
        if keys is None:
            return
        try:
            checkpoint = check_checkpoint(client.checkpoint(), keys)
            last_seq, last_head = self.chain.last_checkpoint()
            if checkpoint.seq == last_seq and checkpoint.head_hash == last_head:
                return
            links: list[Link] = []
            after = last_seq
            while after < checkpoint.seq:
                page, _following = client.chain(after)
                if not page:
                    break
                for link in page:
                    seq = int(link["seq"])
                    if seq > checkpoint.seq:
                        break
                    links.append((seq, str(link["content_hash"]), str(link["entry_hash"])))
                after = links[-1][0] if links else checkpoint.seq
            receipts = {int(r["content"]["seq"]): str(r["entry_hash"]) for r in self.chain.receipts()}
            check_extension(last_seq, last_head, checkpoint, links, receipts)
        except (ChainError, KeyError, TypeError, ValueError) as exc:
            log.error("review program: the cloud's checkpoint was refused: %s", exc)
            self.outbox.set_state(REVIEW_PROBLEM, str(exc))
            return
        self.chain.add_checkpoint(checkpoint, links)
        self.outbox.set_state(REVIEW_PROBLEM, None)

    def problem(self) -> str | None:
        """Return what the offsite status shows of the review program: a broken key chain or a refused answer."""
        keys = self.keys()
        if keys is not None and keys.problem is not None:
            return keys.problem
        return self.outbox.state(REVIEW_PROBLEM)


CONSENT_VERSION = "2026-12"


# What the household's log says of a receipt, stored in English and shown in the reader's language (api/privacy.py).
RECEIPT_WHERE = N_("cloud seq {seq} at {at}")
MODEL_WITHDRAWN = N_(
    "model {model}, trained with this clip, was withdrawn from every hub at {when} (cloud seq {seq} at {at})"
)
MODEL_REPLACED = N_(
    "model {model}, trained with this clip, was replaced at {when} by model {replaced_by}, trained without it "
    "(cloud seq {seq} at {at})"
)
RECEIPT_DETAILS = (RECEIPT_WHERE, MODEL_WITHDRAWN, MODEL_REPLACED)


def receipt_detail(action: str, details: dict[str, Any], seq: int, at: str) -> str:
    """Return what the household's log says of a receipt: where it is in the cloud's chain, and for a model, what."""
    if action != "model_replaced":
        return RECEIPT_WHERE.format(seq=seq, at=at)
    model, replaced_by, when = details.get("model"), details.get("replaced_by"), details.get("at", at)
    if replaced_by is None:
        return MODEL_WITHDRAWN.format(model=model, when=when, seq=seq, at=at)
    return MODEL_REPLACED.format(model=model, when=when, replaced_by=replaced_by, seq=seq, at=at)


def _moment(text: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
