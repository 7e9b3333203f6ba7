"""Pairing a hub with a cloud (a new device key and a one-time code), and unpairing it."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homewarden.config.model import OffsiteConfig
from homewarden.i18n import _
from homewarden.offsite.client import CloudClient, CloudError, NotPairedError, pair_with_cloud
from homewarden.offsite.identity import OffsiteFolder, Pairing, PairingError, check_cloud_url
from homewarden.offsite.outbox import Outbox
from homewarden.review.program_key import PinnedKeys, ProgramKey, ProgramKeyError
from homewarden.store.database import EventStore

log = logging.getLogger(__name__)


def hub_name(config: OffsiteConfig) -> str:
    """Return the name the hub gives itself in the cloud account."""
    return (config.hub_name or socket.gethostname() or "Homewarden hub")[:64]


def pair_hub(
    folder: OffsiteFolder, cloud_url: str, code: str, name: str, clock: Callable[[], float] = time.time
) -> Pairing:
    """Make a new device key, pair it with the cloud using the one-time code, and keep the pairing."""
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
    outbox = Outbox(folder.outbox_path)
    try:
        if outbox.state("home_id") != pairing.home_id:
            # Another home's cloud holds none of what the ledger says was sent.
            outbox.forget_everything()
        outbox.retry_failed()
        outbox.set_state("home_id", pairing.home_id)
    finally:
        outbox.close()
    folder.save_device_key(device_key)
    if program is not None:
        folder.save_program_keys(program)
    else:
        folder.forget_program_keys()
        log.warning("the cloud at %s gave no review program key: donations stay off", pairing.cloud_url)
    folder.save_pairing(pairing)
    log.info("paired with %s as hub %s of home %s", pairing.cloud_url, pairing.hub_id, pairing.home_id)
    return pairing


def unpair_hub(folder: OffsiteFolder) -> str | None:
    """Tell the cloud to forget this hub (best effort), then forget the pairing; return why the cloud was not told."""
    pairing = folder.pairing()
    if pairing is None:
        raise PairingError(_("this hub is not paired with a cloud"))
    not_told: str | None = None
    client = CloudClient(pairing, folder.device_key())
    try:
        client.unpair()
    except NotPairedError:
        pass  # revoked already (from the account, or by a newer hub)
    except CloudError as exc:
        not_told = str(exc)
    finally:
        client.close()
    folder.forget_pairing()
    outbox = Outbox(folder.outbox_path)
    try:
        outbox.forget_everything()
    finally:
        outbox.close()
    log.info("unpaired from %s", pairing.cloud_url)
    return not_told


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
