"""The household's settings: faces, arming, storage, members, and the home key's lock."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status

from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import AccountError
from homewarden.api.auth import user_public
from homewarden.api.deps import HOUSEHOLD, OWNER, Caller, HubHome, RowId, Services, allow
from homewarden.api.schemas import (
    ArmingPublic,
    DeletionPublic,
    Done,
    HomePublic,
    MemberCreate,
    MemberInvite,
    MemberInvited,
    MemberPublic,
    MemberUpdate,
    ModeChange,
    Passphrase,
    PasswordLinkCreated,
    ScheduleChange,
    ScheduleEntryOut,
    StoragePublic,
    TimezoneChange,
    UserPublic,
)
from homewarden.config.model import ScheduleEntry
from homewarden.errors import UserError
from homewarden.events.record import EventRecord
from homewarden.events.wording import event_sentence, name_of
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import PhotoTooLargeError, check_member_name, check_photo_header, enrolment_face
from homewarden.faces.library import open_household
from homewarden.hub.services import HubServices
from homewarden.i18n import _, counted
from homewarden.store.keys import HomeKeyError
from homewarden.store.retention import cap_bytes

router = APIRouter(prefix="/api", tags=["household"])
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def deletion_title(record: EventRecord, camera_names: dict[str, str]) -> str:
    """Name an event retention will delete in plain words."""
    return event_sentence(record.label, record.sub_label, name_of(record.camera, camera_names))


# faces


@router.get("/faces")
@allow(*OWNER)
def list_faces(hub: Services, _home: HubHome) -> list[MemberPublic]:
    """List the members the hub recognises."""
    try:
        with open_household(hub.config, hub.config_path) as library:
            members = library.members()
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return [MemberPublic(name=m.name, photos=list(m.photos), enrolled_at=m.enrolled_at) for m in members]


@router.post("/faces", status_code=status.HTTP_201_CREATED)
@allow(*OWNER)
def enroll_face(
    hub: Services,
    _home: HubHome,
    name: Annotated[str, Form(max_length=64)],
    photos: Annotated[list[UploadFile], File(description="photos with exactly one face each")],
) -> Done:
    """Enrol a member (or more photos of one) from uploaded photos: every photo or none; photos are not kept.

    The whole upload is bounded before it is read (server.max_upload_bytes, api/body_limits.py); here each photo is
    bounded in bytes, and every photo's declared size is checked before any of them is decoded.
    """
    limits = hub.config.server
    if not 1 <= len(photos) <= limits.max_photos:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, _("send 1 to {count} photos").format(count=limits.max_photos)
        )
    try:
        member = check_member_name(name)
        with tempfile.TemporaryDirectory(prefix="homewarden-enrol-") as folder:
            paths = []
            for index, upload in enumerate(photos):
                shown = _SAFE_NAME.sub("_", Path(upload.filename or f"photo-{index}").name)[:100] or f"photo-{index}"
                data = upload.file.read(limits.max_photo_bytes + 1)
                if len(data) > limits.max_photo_bytes:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        _("{photo}: larger than {limit} bytes").format(photo=shown, limit=limits.max_photo_bytes),
                    )
                check_photo_header(data, shown, limits.max_photo_pixels)
                path = Path(folder) / f"{index:02d}-{shown}"
                path.write_bytes(data)
                paths.append((shown, path))
            finder = FaceFinder()
            faces = [(shown, enrolment_face(finder, path, limits.max_photo_pixels).embedding) for shown, path in paths]
        with open_household(hub.config, hub.config_path) as library:
            total = library.enroll(member, faces)
    except PhotoTooLargeError as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except UserError as exc:
        # The message names the photo by the name the user gave it, not the temporary file.
        raise HTTPException(status.HTTP_400_BAD_REQUEST, re.sub(r"\S*/\d\d-", "", str(exc))) from None
    if hub.household is not None:
        hub.household.reload()
    return Done(
        detail=_("enrolled {member}: {photos} added, {total} in all").format(
            member=member, photos=counted("{count} photo", "{count} photos", len(faces)), total=total
        )
    )


@router.delete("/faces/{name}")
@allow(*OWNER)
def remove_face(name: str, hub: Services, _home: HubHome) -> Done:
    """Delete a member and every embedding of their face."""
    try:
        with open_household(hub.config, hub.config_path) as library:
            removed = library.remove(name)
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if removed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no member named {name!r}").format(name=name))
    if hub.household is not None:
        hub.household.reload()
    return Done(
        detail=_("removed {name} and {embeddings}").format(
            name=name, embeddings=counted("{count} face embedding", "{count} face embeddings", removed)
        )
    )


# arming


def _arming_public(hub: HubServices, home_id: int) -> ArmingPublic:
    state = hub.arming_for(home_id)
    now = datetime.now(UTC)
    manual = state.manual
    holds = manual is not None and manual.holds_at(now)
    change = state.next_change(now)
    alarm = state.alarm
    return ArmingPublic(
        mode=state.mode_at(now),
        manual=holds,
        set_by=manual.set_by if holds and manual else None,
        schedule=[ScheduleEntryOut(days=list(e.days), at=e.at, mode=e.mode) for e in alarm.schedule],
        timezone=hub.home_timezone(home_id).key,
        next_change=change[0] if change else None,
        next_mode=change[1] if change else None,
    )


def _home_id(caller: Caller) -> int:
    assert caller.home_id is not None  # authorize admits household roles only with a home
    return caller.home_id


@router.get("/arming")
@allow(*HOUSEHOLD, token_scope="arming:write")
def get_arming(caller: Caller, hub: Services) -> ArmingPublic:
    """Show the home's arming mode, whether it was chosen by hand, and the schedule."""
    return _arming_public(hub, _home_id(caller))


@router.put("/arming")
@allow(*HOUSEHOLD, token_scope="arming:write")
def set_arming(body: ModeChange, caller: Caller, hub: Services) -> ArmingPublic:
    """Choose the mode by hand; it holds until the schedule's next entry starts."""
    home_id = _home_id(caller)
    hub.set_mode(home_id, body.mode, caller.username)
    return _arming_public(hub, home_id)


@router.put("/arming/schedule")
@allow(*OWNER)
def set_schedule(body: ScheduleChange, caller: Caller, hub: Services) -> ArmingPublic:
    """Replace the weekly schedule."""
    home_id = _home_id(caller)
    entries = [ScheduleEntry.model_validate(entry.model_dump()) for entry in body.entries]
    if body.timezone:
        _set_timezone(hub, home_id, body.timezone)
    state = hub.arming_for(home_id)
    state.replace_schedule(entries, state.alarm.timezone)
    hub.accounts.save_schedule(home_id, [entry.model_dump() for entry in entries], None)
    return _arming_public(hub, home_id)


def _set_timezone(hub: HubServices, home_id: int, name: str) -> None:
    try:
        hub.set_home_timezone(home_id, name)
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            _("unknown time zone {name!r}: choose one such as Europe/Berlin").format(name=name),
        ) from None


# storage


@router.get("/storage")
@allow(*OWNER)
def storage_use(caller: Caller, hub: Services, _home: HubHome) -> StoragePublic:
    """Show how much the footage takes, the retention rules and what goes next."""
    retention = hub.config.storage.retention
    if hub.keeper is None:
        used, upcoming = hub.storage.vault.usage(), []
    else:
        plan = hub.keeper.plan()
        used, upcoming = plan.used_bytes, (plan.due_now + plan.scheduled)[:10]
    disk = hub.disk_space.check() if hub.disk_space is not None else None
    return StoragePublic(
        used_bytes=used,
        cap_bytes=cap_bytes(retention),
        free_bytes=disk.free_bytes if disk is not None and disk.free_bytes >= 0 else None,
        problem=disk.problem if disk is not None else None,
        alarm_days=retention.alarm_days,
        other_days=retention.other_days,
        events=hub.events.count_events(cameras=caller.cameras),
        next_deletions=[
            DeletionPublic(
                event_id=deletion.footage.record.id if deletion.footage else "",
                camera=deletion.footage.record.camera if deletion.footage else "",
                title=deletion_title(deletion.footage.record, hub.camera_names) if deletion.footage else "",
                due=datetime.fromtimestamp(deletion.due, tz=UTC),
                reason=deletion.reason,
            )
            for deletion in upcoming
        ],
    )


# members


@router.get("/members")
@allow(*OWNER)
def list_members(caller: Caller, hub: Services) -> list[UserPublic]:
    """List the home's people."""
    return [user_public(user) for user in hub.accounts.members(_home_id(caller))]


def _refuse_without_cameras(username: str, cameras: list[str], confirmed: bool) -> None:
    # A member with no camera sees an empty app: the owner has to say so on purpose, not by forgetting to pick.
    if not cameras and not confirmed:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            _(
                "no camera picked: {name} would see nothing until you give access; pick cameras, "
                "or confirm that they start with none"
            ).format(name=username.strip()),
        )


@router.post("/members", status_code=status.HTTP_201_CREATED, responses={400: {}})
@allow(*OWNER)
def add_member(body: MemberCreate, caller: Caller, hub: Services) -> UserPublic:
    """Add a household member who may watch the given cameras (none only when confirmed)."""
    _refuse_without_cameras(body.username, body.cameras, body.confirm_no_cameras)
    try:
        user = hub.accounts.create_user(body.username, body.password, "member", _home_id(caller), body.cameras)
    except (AccountError, WeakPasswordError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return user_public(user)


SET_PASSWORD_PAGE = "/set-password"


@router.post("/members/invite", status_code=status.HTTP_201_CREATED, responses={400: {}})
@allow(*OWNER)
def invite_member(body: MemberInvite, caller: Caller, hub: Services) -> MemberInvited:
    """Invite a member who may watch the cameras picked: a one-time link on which they choose their password."""
    _refuse_without_cameras(body.username, body.cameras, body.confirm_no_cameras)
    try:
        user, token, expires_at = hub.accounts.invite_member(
            body.username, _home_id(caller), body.cameras, caller.username
        )
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    _audit_account_change(hub, caller, "member_invited", user.username, f"cameras: {', '.join(user.cameras) or 'none'}")
    return MemberInvited(user=user_public(user), link=f"{SET_PASSWORD_PAGE}#{token}", expires_at=expires_at)


@router.post("/members/{user_id}/reset-link", status_code=status.HTTP_201_CREATED)
@allow(*OWNER)
def reset_member_password(user_id: RowId, caller: Caller, hub: Services) -> PasswordLinkCreated:
    """End a member's sessions and password now, and make a one-time link on which they choose a new password."""
    _own_member(caller, hub, user_id)
    token, expires_at = hub.accounts.new_password_link(user_id, "reset", caller.username)
    user = hub.accounts.user(user_id)
    _audit_account_change(hub, caller, "password_reset", user.username if user else str(user_id), "reset link made")
    return PasswordLinkCreated(link=f"{SET_PASSWORD_PAGE}#{token}", expires_at=expires_at)


def _audit_account_change(hub: HubServices, caller: Caller, action: str, username: str, detail: str) -> None:
    if hub.audit is not None:
        hub.audit.record(caller.actor, action, f"user:{username}", home_id=caller.home_id, detail=detail)


def _own_member(caller: Caller, hub: HubServices, user_id: int) -> None:
    user = hub.accounts.user(user_id)
    if user is None or user.home_id != caller.home_id or user.role != "member":
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no member {user_id}").format(user_id=user_id))


@router.patch("/members/{user_id}")
@allow(*OWNER)
def change_member(user_id: RowId, body: MemberUpdate, caller: Caller, hub: Services) -> UserPublic:
    """Change the cameras a member may watch."""
    _own_member(caller, hub, user_id)
    try:
        return user_public(hub.accounts.set_cameras(user_id, body.cameras))
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


@router.delete("/members/{user_id}")
@allow(*OWNER)
def remove_member(user_id: RowId, caller: Caller, hub: Services) -> Done:
    """Remove a member's account (their sessions and tokens end with it)."""
    _own_member(caller, hub, user_id)
    hub.accounts.delete_user(user_id)
    return Done(detail=_("member removed"))


# home key


@router.get("/home")
@allow(*HOUSEHOLD)
def get_home(caller: Caller, hub: Services) -> HomePublic:
    """Show the caller's home and whether its recordings can be played now."""
    home = hub.accounts.home(_home_id(caller))
    if home is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no such home"))
    unlocked = home.id == hub.hub_home_id and hub.keys.keyring is not None
    return HomePublic(
        id=home.id,
        name=home.name,
        unlocked=unlocked,
        cameras=list(caller.cameras),
        timezone=hub.home_timezone(home.id).key,
        owners=[user.username for user in hub.accounts.members(home.id) if user.role == "owner"],
    )


@router.put("/home/timezone")
@allow(*OWNER)
def set_home_timezone(body: TimezoneChange, caller: Caller, hub: Services) -> HomePublic:
    """Choose the home's time zone: the schedule's times, and every time the app shows, are in it."""
    _set_timezone(hub, _home_id(caller), body.timezone)
    return get_home(caller, hub)


@router.post("/home/unlock")
@allow(*OWNER)
def unlock_home(body: Passphrase, caller: Caller, hub: Services, home: HubHome) -> Done:
    """Unlock the recordings with the home passphrase until the hub restarts or the owner locks them."""
    actor = caller.actor
    try:
        hub.keys.hold(hub.storage.key_file.unlock(body.passphrase))
    except HomeKeyError as exc:
        if hub.audit is not None:
            hub.audit.record(actor, "key_unlocked", "home key", home_id=home, outcome="refused", detail=str(exc))
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if hub.audit is not None:
        hub.audit.record(actor, "key_unlocked", "home key", home_id=home, detail="account page")
    return Done(detail=_("recordings unlocked"))


@router.post("/home/lock")
@allow(*OWNER)
def lock_home(hub: Services, _home: HubHome) -> Done:
    """Forget the home key: nothing can be played until the next unlock."""
    hub.keys.release()
    hub.h264_copies.forget()  # plaintext made while unlocked goes with the key
    return Done(detail=_("recordings locked"))
