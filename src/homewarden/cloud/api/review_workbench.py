"""Routes of the review program's staff: two-factor sign-in, the reviewers' workbench, the admins' counts.

No route here lists or browses clips; the only bytes of a clip leave through a single-use media link, to the reviewer
it was made for. The admins' routes reach counts and accounts, never media.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from homewarden.cloud.api.deps import (
    CurrentReviewAdmin,
    CurrentReviewer,
    CurrentStaff,
    Services,
    bearer_token,
    for_review_admin,
    for_reviewer,
    for_staff,
    public,
)
from homewarden.cloud.review.labels import MAX_BOXES, MAX_CLIP_SECONDS, Labels
from homewarden.cloud.review.reviewers import StaffView
from homewarden.cloud.review.workbench import AssignmentView

router = APIRouter(prefix="/api/v1", tags=["review workbench"])

AssignmentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MediaToken = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
MEDIA_HEADERS = {
    # Played from memory by the page; nothing kept by the browser or a proxy, nothing offered for download.
    "Cache-Control": "private, no-store, max-age=0",
    "Content-Disposition": "inline",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Incoming(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class StaffSignIn(Incoming):
    """A reviewer's or admin's sign-in: password and the current code of their authenticator."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    code: str = Field(min_length=6, max_length=8)


class StaffSession(BaseModel):
    """A staff session token and its role."""

    token: str
    role: str


class StaffWhoAmI(BaseModel):
    """Who a staff session signs in: the role and the pseudonym receipts name them by."""

    role: str
    pseudonym: str


class AssignmentPublic(BaseModel):
    """A clip handed to the reviewer: nothing of the home, the camera or when it was recorded."""

    id: int
    label: str
    duration_s: float | None
    width: int | None
    height: int | None
    assigned_at: datetime


class ReviewerDayPublic(BaseModel):
    """The reviewer's day."""

    pseudonym: str
    quota: int
    used_today: int
    remaining: int
    assignment: AssignmentPublic | None


class MediaLinkPublic(BaseModel):
    """A single-use link to the assignment's watermarked clip."""

    url: str
    expires_at: datetime


# The verifier's classes (homewarden.cloud.review.labels.CLASSES, which a test keeps equal to this).
ReviewClass = Literal["person", "cat", "dog", "animal", "vehicle", "nothing"]


class Box(Incoming):
    """A box drawn on a paused frame: its class, the clip's time in seconds, corners as fractions of the frame."""

    t: float = Field(ge=0, le=MAX_CLIP_SECONDS)
    x1: float = Field(ge=0, le=1)
    y1: float = Field(ge=0, le=1)
    x2: float = Field(ge=0, le=1)
    y2: float = Field(ge=0, le=1)
    label: ReviewClass


class LabelsIn(Incoming):
    """The reviewer's verdict on a clip, its class and the boxes drawn on it (checked again by the workbench)."""

    verdict: Literal["real_event", "false_alarm"]
    cause: Literal["pet", "shadow_or_light", "insect", "weather", "vehicle", "other"] | None = None
    label: ReviewClass
    boxes: list[Box] = Field(default_factory=list, max_length=MAX_BOXES)


class FlagIn(Incoming):
    """Why the clip should not be here."""

    reason: str = Field(default="inappropriate content", max_length=500)


class Done(BaseModel):
    """What was done, in plain words."""

    detail: str


class ReviewerCreate(Incoming):
    """A new reviewer account, made by an admin."""

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class StaffPublic(BaseModel):
    """A reviewer or admin as an admin sees them."""

    username: str
    role: str
    pseudonym: str
    created_at: datetime
    disabled: bool


class StaffCreated(StaffPublic):
    """A new account, with the two-factor secret to hand over (shown once)."""

    totp_secret: str
    otpauth_uri: str


class QueuePublic(BaseModel):
    """The queue in numbers: per state, per opaque home id, and each reviewer's quota use today."""

    states: dict[str, int]
    homes: dict[str, dict[str, int]]
    reviewers: list[dict[str, Any]]


@router.post("/staff/session")
@public
def staff_sign_in(body: StaffSignIn, request: Request, services: Services) -> StaffSession:
    """Sign a reviewer or admin in with password and code; later calls send ``Authorization: Bearer``."""
    address = request.client.host if request.client else "unknown"
    token = services.staff.sign_in(body.username, body.password, body.code, address)
    return StaffSession(token=token, role=services.staff.staff_for_token(token).role)


@router.get("/staff/session")
@for_staff
def staff_who_am_i(staff: CurrentStaff) -> StaffWhoAmI:
    """Show who this session signs in (no more than the session check: the benchmark's baseline request)."""
    return StaffWhoAmI(role=staff.role, pseudonym=staff.pseudonym)


@router.delete("/staff/session", status_code=status.HTTP_204_NO_CONTENT)
@for_staff
def staff_sign_out(_staff: CurrentStaff, services: Services, token: Annotated[str, Depends(bearer_token)]) -> Response:
    """End this session."""
    services.staff.sign_out(token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/workbench")
@for_reviewer
def reviewer_day(reviewer: CurrentReviewer, services: Services) -> ReviewerDayPublic:
    """Show the reviewer's quota and open assignment."""
    day = services.workbench.day_of(reviewer)
    return ReviewerDayPublic(
        pseudonym=reviewer.pseudonym,
        quota=day.quota,
        used_today=day.used_today,
        remaining=max(0, day.quota - day.used_today),
        assignment=None if day.assignment is None else assignment_public(day.assignment),
    )


@router.post("/workbench/next")
@for_reviewer
def next_clip(reviewer: CurrentReviewer, services: Services) -> AssignmentPublic:
    """Hand the reviewer their open assignment, or the next clip (the home served least recently first)."""
    return assignment_public(services.workbench.next(reviewer))


@router.post("/workbench/assignments/{assignment_id}/media")
@for_reviewer
async def media_link(assignment_id: AssignmentId, reviewer: CurrentReviewer, services: Services) -> MediaLinkPublic:
    """Have the clip watermarked for this reviewer; return a single-use, short-lived link to it.

    A coroutine: the wait for the worker (seconds) holds none of the threads every other request runs on.
    """
    link = await services.workbench.wait_for_media(reviewer, assignment_id)
    return MediaLinkPublic(url=f"/api/v1/workbench/media/{link.token}", expires_at=link.expires_at)


@router.get("/workbench/media/{token}", response_class=Response, responses={200: {"content": {"video/mp4": {}}}})
@for_reviewer
def media(token: MediaToken, reviewer: CurrentReviewer, services: Services) -> Response:
    """Deliver the watermarked clip once (the page plays it from memory; a second use is 410)."""
    return Response(services.workbench.redeem(reviewer, token), media_type="video/mp4", headers=MEDIA_HEADERS)


@router.post("/workbench/assignments/{assignment_id}/labels")
@for_reviewer
def submit_labels(assignment_id: AssignmentId, body: LabelsIn, reviewer: CurrentReviewer, services: Services) -> Done:
    """Store the reviewer's labels and close the assignment."""
    labels = Labels(
        verdict=body.verdict,
        cause=body.cause,
        label=body.label,
        boxes=[box.model_dump() for box in body.boxes],
    )
    services.workbench.label(reviewer, assignment_id, labels)
    return Done(detail="labels saved")


@router.post("/workbench/assignments/{assignment_id}/flag")
@for_reviewer
def flag_clip(assignment_id: AssignmentId, body: FlagIn, reviewer: CurrentReviewer, services: Services) -> Done:
    """Remove the clip as inappropriate content: deleted at once, out of the queue, its home told by a receipt."""
    services.workbench.flag(reviewer, assignment_id, body.reason)
    return Done(detail="the clip was deleted and its home will be told")


@router.get("/review-admin/queue")
@for_review_admin
def queue_stats(_admin: CurrentReviewAdmin, services: Services) -> QueuePublic:
    """Count the queue (no clip is reachable from here)."""
    stats = services.workbench.stats()
    return QueuePublic(states=stats.states, homes=stats.homes, reviewers=stats.reviewers)


@router.get("/review-admin/reviewers")
@for_review_admin
def list_reviewers(_admin: CurrentReviewAdmin, services: Services) -> list[StaffPublic]:
    """List the reviewers."""
    return [staff_public(staff) for staff in services.staff.list("reviewer")]


@router.post("/review-admin/reviewers", status_code=status.HTTP_201_CREATED)
@for_review_admin
def add_reviewer(body: ReviewerCreate, _admin: CurrentReviewAdmin, services: Services) -> StaffCreated:
    """Make a reviewer with two-factor sign-in from the start (the secret is shown once)."""
    made = services.staff.create(body.username, body.password, "reviewer")
    return StaffCreated(
        **staff_public(made.staff).model_dump(), totp_secret=made.totp_secret, otpauth_uri=made.otpauth_uri
    )


@router.post("/review-admin/reviewers/{username}/disable")
@for_review_admin
def disable_reviewer(
    username: Annotated[str, Path(min_length=3, max_length=64)], _admin: CurrentReviewAdmin, services: Services
) -> StaffPublic:
    """Disable a reviewer at once: signed out, their open clip back in the queue."""
    return staff_public(services.staff.disable(username, role="reviewer"))


def assignment_public(assignment: AssignmentView) -> AssignmentPublic:
    """Return an assignment as the API shows it."""
    return AssignmentPublic(
        id=assignment.id,
        label=assignment.label,
        duration_s=assignment.duration_s,
        width=assignment.width,
        height=assignment.height,
        assigned_at=assignment.assigned_at,
    )


def staff_public(staff: StaffView) -> StaffPublic:
    """Return an account as an admin sees it."""
    return StaffPublic(
        username=staff.username,
        role=staff.role,
        pseudonym=staff.pseudonym,
        created_at=staff.created_at,
        disabled=staff.disabled_at is not None,
    )
