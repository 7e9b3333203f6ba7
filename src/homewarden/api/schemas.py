"""What comes in and what goes out of the API: separate types from what is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from homewarden.config.model import ArmingMode

# The event as the API and the webhooks show it: one serialiser, beside the channels (the API is above them).
from homewarden.notify.payloads import ClipPublic as ClipPublic
from homewarden.notify.payloads import EventPublic as EventPublic
from homewarden.notify.payloads import IntrusionPublic as IntrusionPublic

# The languages the web app speaks (homewarden.i18n.LANGUAGES).
Language = Literal["en", "de"]


class Incoming(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


HOME_TIMEZONE = "IANA time zone of the home (Europe/Berlin): the schedule's and every shown time are in it."


class SetupRequest(Incoming):
    """First-run setup: the one-time token and the first owner's name and password."""

    token: str = Field(max_length=128)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)
    timezone: str | None = Field(
        default=None, max_length=64, description="The home's IANA time zone; the set-up page sends the browser's."
    )


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


class AccountUpdate(Incoming):
    """A change to the caller's own account."""

    language: Language | None = Field(description="Pages and notifications in this language; null follows the browser.")


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


class TimezoneChange(Incoming):
    """The home's time zone, chosen by the owner."""

    timezone: str = Field(min_length=1, max_length=64, description="An IANA name such as Europe/Berlin.")


class MemberCreate(Incoming):
    """A new household member."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)
    cameras: list[str] = Field(default_factory=list, max_length=100)
    confirm_no_cameras: bool = Field(
        default=False, description="Add them with no camera at all (they see nothing until given access)."
    )


class MemberInvite(Incoming):
    """A member to invite: their name and the cameras they may watch, picked by the owner."""

    username: str = Field(min_length=1, max_length=64)
    cameras: list[str] = Field(max_length=100)
    confirm_no_cameras: bool = Field(
        default=False, description="Invite with no camera at all (they see nothing until given access)."
    )


class PasswordLinkCreated(BaseModel):
    """A one-time link on which a member sets their password; shown once, to be passed on by the owner."""

    link: str = Field(description="The page to open, its token after '#' (never sent to the hub in a URL).")
    expires_at: datetime


class PasswordLinkToken(Incoming):
    """The token of a one-time password link, as its page read it."""

    token: str = Field(min_length=1, max_length=128)


class PasswordLinkUse(PasswordLinkToken):
    """A password chosen on a one-time link."""

    password: str = Field(max_length=1024)


class PasswordLinkPublic(BaseModel):
    """What a one-time link is for, shown on its page before the password is chosen."""

    username: str
    purpose: Literal["invite", "reset"]
    invited_by: str
    expires_at: datetime


class OwnerRecovery(Incoming):
    """The recovery key and the new passphrase, which becomes the owners' password."""

    recovery_key: str = Field(min_length=1, max_length=256)
    new_password: str = Field(max_length=1024)


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
    password_set: bool = Field(default=True, description="False for an invited member who has not chosen one yet.")


class MemberInvited(PasswordLinkCreated):
    """An invited member and their link."""

    user: UserPublic


class Me(UserPublic):
    """The caller, with the CSRF token their session needs and the language they chose."""

    csrf_token: str | None
    language: Language | None = Field(default=None, description="The language chosen; null follows the browser.")


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


EventId = Annotated[str, Field(min_length=1, max_length=64)]


class EventIds(Incoming):
    """Several events of the timeline, picked by the user."""

    event_ids: list[EventId] = Field(min_length=1, max_length=500)


class ReviewedChange(EventIds):
    """Mark events reviewed, or not reviewed again."""

    reviewed: bool = True


class Neighbours(BaseModel):
    """The events beside one in the timeline: the next newer and the next older (None at either end)."""

    newer: str | None
    older: str | None


class ShareCreate(Incoming):
    """A share link for one clip of an event, valid for some hours."""

    clip: int = Field(default=0, ge=0, le=10_000, description="Which clip of the event (0 is the first).")
    hours: int = Field(default=24, ge=1, le=168, description="How long the link works: 1 hour to 7 days.")


class SharePublic(BaseModel):
    """A share link as its owner sees it (its address is shown only when made)."""

    id: int
    event_id: str
    clip: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class ShareCreated(SharePublic):
    """A new share link, with its address shown this once."""

    url: str


class EventList(BaseModel):
    """A page of the timeline."""

    events: list[EventPublic]
    timezone: str = Field(description=HOME_TIMEZONE)


class IntrusionList(BaseModel):
    """A page of the timeline, one item per intrusion."""

    intrusions: list[IntrusionPublic]


class CameraPublic(BaseModel):
    """A camera, whether frames arrive, and its health: state, why it is down, rates."""

    name: str
    display_name: str = Field(description='The name the household reads ("Front door").')
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
    timezone: str = Field(description=HOME_TIMEZONE)
    next_change: datetime | None
    next_mode: ArmingMode | None


class DeletionPublic(BaseModel):
    """An event retention will delete, and when."""

    event_id: str
    camera: str
    title: str = Field(default="", description='The event in plain words ("Cat in the living room").')
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
    timezone: str = Field(description=HOME_TIMEZONE)
    owners: list[str] = Field(description="The home's owners, whom a member asks for access.")


class Done(BaseModel):
    """A request that changed something and has nothing else to say."""

    ok: bool = True
    detail: str = ""


class PasswordChanged(Done):
    """A changed password: the caller's session goes on under a new cookie and this CSRF token."""

    csrf_token: str
    sessions_ended: int
    tokens_revoked: int


class CameraSettingsPublic(BaseModel):
    """A camera as the settings page edits it; the source's password is never sent back."""

    id: str
    name: str | None
    display_name: str
    source: str = Field(description="The camera's URL with any password replaced by ***.")
    enabled: bool
    motion_threshold: int
    motion_contour_area: int
    motion_mask: list[list[tuple[float, float]]] = Field(description="Motion mask polygons, detect-size pixels.")
    zones: dict[str, list[tuple[float, float]]] = Field(description="Each zone's polygon, detect-size pixels.")


class RetentionSettings(BaseModel):
    """How long footage is kept, and the disk cap."""

    alarm_days: int
    other_days: int
    max_gb: float | None


class SettingsPublic(BaseModel):
    """The settings an owner can change in the browser, as saved in the config file."""

    config_path: str
    cameras: list[CameraSettingsPublic]
    track: list[str] = Field(description="Object labels the hub tracks.")
    min_scores: dict[str, float] = Field(description="Minimum detection score per label, where the config sets one.")
    default_min_score: float = Field(description="The minimum score of a label the config sets none for.")
    retention: RetentionSettings
    household_calibration: str = Field(
        default="", description="What the household's own corrections taught this hub's verifier (stays on the hub)."
    )


class CameraSettingsIn(Incoming):
    """Changes to one camera; a field left out stays as it is, a null name goes back to the id-derived one."""

    name: str | None = Field(default=None, max_length=80)
    enabled: bool | None = None
    motion_threshold: int | None = Field(default=None, description="Pixel difference that counts as motion (1-255).")
    motion_contour_area: int | None = Field(default=None, description="Smallest moving blob, in motion-frame pixels.")
    motion_mask: list[list[tuple[float, float]]] | None = Field(
        default=None, max_length=50, description="Every motion mask polygon (replaces them); detect-size pixels."
    )
    zones: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{0,39}$")], list[tuple[float, float]]] | None = Field(
        default=None,
        max_length=50,
        description="Zone polygons to set by name (other zone keys stay); an empty list removes the zone.",
    )


class ObjectSettingsIn(Incoming):
    """Which labels are tracked, and the minimum score of each."""

    track: list[str] | None = Field(default=None, max_length=100)
    min_scores: dict[str, float] | None = None


class RetentionSettingsIn(Incoming):
    """Retention days and the disk cap; a null max_gb removes the cap."""

    alarm_days: int | None = None
    other_days: int | None = None
    max_gb: float | None = None


class SettingsChangeIn(Incoming):
    """A change to the settings; everything in it is saved together or not at all."""

    cameras: dict[str, CameraSettingsIn] = Field(default_factory=dict, max_length=100)
    objects: ObjectSettingsIn | None = None
    retention: RetentionSettingsIn | None = None


class AppliedChangePublic(BaseModel):
    """One saved key of the config file and when the hub acts on it."""

    key: str
    applies: Literal["now", "after a restart"]


class SettingsSaved(BaseModel):
    """The settings after a change, what was saved and when it takes effect."""

    message: str
    changes: list[AppliedChangePublic]
    settings: SettingsPublic


CAMERA_ID_PATTERN = r"^[a-z0-9][a-z0-9_]{0,39}$"


class CameraTestIn(Incoming):
    """A camera URL to try."""

    source: str = Field(min_length=1, max_length=2048, description="RTSP (or HTTP, or file) URL of the camera.")


class CameraAddIn(CameraTestIn):
    """A camera to add: its id in the config file, its URL and its display name."""

    id: str = Field(pattern=CAMERA_ID_PATTERN, description="Lower-case letters, digits and _, as in the YAML.")
    name: str | None = Field(default=None, max_length=80)


class CameraAdded(SettingsSaved):
    """A camera saved after its connection test, with the picture the test took."""

    snapshot: str = Field(description="The camera's first picture, a data: URL of a JPEG.")
