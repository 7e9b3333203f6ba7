"""The owner's side of the review program: donating a clip, withdrawing it, standing rules, and who saw what."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from homewarden.api.corrections import learn_verdict
from homewarden.api.deps import HOUSEHOLD, OWNER, AccessibleEvent, Caller, RowId, Services, allow
from homewarden.api.media import serve_object, starts_playback
from homewarden.api.schemas import Done, Incoming
from homewarden.errors import Refusal
from homewarden.events.wording import name_of
from homewarden.hub.services import HubServices
from homewarden.i18n import _, translate_stored
from homewarden.offsite.review import RECEIPT_DETAILS
from homewarden.privacy.audit import AuditRecord, FoldedViews
from homewarden.privacy.donations import REASONS, WITHDRAWAL_UNCONFIRMED, DonationError, DonationRecord, Donations

router = APIRouter(prefix="/api", tags=["privacy"])


class DonationRequest(Incoming):
    """A donation: whether to mask whole people, beyond blurring every face."""

    mask_people: bool = False


class DonationPublic(BaseModel):
    """A donation as its owner sees it."""

    id: str
    event_id: str
    camera: str
    camera_name: str = ""
    label: str
    status: str
    mask_people: bool
    created_at: datetime
    donated_at: datetime | None
    expires_at: datetime | None
    retention_days: int
    reason: str | None
    reviewer_views: int
    from_rule: bool
    cloud_state: str | None
    sent_at: datetime | None
    withdrawal_confirmed_at: datetime | None
    # What the privacy page says of a withdrawal: confirmed by the cloud (and when), or still waiting for it.
    withdrawal: str | None


class WithdrawalPublic(BaseModel):
    """What withdrawing did."""

    detail: str
    copy_shredded: bool
    sent_to_cloud: bool


class RuleRequest(Incoming):
    """A standing donation rule."""

    camera: str | None = Field(default=None, max_length=128)
    trigger: Literal["false_alarm", "label"]
    label: str | None = Field(default=None, max_length=64)
    mask_people: bool = False


class RulePublic(BaseModel):
    """A standing donation rule."""

    id: int
    camera: str | None
    trigger: str
    label: str | None
    mask_people: bool
    created_at: datetime


class AccessEntry(BaseModel):
    """One access to the home's footage or donated copies."""

    at: datetime
    actor_role: str
    actor: str
    action: str
    object: str
    outcome: str
    detail: str


class ViewCountPublic(BaseModel):
    """How often one person of the household made one kind of view, and when last."""

    actor_role: str
    actor: str
    action: str
    count: int
    last_at: datetime


class AccessSummary(BaseModel):
    """The access log with other people's access first and the household's own views counted, not listed."""

    others: list[AccessEntry]
    household_views: list[ViewCountPublic]


class NoticePublic(BaseModel):
    """Something the owner was told."""

    at: datetime
    kind: str
    text: str
    donation_id: str | None


def donations_of(hub: Services) -> Donations:
    """Return the donations service."""
    if hub.donations is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, _("the review program is not running on this hub"))
    return hub.donations


DonationsDep = Annotated[Donations, Depends(donations_of)]


def _home(caller: Caller) -> int:
    assert caller.home_id is not None  # authorize admits household roles only with a home
    return caller.home_id


def reviewer_views(hub: HubServices, home_id: int) -> dict[str, int]:
    """Return how often reviewers watched each of a home's donated copies (the cloud's receipts), by object name."""
    return {} if hub.audit is None else hub.audit.count_by_object(home_id, "review.view", "donation:")


def withdrawal_text(record: DonationRecord) -> str | None:
    """Say where a withdrawal stands: the owner is told it is done only once the cloud acknowledged it."""
    if record.status not in ("withdrawn", "expired", "flagged"):
        return None
    if record.withdrawal_confirmed_at is None and record.cloud_state == WITHDRAWAL_UNCONFIRMED:
        return "withdrawal not confirmed by the cloud: the hub was unpaired before the cloud answered"
    if record.withdrawal_confirmed_at is None:
        return "withdrawal waiting for the cloud"
    if record.sent_at is None and record.cloud_state is None:
        return "withdrawn — the copy never left this hub"
    return f"{record.status} — confirmed by Homewarden Cloud at {record.withdrawal_confirmed_at.isoformat()}"


def _public(record: DonationRecord, views: dict[str, int], camera_names: dict[str, str]) -> DonationPublic:
    return DonationPublic(
        id=record.id,
        event_id=record.event_id,
        camera=record.camera,
        camera_name=name_of(record.camera, camera_names),
        label=record.label,
        status=record.status,
        mask_people=record.mask_people,
        created_at=record.created_at,
        donated_at=record.donated_at,
        expires_at=record.expires_at,
        retention_days=record.retention_days,
        reason=None if record.reason is None else translate_stored(record.reason, REASONS),
        reviewer_views=views.get(f"donation:{record.id}", 0),
        from_rule=record.rule_id is not None,
        cloud_state=record.cloud_state,
        sent_at=record.sent_at,
        withdrawal_confirmed_at=record.withdrawal_confirmed_at,
        withdrawal=withdrawal_text(record),
    )


@router.post("/events/{event_id}/donation", status_code=status.HTTP_202_ACCEPTED)
@allow(*OWNER)
def donate_event(
    record: AccessibleEvent, body: DonationRequest, caller: Caller, hub: Services, donations: DonationsDep
) -> DonationPublic:
    """Make the redacted, screened copy of an event's clip for the owner to watch before confirming."""
    donation = donations.start(_home(caller), record, body.mask_people, caller.actor)
    return _public(donation, reviewer_views(hub, _home(caller)), hub.camera_names)


@router.post("/events/{event_id}/false-alarm")
@allow(*HOUSEHOLD)
def mark_false_alarm(record: AccessibleEvent, caller: Caller, hub: Services, donations: DonationsDep) -> Done:
    """Mark an event as a false alarm (the household's feedback); standing rules may donate it."""
    hub.events.set_attribute(record.id, "household_verdict", "false_alarm")
    learned = learn_verdict(hub, record, person=False)
    started = donations.apply_rules(_home(caller), record, "false_alarm")
    rule = _("; a standing rule is donating it") if started else ""
    return Done(detail=_("marked as a false alarm") + learned + rule)


@router.get("/donations")
@allow(*OWNER)
def list_donations(caller: Caller, hub: Services, donations: DonationsDep) -> list[DonationPublic]:
    """List the home's donations, newest first."""
    views = reviewer_views(hub, _home(caller))
    return [_public(record, views, hub.camera_names) for record in donations.of_home(_home(caller))]


@router.get("/donations/{donation_id}")
@allow(*OWNER)
def get_donation(donation_id: str, caller: Caller, hub: Services, donations: DonationsDep) -> DonationPublic:
    """Show one donation."""
    return _public(donations.get(_home(caller), donation_id), reviewer_views(hub, _home(caller)), hub.camera_names)


@router.get(
    "/donations/{donation_id}/preview.mp4", response_class=Response, responses={200: {"content": {"video/mp4": {}}}}
)
@allow(*OWNER, media=True)
def preview_donation(
    donation_id: str, caller: Caller, hub: Services, donations: DonationsDep, request: Request
) -> Response:
    """Serve the redacted copy before it is donated: exactly what a reviewer would see (without their watermark)."""
    record = donations.get(_home(caller), donation_id)
    if record.status != "ready":
        raise DonationError(
            _("there is no copy to watch (the donation is {status})").format(status=record.status), Refusal.NOT_FOUND
        )
    reader = donations.open_copy(record)
    if starts_playback(request) and hub.audit is not None:
        hub.audit.record(caller.actor, "donation_preview", f"donation:{donation_id}", home_id=record.home_id)
    return serve_object(request, reader, "video/mp4")


@router.post("/donations/{donation_id}/confirm")
@allow(*OWNER)
def confirm_donation(donation_id: str, caller: Caller, hub: Services, donations: DonationsDep) -> DonationPublic:
    """Donate the prepared copy."""
    record = donations.confirm(_home(caller), donation_id, caller.actor)
    return _public(record, reviewer_views(hub, _home(caller)), hub.camera_names)


@router.delete("/donations/{donation_id}")
@allow(*OWNER)
def withdraw_donation(donation_id: str, caller: Caller, donations: DonationsDep) -> WithdrawalPublic:
    """Withdraw consent: Homewarden Cloud deletes the donated copy and every label made from it."""
    done = donations.withdraw(_home(caller), donation_id, caller.actor)
    if done.sent_to_cloud:
        detail = _("withdrawal waiting for the cloud: it deletes the copy and its labels, and confirms")
    elif done.copy_shredded:
        detail = _("withdrawn: the copy was destroyed on this hub; it never left")
    else:
        detail = _("withdrawn: no copy was stored")
    return WithdrawalPublic(detail=detail, copy_shredded=done.copy_shredded, sent_to_cloud=done.sent_to_cloud)


@router.get("/privacy/rules")
@allow(*OWNER)
def list_rules(caller: Caller, donations: DonationsDep) -> list[RulePublic]:
    """List the owner's standing donation rules (none unless the owner made them)."""
    return [RulePublic(**vars(rule)) for rule in donations.rules(_home(caller))]


@router.post("/privacy/rules", status_code=status.HTTP_201_CREATED)
@allow(*OWNER)
def add_rule(body: RuleRequest, caller: Caller, donations: DonationsDep) -> RulePublic:
    """Create a standing rule, such as "donate every false alarm from the driveway camera"."""
    if body.camera is not None and body.camera not in caller.cameras:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, _("no camera {name!r} in this home").format(name=body.camera)
        )
    rule = donations.add_rule(_home(caller), body.camera, body.trigger, body.label, body.mask_people, caller.actor)
    return RulePublic(**vars(rule))


@router.delete("/privacy/rules/{rule_id}")
@allow(*OWNER)
def delete_rule(rule_id: RowId, caller: Caller, donations: DonationsDep) -> Done:
    """Delete a standing rule."""
    if not donations.delete_rule(_home(caller), rule_id, caller.actor):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no rule {rule_id}").format(rule_id=rule_id))
    return Done(detail=_("rule deleted"))


@router.get("/privacy/access-log")
@allow(*OWNER)
def access_log(caller: Caller, hub: Services, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[AccessEntry]:
    """List every access to the home's footage and donated copies, newest first."""
    if hub.audit is None:
        return []
    return [access_entry(entry) for entry in hub.audit.entries(home_id=_home(caller), limit=limit)]


def access_entry(entry: AuditRecord) -> AccessEntry:
    """Show one entry of the audit log to the owner."""
    return AccessEntry(
        at=entry.at,
        actor_role=entry.actor_role,
        actor=entry.actor,
        action=entry.action,
        object=entry.object,
        outcome=entry.outcome,
        # The cloud's receipts are stored in English: shown in the reader's language.
        detail=translate_stored(entry.detail, RECEIPT_DETAILS) if entry.detail else entry.detail,
    )


# The household looking at its own footage: counted on the privacy page, so other people's access is not buried.
HOUSEHOLD_VIEWS = FoldedViews(
    roles=frozenset({"owner", "member"}), actions=frozenset({"view_clip", "view_snapshot", "view_live"})
)


@router.get("/privacy/access-summary")
@allow(*OWNER)
def access_summary(caller: Caller, hub: Services, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> AccessSummary:
    """Show other people's access (reviewers, share links, downloads, refusals) first; count the household's views."""
    if hub.audit is None:
        return AccessSummary(others=[], household_views=[])
    home = _home(caller)
    return AccessSummary(
        others=[access_entry(entry) for entry in hub.audit.entries(home_id=home, limit=limit, folded=HOUSEHOLD_VIEWS)],
        household_views=[ViewCountPublic(**vars(count)) for count in hub.audit.count_views(home, HOUSEHOLD_VIEWS)],
    )


@router.get("/privacy/notices")
@allow(*OWNER)
def notices(caller: Caller, donations: DonationsDep) -> list[NoticePublic]:
    """List what the owner was told about their donations."""
    return [NoticePublic(**vars(notice)) for notice in donations.notices(_home(caller))]
