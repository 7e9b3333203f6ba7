"""What comes in and what goes out of the API: separate types from what is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from homewarden.config.model import ArmingMode

# The event as the API and the webhooks show it: one serialiser, beside the channels (the API is above them).
from homewarden.notify.payloads import ClipPublic as ClipPublic
from homewarden.notify.payloads import EventPublic as EventPublic


class Incoming(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class SetupRequest(Incoming):
    """First-run setup: the one-time token and the first owner's name and password."""

    token: str = Field(max_length=128)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)


class LoginRequest(Incoming):
    """A sign-in."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    totp_code: str | None = Field(default=None, max_length=16)


class PasswordChange(Incoming):
    """A new password, with the current one; every other session ends, the API tokens too if asked."""

    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)
    revoke_tokens: bool = False


class TotpCode(Incoming):
    """A code from the authenticator app."""

    code: str = Field(max_length=16)


class TotpStart(Incoming):
    """The password, and a current code when two-factor sign-in is on already (replacing it)."""

    password: str = Field(max_length=1024)
    code: str | None = Field(default=None, max_length=16)


class TotpRemoval(Incoming):
    """The password and a current code, to turn two-factor sign-in off."""

    password: str = Field(max_length=1024)
    code: str = Field(max_length=16)


class TokenRequest(Incoming):
    """A new API token."""

    name: str = Field(min_length=1, max_length=64)
    scopes: list[Literal["events:read", "media:read", "live:read", "arming:write", "doorbell:press", "voice"]] = Field(
        min_length=1
    )


class Passphrase(Incoming):
    """The home passphrase."""

    passphrase: str = Field(max_length=1024)


class ModeChange(Incoming):
    """An arming mode chosen by hand."""

    mode: ArmingMode


class ScheduleEntryIn(Incoming):
    """One schedule entry."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    mode: ArmingMode


class ScheduleChange(Incoming):
    """A whole weekly schedule."""

    entries: list[ScheduleEntryIn] = Field(max_length=100)
    timezone: str | None = Field(default=None, max_length=64)


class MemberCreate(Incoming):
    """A new household member."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)
    cameras: list[str] = Field(default_factory=list, max_length=100)


class MemberUpdate(Incoming):
    """A member's cameras."""

    cameras: list[str] = Field(max_length=100)


class UserPublic(BaseModel):
    """A user as the API shows them."""

    id: int
    username: str
    role: Literal["owner", "member"]
    home_id: int | None
    totp_enabled: bool
    cameras: list[str]


class Me(UserPublic):
    """The caller, with the CSRF token their session needs."""

    csrf_token: str | None


class SignedIn(BaseModel):
    """The answer to a sign-in."""

    user: UserPublic
    csrf_token: str


class SetupDone(SignedIn):
    """The answer to first-run setup: the recovery key is shown this once (None when the key existed before)."""

    recovery_key: str | None


class SetupStatus(BaseModel):
    """Whether first-run setup is still to be done."""

    needs_setup: bool


class TotpEnrolment(BaseModel):
    """A pending two-factor secret to put into an authenticator app."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class TokenPublic(BaseModel):
    """An API token as its owner sees it."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    """A new token, with its value shown once."""

    token: str


class EventList(BaseModel):
    """A page of the timeline."""

    events: list[EventPublic]


class CameraPublic(BaseModel):
    """A camera, whether frames arrive, and its health: state, why it is down, rates."""

    name: str
    online: bool
    last_frame_at: datetime | None
    width: int | None
    height: int | None
    state: Literal["starting", "online", "reconnecting", "failed", "stopped"] = Field(
        description="starting (not analysed yet), online, reconnecting (source lost), failed (analysis failed and "
        "restarts), stopped"
    )
    reason: str | None = Field(description="Why the camera is not online, in one line.")
    state_since: datetime
    frames_per_second: float = Field(description="Frames analysed per second, over the last few seconds.")
    detections_per_second: float = Field(description="Detector calls per second, over the last few seconds.")
    frames_dropped: int = Field(description="Frames skipped because analysis was busy (newest frame wins).")
    restarts: int = Field(description="Restarts of the camera after a failure since the hub started.")
    reconnects: int = Field(description="Reconnections of its source since the hub started.")


class MemberPublic(BaseModel):
    """A household member of the face library."""

    name: str
    photos: list[str]
    enrolled_at: datetime


class ScheduleEntryOut(BaseModel):
    """One schedule entry."""

    days: list[str]
    at: str
    mode: str


class ArmingPublic(BaseModel):
    """The home's arming state."""

    mode: ArmingMode
    manual: bool
    set_by: str | None
    schedule: list[ScheduleEntryOut]
    timezone: str | None
    next_change: datetime | None
    next_mode: ArmingMode | None


class DeletionPublic(BaseModel):
    """An event retention will delete, and when."""

    event_id: str
    camera: str
    due: datetime | None
    reason: str


class StoragePublic(BaseModel):
    """Storage use and retention."""

    used_bytes: int
    cap_bytes: int | None
    free_bytes: int | None = Field(description="Free space on the storage disk, when known.")
    problem: str | None = Field(description="Why recording is at risk or failing for want of space, if it is.")
    alarm_days: int
    other_days: int
    events: int
    next_deletions: list[DeletionPublic]


class HomePublic(BaseModel):
    """The caller's home and whether its recordings can be played now."""

    id: int
    name: str
    unlocked: bool
    cameras: list[str]


class Done(BaseModel):
    """A request that changed something and has nothing else to say."""

    ok: bool = True
    detail: str = ""


class PasswordChanged(Done):
    """A changed password: the caller's session goes on under a new cookie and this CSRF token."""

    csrf_token: str
    sessions_ended: int
    tokens_revoked: int
