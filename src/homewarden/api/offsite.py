"""Off-site copies (owner only): their state, and pairing the hub with a Homewarden Cloud or unpairing it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from homewarden.api.deps import OWNER, HubHome, Services, allow
from homewarden.api.schemas import Done, Incoming
from homewarden.hub.services import HubServices
from homewarden.i18n import _, translate_stored
from homewarden.offsite.client import STORED_ERRORS, CloudError
from homewarden.offsite.identity import PairingError
from homewarden.offsite.sync import OffsiteReport, OffsiteSync

router = APIRouter(prefix="/api/offsite", tags=["offsite"])


class CloudUsagePublic(BaseModel):
    """What the cloud keeps for the home, as it said last time it was asked."""

    objects: int
    bytes: int
    quota_bytes: int | None
    retention_days: int | None
    last_upload_at: str | None


class OffsitePublic(BaseModel):
    """The off-site copies' state: pairing, what waits, how far behind, the last success and error, cloud usage."""

    paired: bool
    cloud_url: str | None
    hub_id: str | None
    home_id: str | None
    waiting: int = Field(description="Uploads and deletions still to reach the cloud.")
    failed: int = Field(description="Items the cloud refused for good (shown until the hub is paired again).")
    sent: int = Field(description="Objects the cloud holds, as far as this hub knows.")
    lag_seconds: float = Field(description="Age of the oldest waiting item; 0 when nothing waits.")
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    stuck: bool = Field(description="Items have waited past `offsite.stuck_after` with nothing succeeding.")
    usage: CloudUsagePublic | None
    review_problem: str | None = Field(
        default=None,
        description="What is wrong with the review program's link (a key change without a valid signature, a "
        "rewritten log): donations are paused while the key is in doubt.",
    )


class PairingRequest(Incoming):
    """Pair with a cloud: its address and a one-time code from its account page."""

    cloud_url: str = Field(min_length=1, max_length=512)
    code: str = Field(min_length=1, max_length=64)


def _sync(hub: HubServices) -> OffsiteSync:
    if hub.offsite is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("this hub sends no off-site copies"))
    return hub.offsite


def _moment(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def offsite_public(report: OffsiteReport) -> OffsitePublic:
    """Return the report as the API shows it."""
    usage = report.usage
    return OffsitePublic(
        paired=report.paired,
        cloud_url=report.cloud_url,
        hub_id=report.hub_id,
        home_id=report.home_id,
        waiting=report.waiting,
        failed=report.failed,
        sent=report.sent,
        lag_seconds=report.lag_seconds,
        last_success_at=_moment(report.last_success_at),
        last_error=None if report.last_error is None else translate_stored(report.last_error, STORED_ERRORS),
        last_error_at=_moment(report.last_error_at),
        stuck=report.stuck,
        review_problem=None
        if report.review_problem is None
        else translate_stored(report.review_problem, STORED_ERRORS),
        usage=None
        if usage is None
        else CloudUsagePublic(
            objects=usage.objects,
            bytes=usage.bytes,
            quota_bytes=usage.quota_bytes,
            retention_days=usage.retention_days,
            last_upload_at=usage.last_upload_at,
        ),
    )


@router.get("")
@allow(*OWNER)
def offsite_state(hub: Services, _home: HubHome) -> OffsitePublic:
    """Show the off-site copies' state."""
    return offsite_public(_sync(hub).report())


@router.post("/pairing")
@allow(*OWNER)
def pair(body: PairingRequest, hub: Services, _home: HubHome) -> OffsitePublic:
    """Pair the hub with a cloud (replacing an earlier pairing); everything it keeps starts going there, sealed."""
    sync = _sync(hub)
    try:
        sync.pair(body.cloud_url, body.code)
    except (CloudError, PairingError) as exc:
        # An unreachable cloud too: the address the owner typed is the likely cause, and the hub itself is fine.
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return offsite_public(sync.report())


@router.delete("/pairing")
@allow(*OWNER)
def unpair(hub: Services, _home: HubHome, force: bool = False) -> Done:
    """Unpair: withdrawals go first (409 when the cloud does not take them, unless ``force``), nothing more is sent."""
    try:
        not_told = _sync(hub).unpair(force=force)
    except PairingError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if not_told:
        return Done(
            detail=_("unpaired here; the cloud was not told ({problem}): revoke the hub in the cloud account").format(
                problem=not_told
            )
        )
    return Done(detail=_("unpaired"))
