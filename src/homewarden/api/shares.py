"""Share links: the owner lets someone outside the household watch one clip until the link expires or is revoked.

A link is an unguessable token (32 random bytes) kept only as its digest. It serves that one clip's bytes and
nothing else: no page, no event details, no other clip. Making, revoking and each playback are in the audit log.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response

from homewarden.api.deps import OWNER, AccessibleEvent, Caller, RowId, Services, allow, public
from homewarden.api.events import audit_view, clip_of
from homewarden.api.media import open_sealed, serve_object, starts_playback
from homewarden.api.schemas import Done, ShareCreate, ShareCreated, SharePublic
from homewarden.i18n import N_, _
from homewarden.privacy.audit import Actor
from homewarden.store.viewing import ClipShares, ShareRecord

router = APIRouter(tags=["shares"])

# What a refused link is told, whatever the reason (unknown, expired, revoked, deleted): a guesser learns nothing.
NOT_SHARED = N_("this link does not work: it has expired or been revoked")
# Tokens are 43 characters of base64url; anything else is not worth a database lookup (and answers the same 404).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def share_public(record: ShareRecord) -> SharePublic:
    """Show a share link to its owner."""
    return SharePublic(
        id=record.id,
        event_id=record.event_id,
        clip=record.clip_index,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        active=record.usable(datetime.now(UTC)),
    )


@router.post("/api/events/{event_id}/shares", status_code=status.HTTP_201_CREATED)
@allow(*OWNER)
def create_share(record: AccessibleEvent, body: ShareCreate, hub: Services, caller: Caller) -> ShareCreated:
    """Make an expiring link to one clip of the event (its address is shown this once)."""
    clip_of(record, body.clip)
    share, token = ClipShares(hub.events.engine).create(record.id, body.clip, caller.id, timedelta(hours=body.hours))
    audit_view(hub, caller, "share_created", record, None, f"share {share.id}, clip {body.clip}, {body.hours} h")
    return ShareCreated(**share_public(share).model_dump(), url=f"/shared/{token}")


@router.get("/api/events/{event_id}/shares")
@allow(*OWNER)
def list_shares(record: AccessibleEvent, hub: Services) -> list[SharePublic]:
    """List the event's share links, newest first, revoked and expired ones too."""
    return [share_public(share) for share in ClipShares(hub.events.engine).of_event(record.id)]


@router.delete("/api/events/{event_id}/shares/{share_id}")
@allow(*OWNER)
def revoke_share(record: AccessibleEvent, share_id: RowId, hub: Services, caller: Caller) -> Done:
    """Stop a share link at once."""
    share = ClipShares(hub.events.engine).revoke(record.id, share_id)
    if share is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, _("this event has no share link {share_id}").format(share_id=share_id)
        )
    audit_view(hub, caller, "share_revoked", record, None, f"share {share.id}")
    return Done(detail=_("the link no longer works"))


@router.get("/shared/{token}", response_class=Response, responses={200: {"content": {"video/mp4": {}}}})
@public
def shared_clip(token: str, hub: Services, request: Request) -> Response:
    """Serve the one clip a share link points at, while it has not expired or been revoked."""
    share = ClipShares(hub.events.engine).usable(token) if TOKEN_SHAPE.fullmatch(token) else None
    record = hub.events.get_event(share.event_id) if share is not None else None
    if share is None or record is None or not 0 <= share.clip_index < len(record.clips):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _(NOT_SHARED))
    if hub.keys.keyring is None:
        raise HTTPException(
            status.HTTP_423_LOCKED, _("this clip cannot be played now: the home's recordings are locked")
        )
    reader = open_sealed(hub, record.clips[share.clip_index].path)
    if hub.audit is not None and starts_playback(request):
        hub.audit.record(
            Actor("link", f"share link {share.id}"),
            "view_shared_clip",
            f"event:{record.id}",
            home_id=hub.accounts.home_of_camera(record.camera),
            detail=f"clip {share.clip_index}",
        )
    answer = serve_object(request, reader, "video/mp4")
    # A link pasted somewhere public is still not for search engines.
    answer.headers["X-Robots-Tag"] = "noindex, nofollow"
    return answer
