"""Pairing a hub with a cloud (a new device key and a one-time code), and unpairing it."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homewarden.config.model import OffsiteConfig
from homewarden.i18n import _
from homewarden.offsite.client import CloudClient, CloudError, NotPairedError, pair_with_cloud
from homewarden.offsite.identity import OffsiteFolder, Pairing, PairingError, check_cloud_url
from homewarden.offsite.outbox import Outbox, OutboxItem
from homewarden.offsite.review import RECEIPTS_CURSOR, REVIEW_PROBLEM
from homewarden.review.cloud_chain import CloudChainRecords
from homewarden.review.program_key import PinnedKeys, ProgramKey, ProgramKeyError
from homewarden.store.database import EventStore

log = logging.getLogger(__name__)


def hub_name(config: OffsiteConfig) -> str:
    """Return the name the hub gives itself in the cloud account."""
    return (config.hub_name or socket.gethostname() or "Homewarden hub")[:64]


def pair_hub(
    folder: OffsiteFolder,
    cloud_url: str,
    code: str,
    name: str,
    clock: Callable[[], float] = time.time,
    chain: CloudChainRecords | None = None,
) -> Pairing:
    """Make a new device key, pair it with the cloud using the one-time code, and keep the pairing.

    When the cloud's review program is not the one whose keys are pinned (another cloud), the receipts and
    checkpoints kept of the old one (``chain``) are archived with its keys and the receipts start again.
    """
    # The new key is kept only once the cloud accepted it: a failed attempt leaves an earlier pairing working.
    device_key = Ed25519PrivateKey.generate()
    answer = pair_with_cloud(check_cloud_url(cloud_url), code, device_key, name)
    try:
        # The review program's key is pinned now, from this answer: later keys are accepted only if it signed them.
        program = None if answer.program is None else PinnedKeys((ProgramKey.from_document(answer.program),))
    except ProgramKeyError as exc:
        raise PairingError(_("pairing refused: {problem}").format(problem=exc)) from None
    now = clock()
    pairing = Pairing(
        cloud_url=cloud_url.strip().rstrip("/"),
        hub_id=answer.hub_id,
        home_id=answer.home_id,
        clock_offset=round(answer.server_time - now, 3),
        paired_at=now,
    )
    old_program, old_url = _pinned_keys(folder), _cloud_url(folder)
    program, continues = program_after_pairing(old_program, program, pairing, device_key)
    outbox = Outbox(folder.outbox_path)
    try:
        if outbox.state("home_id") != pairing.home_id:
            # Another home's cloud holds none of what the ledger says was sent.
            outbox.forget_everything()
        if not continues:
            # Another review program's chain: its receipts count from its own start.
            outbox.set_state(RECEIPTS_CURSOR, None)
            outbox.set_state(REVIEW_PROBLEM, None)
        outbox.retry_failed()
        outbox.set_state("home_id", pairing.home_id)
    finally:
        outbox.close()
    if not continues and old_program is not None and chain is not None:
        archived = chain.archive(folder.chain_archive_path, old_program, old_url)
        if archived is not None:
            log.info("the receipts and checkpoints of the earlier cloud are archived in %s", archived)
    folder.save_device_key(device_key)
    if program is not None:
        folder.save_program_keys(program)
    else:
        folder.forget_program_keys()
        log.warning("the cloud at %s gave no review program key: donations stay off", pairing.cloud_url)
    folder.save_pairing(pairing)
    log.info("paired with %s as hub %s of home %s", pairing.cloud_url, pairing.hub_id, pairing.home_id)
    return pairing


def program_after_pairing(
    old: PinnedKeys | None, new: PinnedKeys | None, pairing: Pairing, device_key: Ed25519PrivateKey
) -> tuple[PinnedKeys | None, bool]:
    """Return the keys to pin after pairing, and whether they continue the chain of the keys pinned before.

    The same program answers with a key pinned already, or one its pinned key signed a rotation to (the hub
    missed the rotation while unpaired); any other key is another program, whose chain is not this one.
    """
    if old is None or new is None:
        return new, False
    if any(key.key_id == new.current.key_id for key in old.keys):
        return PinnedKeys(old.keys), True
    client = CloudClient(pairing, device_key)
    try:
        followed = old.follow(client.program_key())
    except CloudError as exc:
        log.warning("the cloud's key rotations could not be read (%s): its chain is taken as another one", exc)
        return new, False
    finally:
        client.close()
    if followed.problem is None and followed.current == new.current:
        return followed, True
    return new, False


def _pinned_keys(folder: OffsiteFolder) -> PinnedKeys | None:
    try:
        return folder.program_keys()
    except PairingError as exc:
        log.warning("the pinned review keys are unreadable (%s): the kept receipts cannot be archived", exc)
        return None


def _cloud_url(folder: OffsiteFolder) -> str | None:
    try:
        pairing = folder.pairing()
    except PairingError:
        return None
    return None if pairing is None else pairing.cloud_url


class WithdrawalsWaitingError(PairingError):
    """Unpairing refused: withdrawals of donated clips wait for a cloud that does not take them now."""


class WithdrawalLedger(Protocol):
    """Where the hub records how its withdrawals stand (the donations' table, ``privacy.donations``)."""

    def withdrawal_confirmed(self, donation_id: str, at: datetime) -> None:
        """Record that the cloud deleted the copy."""

    def withdrawal_unconfirmed(self, donation_id: str) -> None:
        """Record that the hub was unpaired before the cloud confirmed the withdrawal."""


# Carries out one waiting withdrawal with the cloud (the hub's review link also keeps the receipt); raises CloudError.
Delivery = Callable[[CloudClient, OutboxItem], None]


def unpair_hub(
    folder: OffsiteFolder,
    *,
    force: bool = False,
    ledger: WithdrawalLedger | None = None,
    deliver: Delivery | None = None,
) -> str | None:
    """Deliver waiting withdrawals, tell the cloud to forget this hub, forget the pairing; return why it was not told.

    A withdrawal the cloud does not take now refuses the unpairing (the cloud would keep the copy and nobody would
    ask again) unless ``force``: then the donation stays marked "withdrawal not confirmed by the cloud".
    """
    pairing = folder.pairing()
    if pairing is None:
        raise PairingError(_("this hub is not paired with a cloud"))
    not_told: str | None = None
    client = CloudClient(pairing, folder.device_key())
    outbox = Outbox(folder.outbox_path)
    try:
        waiting = deliver_withdrawals(client, outbox, ledger, deliver)
        if waiting and not force:
            raise WithdrawalsWaitingError(waiting_sentence(waiting))
        try:
            client.unpair()
        except NotPairedError:
            pass  # revoked already (from the account, or by a newer hub)
        except CloudError as exc:
            not_told = str(exc)
        for donation_id in waiting:
            log.warning("unpaired before the cloud confirmed the withdrawal of donation %s", donation_id)
            if ledger is not None:
                ledger.withdrawal_unconfirmed(donation_id)
        folder.forget_pairing()
        outbox.forget_everything()
    finally:
        client.close()
        outbox.close()
    log.info("unpaired from %s", pairing.cloud_url)
    return not_told


def deliver_withdrawals(
    client: CloudClient, outbox: Outbox, ledger: WithdrawalLedger | None, deliver: Delivery | None = None
) -> dict[str, str]:
    """Send every withdrawal waiting in the outbox now; return the donations the cloud did not take, with why."""
    waiting: dict[str, str] = {}
    for item in outbox.items():
        if item.kind != "withdraw":
            continue
        try:
            if deliver is not None:
                deliver(client, item)
            else:
                answer = client.delete_donation(item.subject)
                outbox.deleted(item)
                if ledger is not None:
                    ledger.withdrawal_confirmed(item.subject, deleted_at(answer.get("deleted_at")))
        except CloudError as exc:
            waiting[item.subject] = str(exc)
    return waiting


def waiting_sentence(waiting: dict[str, str]) -> str:
    """Say which withdrawals wait, why, and the two ways on."""
    count = len(waiting)
    names = ", ".join(sorted(waiting))
    why = next(iter(waiting.values()))
    return (
        f"not unpaired: {count} withdrawal{'s' if count != 1 else ''} of donated clips ({names}) "
        f"{'wait' if count != 1 else 'waits'} for the cloud, which did not take {'them' if count != 1 else 'it'} "
        f"now ({why}); unpairing now would leave {'those copies' if count != 1 else 'that copy'} in the cloud. "
        "Unpair once the cloud answers, or unpair anyway (`homewarden cloud unpair --force`, or confirm on the "
        'storage page): the privacy page then shows them as "withdrawal not confirmed by the cloud"'
    )


def deleted_at(text: Any) -> datetime:
    """Return the cloud's time of a deletion (now, when it gave none that reads)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def send_deletions_to_cloud(store: EventStore, folder: OffsiteFolder) -> Outbox | None:
    """Queue the cloud deletion of every event deleted through ``store``, if the hub is paired; return the outbox.

    For processes other than the hub (the owner's commands): the outbox file is shared, and the running hub's worker
    carries the deletions out.
    """
    if folder.pairing_stamp() is None:
        return None
    outbox = Outbox(folder.outbox_path)

    def queue_deletion(event_id: str) -> None:
        outbox.enqueue_event_deletion(event_id)

    store.deletion_listeners.append(queue_deletion)
    return outbox
