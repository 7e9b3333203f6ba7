"""The cloud's own screen of a donated copy before it enters the queue (defence in depth behind the hub's).

The copy is opened with the program key in this process's memory, decoded with PyAV and checked with NudeNet
(``homewarden.privacy.screening``, the hub's own screen). A copy that cannot be opened or read is refused like one
NudeNet refuses: deleted at once, with a ``refused`` receipt for its home.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.config import ScreeningConfig
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.models import ReviewDonation
from homewarden.cloud.object_store import ObjectStore
from homewarden.cloud.review.audit import CLOUD_ACTOR, record
from homewarden.cloud.review.donations import QUEUED, REFUSED, SCREENING, erase_donation, read_copy
from homewarden.cloud.review.keys import ProgramKeys, UnknownProgramKeyError
from homewarden.privacy.screening import ScreeningError, ScreeningPolicy, ScreeningResult, screen_clip
from homewarden.store.crypto import SealedObjectError

log = logging.getLogger(__name__)


def screening_policy(config: ScreeningConfig) -> ScreeningPolicy:
    """Return the hub's screening policy with the cloud's classes, score and rate."""
    return ScreeningPolicy(
        classes=frozenset(config.refuse_classes),
        min_score=config.min_score,
        frames_per_second=config.frames_per_second,
    )


def screen_donation(
    database: CloudDatabase, store: ObjectStore, keys: ProgramKeys, policy: ScreeningPolicy, donation_id: str
) -> list[str]:
    """Screen one copy still in ``screening``: queue it, or refuse and delete it; return blob keys to delete now."""
    with database.session() as session:
        donation = session.get(ReviewDonation, donation_id)
        if donation is None or donation.state != SCREENING:
            return []
        blob = read_copy(store, donation)
        expected = donation.sha256
    if blob is None:
        # The upload has not finished writing (or the hub is sending it again): the sweep tries later.
        log.info("donation %s has no bytes yet; screened later", donation_id)
        return []
    result, reason = _screen(keys, policy, donation_id, blob, expected)
    with database.session() as session:
        donation = session.scalar(
            select(ReviewDonation).where(ReviewDonation.donation_id == donation_id).with_for_update()
        )
        if donation is None or donation.state != SCREENING:
            # Withdrawn or expired while it was being screened: that path already deleted it.
            return []
        passed = result is not None and result.passed
        found = [] if result is None else sorted({hit.label for hit in result.hits})
        details: dict[str, object] = {
            "passed": passed,
            "frames_checked": 0 if result is None else result.frames_checked,
            "found": found,
        }
        if reason:
            details["reason"] = reason
        record(
            session,
            home_id=donation.home_id,
            donation_id=donation_id,
            action="screened",
            actor=CLOUD_ACTOR,
            details=details,
        )
        now = utc_now()
        if passed:
            donation.state, donation.queued_at, donation.updated_at = QUEUED, now, now
            record(
                session,
                home_id=donation.home_id,
                donation_id=donation_id,
                action="queued",
                actor=CLOUD_ACTOR,
                details={},
            )
            return []
        doomed = erase_donation(session, donation, REFUSED, now)
        record(
            session,
            home_id=donation.home_id,
            donation_id=donation_id,
            action="refused",
            actor=CLOUD_ACTOR,
            details={"found": found, **({"reason": reason} if reason else {})},
        )
    log.info("donation %s refused by the cloud's screen: %s", donation_id, reason or ", ".join(found))
    return doomed


def _screen(
    keys: ProgramKeys, policy: ScreeningPolicy, donation_id: str, blob: bytes, expected: str | None
) -> tuple[ScreeningResult | None, str | None]:
    """Open and screen a copy in memory; return the result, or None and why it could not be screened."""
    if expected is not None and hashlib.sha256(blob).hexdigest() != expected:
        return None, "the stored copy does not match its SHA-256"
    try:
        plaintext = keys.open_copy(donation_id, blob)
    except (SealedObjectError, UnknownProgramKeyError) as error:
        return None, f"the copy cannot be opened with the program key: {error}"
    try:
        return screen_clip(plaintext, policy), None
    except ScreeningError as error:
        return None, f"the copy cannot be screened: {error}"
