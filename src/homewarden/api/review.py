"""The reviewer's workbench and the admin's view of the program: no route here reaches household footage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from homewarden.accounts import totp
from homewarden.accounts.names import program_account_name
from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import AccountError
from homewarden.api.deps import Caller, RowId, Services, allow
from homewarden.api.schemas import Done, Incoming
from homewarden.review.queue import Assignment, ReviewQueue

router = APIRouter(prefix="/api", tags=["review"])


def queue_of(hub: Services) -> ReviewQueue:
    """Return the reviewers' queue."""
    if hub.review is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the review program is not running on this hub")
    return hub.review


Queue = Annotated[ReviewQueue, Depends(queue_of)]


class AssignmentPublic(BaseModel):
    """A clip handed to the reviewer: nothing about the home, the camera or when it was recorded."""

    id: int
    clip: str
    label: str
    duration: float | None
    width: int | None
    height: int | None
    assigned_at: datetime


class ReviewStatus(BaseModel):
    """The reviewer's day."""

    quota: int
    used_today: int
    remaining: int
    assignment: AssignmentPublic | None


class MediaLink(BaseModel):
    """A single-use link to the assignment's watermarked clip."""

    url: str
    expires_at: datetime


class Box(BaseModel):
    """A box drawn on the clip: time in seconds, corners as fractions of the frame."""

    t: float = Field(ge=0, le=3600)
    x1: float = Field(ge=0, le=1)
    y1: float = Field(ge=0, le=1)
    x2: float = Field(ge=0, le=1)
    y2: float = Field(ge=0, le=1)
    label: str = Field(min_length=1, max_length=64)


class LabelsIn(Incoming):
    """The reviewer's verdict on a clip."""

    verdict: Literal["real_event", "false_alarm"]
    cause: Literal["pet", "shadow_or_light", "insect", "weather", "vehicle", "other"] | None = None
    label: str = Field(min_length=1, max_length=64)
    boxes: list[Box] = Field(default_factory=list, max_length=200)


class FlagIn(Incoming):
    """Why the clip should not be here."""

    reason: str = Field(default="inappropriate content", max_length=500)


class ReviewerCreate(Incoming):
    """A new reviewer account (its name goes under ``review.``, the review program's own name space)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)


class ReviewerPublic(BaseModel):
    """A reviewer as the admin sees them."""

    id: int
    username: str
    pseudonym: str | None
    labelled_today: int
    labelled_total: int


class ReviewerCreated(ReviewerPublic):
    """A new reviewer, with the two-factor secret to hand over (shown once)."""

    totp_secret: str
    otpauth_uri: str
    qr_svg: str


class QueuePublic(BaseModel):
    """The queue in numbers."""

    queued: int
    assigned: int
    labelled: int
    flagged: int
    refused: int
    withdrawn: int


def _assignment_public(assignment: Assignment) -> AssignmentPublic:
    return AssignmentPublic(
        id=assignment.id,
        clip=assignment.clip,
        label=assignment.label,
        duration=assignment.duration,
        width=assignment.width,
        height=assignment.height,
        assigned_at=assignment.assigned_at,
    )


@router.get("/review/status")
@allow("reviewer")
def review_status(caller: Caller, queue: Queue) -> ReviewStatus:
    """Show the reviewer's quota and open assignment."""
    used = queue.used_today(caller.id)
    current = queue.open_assignment(caller.id)
    return ReviewStatus(
        quota=queue.daily_quota,
        used_today=used,
        remaining=max(0, queue.daily_quota - used),
        assignment=_assignment_public(current) if current else None,
    )


@router.post("/review/next")
@allow("reviewer")
def next_clip(caller: Caller, queue: Queue) -> AssignmentPublic:
    """Hand the reviewer their open assignment, or the next clip in the queue."""
    return _assignment_public(queue.next(caller.actor, caller.id))


@router.post("/review/assignments/{assignment_id}/media")
@allow("reviewer")
def media_link(assignment_id: RowId, caller: Caller, queue: Queue) -> MediaLink:
    """Make a single-use, one-minute link to the assignment's watermarked clip."""
    token, expires = queue.media_link(caller.actor, caller.id, assignment_id)
    return MediaLink(url=f"/api/review/media/{token}", expires_at=datetime.fromtimestamp(expires, tz=UTC))


@router.get("/review/media/{token}", response_class=Response, responses={200: {"content": {"video/mp4": {}}}})
@allow("reviewer", media=True)
def review_media(token: Annotated[str, Field(max_length=64)], caller: Caller, queue: Queue) -> Response:
    """Deliver the watermarked clip once (the page plays it from memory; there is no download)."""
    clip = queue.redeem(caller.actor, caller.id, token)
    return Response(
        clip,
        media_type="video/mp4",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )


@router.post("/review/assignments/{assignment_id}/labels")
@allow("reviewer")
def submit_labels(assignment_id: RowId, body: LabelsIn, caller: Caller, queue: Queue) -> Done:
    """Store the reviewer's labels and close the assignment."""
    queue.label(
        caller.actor,
        caller.id,
        assignment_id,
        body.verdict,
        body.cause,
        body.label,
        [box.model_dump() for box in body.boxes],
    )
    return Done(detail="labels saved")


@router.post("/review/assignments/{assignment_id}/flag")
@allow("reviewer")
def flag_clip(assignment_id: RowId, body: FlagIn, caller: Caller, queue: Queue) -> Done:
    """Destroy the clip as inappropriate content; the owner is told and it leaves every queue."""
    queue.flag(caller.actor, caller.id, assignment_id, body.reason)
    return Done(detail="the clip was destroyed and its owner told")


@router.get("/admin/reviewers")
@allow("admin")
def list_reviewers(hub: Services, queue: Queue) -> list[ReviewerPublic]:
    """List the reviewers and how much they labelled."""
    reviewers = []
    for user in hub.accounts.users_with_role("reviewer"):
        today, total = queue.labelled_counts(user.id)
        reviewers.append(
            ReviewerPublic(
                id=user.id, username=user.username, pseudonym=user.pseudonym, labelled_today=today, labelled_total=total
            )
        )
    return reviewers


@router.post("/admin/reviewers", status_code=status.HTTP_201_CREATED)
@allow("admin")
def add_reviewer(body: ReviewerCreate, hub: Services) -> ReviewerCreated:
    """Create a reviewer named ``review.<name>`` with two-factor sign-in from the start (the secret is shown once).

    No household name starts with ``review.``, so whether a name is free says nothing about who lives in a home.
    """
    try:
        user = hub.accounts.create_user(program_account_name(body.username), body.password, "reviewer", None)
    except (AccountError, WeakPasswordError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    secret = totp.new_secret()
    try:
        hub.accounts.set_totp_secret(user.id, secret)
    except AccountError as exc:
        hub.accounts.delete_user(user.id)  # never a reviewer without two-factor sign-in
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    uri = totp.provisioning_uri(secret, user.username)
    return ReviewerCreated(
        id=user.id,
        username=user.username,
        pseudonym=user.pseudonym,
        labelled_today=0,
        labelled_total=0,
        totp_secret=secret,
        otpauth_uri=uri,
        qr_svg=totp.qr_svg(uri),
    )


@router.delete("/admin/reviewers/{user_id}")
@allow("admin")
def remove_reviewer(user_id: RowId, hub: Services) -> Done:
    """Delete a reviewer's account (their open assignment goes back to the queue)."""
    user = hub.accounts.user(user_id)
    if user is None or user.role != "reviewer":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reviewer {user_id}")
    hub.accounts.delete_user(user_id)
    return Done(detail="reviewer removed")


@router.get("/admin/queue")
@allow("admin")
def queue_stats(queue: Queue) -> QueuePublic:
    """Count the queue (no clip is reachable from here)."""
    stats = queue.stats()
    return QueuePublic(**vars(stats))
