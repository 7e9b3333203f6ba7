"""The YAML configuration tree: strict, every field with a default, bounds and a description."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from homewarden.i18n import _

Point = tuple[float, float]
Polygon = Annotated[list[Point], Field(min_length=3, description="Points (x, y) in detect-size pixels.")]

DEFAULT_LABELS: tuple[str, ...] = ("person", "cat", "dog", "car", "bicycle", "motorcycle", "bird")
STATIONARY_LABELS: tuple[str, ...] = ("car", "truck", "bus", "motorcycle", "bicycle")
# An object becomes an event once the median score of its detections reaches its label's threshold. Pets never raise
# an alarm, and a cheap camera's heavily compressed stream blurs them under the usual bar: a cat followed for 29 hits
# at medians 0.40-0.47 where the clear clip gives 0.64-0.73 (docs/benchmarks.md, crf16). People keep the higher bar:
# a false person event can become an alarm.
EVENT_THRESHOLD = 0.5
PET_EVENT_THRESHOLD = 0.45
PET_LABELS: frozenset[str] = frozenset({"cat", "dog"})


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LabelFilter(StrictModel):
    """Score thresholds and size limits for one object label."""

    min_score: float = Field(
        default=0.35,
        ge=0.0,
        le=1.0,
        title="Minimum score",
        description="Detections scoring below this are ignored.",
    )
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        title="Event threshold",
        description=(
            "An object becomes an event once the median score of its detections reaches this; unset: 0.45 for a "
            "cat or a dog (pets never raise an alarm) unless the detector also calls it a non-pet animal, 0.5 for "
            "every other label."
        ),
    )
    min_area: int = Field(
        default=400,
        ge=0,
        title="Minimum area",
        description=(
            "Boxes smaller than this many pixels are ignored, counted as the detector saw them: in a crop it "
            "enlarged (small motion), the enlarged box; never less than the box at detect size."
        ),
    )


class ObjectsConfig(StrictModel):
    """Which labels are tracked and how sure the detector must be."""

    track: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LABELS),
        min_length=1,
        title="Tracked labels",
        description="COCO class names to track; detections of other classes are ignored.",
    )
    filters: dict[str, LabelFilter] = Field(
        default_factory=dict,
        title="Per-label filters",
        description="Thresholds per label; labels not listed use the defaults.",
    )

    def filter_for(self, label: str) -> LabelFilter:
        """Return the filter for a label, falling back to the defaults."""
        return self.filters.get(label) or LabelFilter()

    def event_threshold(self, label: str, *, doubted: bool = False) -> float:
        """Return the median score an object of this label needs to become an event (doubted: not surely a pet)."""
        threshold = self.filter_for(label).threshold
        if threshold is not None:
            return threshold
        return PET_EVENT_THRESHOLD if label in PET_LABELS and not doubted else EVENT_THRESHOLD


class StationaryConfig(StrictModel):
    """Objects that stand still (a parked car, a bike against a wall) raise no new events while they stay put."""

    labels: list[str] = Field(
        default_factory=lambda: list(STATIONARY_LABELS),
        title="Stationary labels",
        description=(
            "Labels that can be parked: one standing still when the camera starts, or for longer than `threshold`, "
            "raises no event until it moves off. The vehicles by default; an empty list turns parking off."
        ),
    )
    threshold: float = Field(
        default=10.0,
        gt=0.0,
        le=3600.0,
        title="Stationary after",
        description="Seconds an object must stay in place to count as parked (Frigate's default: 10 s).",
    )
    interval: float = Field(
        default=10.0,
        gt=0.0,
        le=3600.0,
        title="Re-check interval",
        description="Seconds between looks at a parked object when no motion touches it.",
    )


class VerifierConfig(StrictModel):
    """The false-alarm verifier: a second look at each person detection with a model the review program trained."""

    enabled: bool = Field(
        default=False,
        title="Verifier",
        description="Re-check each person detection with the verifier model before it counts; off until a model "
        "is present (it needs the shipped NanoDet detector).",
    )
    min_person_probability: float = Field(
        default=0.3,
        ge=0.01,
        le=0.99,
        title="Minimum person probability",
        description="A person detection the verifier gives a lower calibrated probability of being a person is "
        "relabelled (cat, dog, car) or dropped; lower keeps more true people, higher drops more false ones.",
    )


class DetectSize(StrictModel):
    """How often and at what size frames are analysed."""

    fps: float = Field(default=5.0, gt=0.0, le=30.0, title="Detect fps", description="Frames analysed per second.")
    width: int | None = Field(
        default=None,
        ge=64,
        le=3840,
        title="Detect width",
        description="Width frames are scaled to before analysis; the source's own (at most 1280) when unset.",
    )
    height: int | None = Field(
        default=None,
        ge=64,
        le=2160,
        title="Detect height",
        description="Height frames are scaled to before analysis; the source's own height when unset.",
    )
    sweep_interval: float = Field(
        default=30.0,
        ge=0.0,
        le=3600.0,
        title="Sweep interval",
        description=(
            "Seconds between looks at the whole picture while no object is being followed, to find what motion "
            "cannot show (a dog asleep on a sofa, a cat waiting at a door); 0 looks only when the camera starts. "
            "Each look costs a detector call per square tile (two for a 16:9 picture)."
        ),
    )
    stationary: StationaryConfig = Field(
        default_factory=StationaryConfig,
        title="Stationary objects",
        description="Parked vehicles: found once, re-checked now and then, an event only when they move off.",
    )
    verifier: VerifierConfig = Field(
        default_factory=VerifierConfig,
        title="False-alarm verifier",
        description="A second look at person detections with the verifier model (docs/training.md).",
    )


class MotionConfig(StrictModel):
    """Background-subtraction motion detection, run on a downscaled grey frame."""

    frame_height: int = Field(
        default=180,
        ge=60,
        le=720,
        title="Motion frame height",
        description="Height the frame is downscaled to for motion detection.",
    )
    threshold: int = Field(
        default=30,
        ge=1,
        le=255,
        title="Pixel threshold",
        description="How different from the background a pixel must be to count as moving.",
    )
    contour_area: int = Field(
        default=80,
        ge=1,
        le=10000,
        title="Minimum contour area",
        description="Moving blobs smaller than this (in motion-frame pixels) are ignored.",
    )
    learning_rate: float = Field(
        default=0.03,
        gt=0.0,
        le=1.0,
        title="Background learning rate",
        description="How fast the background model absorbs change; higher forgets a departed object sooner.",
    )
    mask: list[Polygon] = Field(
        default_factory=list,
        title="Motion masks",
        description="Polygons (detect-size pixels) where motion is ignored, such as a clock or a tree.",
    )
    burnt_in_text: bool = Field(
        default=True,
        title="Ignore the camera's clock",
        description=(
            "Learn the lines of text a camera burns into its picture along the top or bottom edge that change (a "
            "clock), and ignore motion wholly inside them, as a motion mask drawn over the clock would."
        ),
    )


class ZoneConfig(StrictModel):
    """A named area; events record the zones their object entered."""

    coordinates: Polygon
    objects: list[str] = Field(
        default_factory=list, description="Labels that count in this zone; every label when empty."
    )
    alarm_on_entry_from_outside: bool = Field(
        default=False,
        title="Alarm only on entry from outside",
        description=(
            "A person first seen inside this zone who stays in it raises no alarm (passers-by on the street a "
            "camera overlooks); one who came into it from outside, or who leaves it, follows the camera's rules."
        ),
    )


class RecordConfig(StrictModel):
    """Event clips: how much before and after the event, and how long at most."""

    pre_roll: float = Field(default=5.0, ge=0.0, le=30.0, title="Pre-roll", description="Seconds kept before.")
    post_roll: float = Field(default=5.0, ge=0.0, le=30.0, title="Post-roll", description="Seconds kept after.")
    max_clip: float = Field(
        default=30.0,
        ge=5.0,
        le=300.0,
        title="Longest clip",
        description="A clip never lasts longer; a longer event continues in the next clip.",
    )


class CameraConfig(StrictModel):
    """One camera: where its video comes from and how it is analysed."""

    source: str = Field(
        min_length=1,
        title="Source",
        description="A file path, rtsp:// or http(s):// URL, or a V4L2 device such as /dev/video0.",
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        title="Display name",
        description='The name the web app and notifications show ("Front door"); the id turned into words when unset.',
    )
    enabled: bool = Field(default=True, description="Whether the camera runs.")
    loop: bool = Field(
        default=False,
        title="Loop",
        description=(
            "Replay a video file from its start whenever it ends, paced like a camera with wall-clock event times "
            "(a demo camera). Live sources ignore it."
        ),
    )
    detect: DetectSize = Field(default_factory=DetectSize)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    zones: dict[str, ZoneConfig] = Field(default_factory=dict)
    objects: ObjectsConfig | None = Field(
        default=None, description="Overrides the top-level objects section for this camera."
    )
    record: RecordConfig | None = Field(
        default=None, description="Overrides the top-level record section for this camera."
    )


class NanoDetConfig(StrictModel):
    """The default detector: NanoDet COCO-80 shipped with Homewarden."""

    type: Literal["nanodet"] = "nanodet"
    threads: int = Field(default=2, ge=1, le=64, description="CPU threads for onnxruntime.")


class YoloConfig(StrictModel):
    """A user's own Ultralytics YOLO ONNX export (output (1, 4 + classes, N))."""

    type: Literal["yolo"]
    model: Path = Field(description="Path of the .onnx file.")
    input_size: int = Field(default=640, ge=32, le=2048, description="Square input size of the export.")
    labels: list[str] | None = Field(
        default=None, description="Class names in model order; the 80 COCO names when unset."
    )
    threads: int = Field(default=2, ge=1, le=64, description="CPU threads for onnxruntime.")


DetectorConfig = Annotated[NanoDetConfig | YoloConfig, Field(discriminator="type")]


class RetentionConfig(StrictModel):
    """How long the hub keeps event footage, and how much disk it may take."""

    alarm_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        title="Alarm events",
        description="Days the clips and snapshot of an event that raised an alarm are kept.",
    )
    other_days: int = Field(
        default=7,
        ge=1,
        le=3650,
        title="Other events",
        description="Days the clips and snapshot of any other event are kept.",
    )
    max_gb: float | None = Field(
        default=None,
        gt=0.0,
        le=1_000_000.0,
        title="Disk cap",
        description="Gigabytes (10^9 bytes) the hub's footage may take; the oldest goes first. No cap when unset.",
    )


class StorageConfig(StrictModel):
    """Where media and the database live."""

    folder: Path = Field(
        default=Path("homewarden-data"), description="Folder for clips, snapshots and the default database."
    )
    database_url: str | None = Field(
        default=None,
        description=("SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...); SQLite in the folder if unset."),
    )
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file inside the storage folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.folder / 'homewarden.db').resolve()}"


ArmingMode = Literal["disarmed", "home", "away", "night"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A person is an intruder in these modes unless a camera rule says otherwise; at home, people are expected.
DEFAULT_ALARM_MODES: tuple[ArmingMode, ...] = ("away", "night")
_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class FacesConfig(StrictModel):
    """Recognising household members on person events (docs/faces.md)."""

    enabled: bool = Field(default=True, description="Look for faces on person events and match them to the household.")
    match_threshold: float = Field(
        default=0.55,
        ge=0.2,
        le=0.8,
        title="Match distance",
        description="A face at most this far (L2, dlib embeddings) from a member's photo is that member.",
    )
    min_face_size: int = Field(
        default=32,
        ge=16,
        le=1024,
        title="Smallest identifiable face",
        description="Faces narrower than this (detect-size pixels) count as seen but are not matched.",
    )
    max_lookups: int = Field(
        default=12,
        ge=1,
        le=200,
        title="Face lookups per event",
        description="How many of a person event's best frames are searched for a face at most.",
    )
    gallery_folder: Path | None = Field(
        default=None,
        title="One-run household",
        description="Photos to use as the household instead of the enrolled one: one sub-folder per member.",
    )


class ScheduleEntry(StrictModel):
    """From a time of day on some weekdays, the home is in a mode until the next entry starts."""

    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1, description="Weekdays (mon ... sun); every day if unset."
    )
    at: str = Field(description="Local time the mode starts, 'HH:MM' (quoted in YAML).")
    mode: ArmingMode = Field(description="The mode from then on.")

    @field_validator("at", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            # YAML 1.1 reads an unquoted 18:00 as the number 1080.
            raise ValueError(_("write the time in quotes, such as '18:00'"))
        if isinstance(value, str) and not _CLOCK_TIME.fullmatch(value):
            raise ValueError(_("{value!r} is not a time of day HH:MM").format(value=value))
        return value


class CameraAlarmRule(StrictModel):
    """In which modes a person on one camera, or in one of its zones, raises an alarm."""

    modes: list[ArmingMode] = Field(
        default_factory=lambda: list(DEFAULT_ALARM_MODES),
        description="Modes in which a person anywhere on this camera raises an alarm.",
    )
    zones: dict[str, list[ArmingMode]] = Field(
        default_factory=dict,
        description="Further modes in which a person who entered the zone raises an alarm, by zone name.",
    )


class AlarmConfig(StrictModel):
    """Arming: when a person who is not recognised as household raises an alarm."""

    mode: ArmingMode = Field(default="away", description="The mode whenever no schedule entry applies.")
    schedule: list[ScheduleEntry] = Field(
        default_factory=list, description="A weekly schedule; the latest entry that has started sets the mode."
    )
    timezone: str | None = Field(
        default=None, description="IANA time zone of the schedule, such as Europe/Paris; the hub's own when unset."
    )
    grace_period: float = Field(
        default=10.0,
        ge=0.0,
        le=600.0,
        title="Grace period",
        description="Seconds a person has to show a household face before the alarm is decided.",
    )
    cameras: dict[str, CameraAlarmRule] = Field(
        default_factory=dict,
        description="Rules per camera; a camera not listed raises alarms in away and night.",
    )
    group_window: float = Field(
        default=30.0,
        ge=0.0,
        le=600.0,
        title="Intrusion window",
        description=(
            "Seconds after a person was last seen in which another person on the same camera (or area) joins the "
            "same intrusion: one alarm with several people instead of one alarm each."
        ),
    )
    camera_offline_after: float = Field(
        default=60.0,
        ge=5.0,
        le=86400.0,
        title="Camera offline notice",
        description="Seconds a camera may be down in a mode that arms it before a 'camera offline' notice is sent.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else known_timezone(value)


def known_timezone(name: str) -> str:
    """Return an IANA time zone name (Europe/Berlin) that zoneinfo knows; raise ValueError naming it otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("unknown time zone {name!r}").format(name=name)) from None
    return name


class ReviewConfig(StrictModel):
    """The hub's side of the review program: how long donated copies are kept (the cloud deletes them then)."""

    daily_quota: int = Field(
        default=150,
        ge=1,
        le=10000,
        title="Daily quota (unused)",
        description="Unused since reviewers work in Homewarden Cloud, which sets their quota; kept so that older "
        "config files still load.",
    )
    donation_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        title="Donation retention",
        description="Days a donated copy is kept before it is deleted with its labels.",
    )


class MqttConfig(StrictModel):
    """The MQTT broker the hub publishes to, and Home Assistant's discovery."""

    enabled: bool = Field(default=False, description="Whether the hub connects to the broker.")
    host: str = Field(default="127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port.")
    username: str | None = Field(default=None, description="User name, if the broker asks for one.")
    password: str | None = Field(default=None, description="Password, if the broker asks for one.")
    topic_prefix: str = Field(
        default="homewarden", min_length=1, pattern=r"^[^#+]+$", description="First level of every topic."
    )
    discovery_prefix: str = Field(
        default="homeassistant", min_length=1, pattern=r"^[^#+]+$", description="Home Assistant's discovery prefix."
    )
    discovery: bool = Field(default=True, description="Publish Home Assistant MQTT discovery configs.")
    client_id: str = Field(default="homewarden", min_length=1, max_length=64, description="MQTT client id.")
    keepalive: int = Field(default=30, ge=5, le=3600, description="Seconds between keep-alive pings.")


class WebhooksConfig(StrictModel):
    """Where webhooks may point."""

    allow_loopback: bool = Field(
        default=False,
        title="Allow loopback and link-local",
        description=(
            "Let webhooks reach this machine (127.0.0.0/8, ::1, localhost) and link-local addresses "
            "(169.254.0.0/16, fe80::/10). Off: a webhook could otherwise reach services meant only for the hub's "
            "own machine. The home network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) is always allowed."
        ),
    )


class PushConfig(StrictModel):
    """How often web push may notify about one camera."""

    min_interval: float = Field(
        default=60.0,
        ge=0.0,
        le=3600.0,
        title="Minimum interval per camera",
        description=(
            "Seconds after an alarm notification from a camera in which its further alarms are not pushed (they "
            "still reach MQTT, webhooks and the timeline); 0 pushes every intrusion."
        ),
    )


class NotifyConfig(StrictModel):
    """The notification channels' limits."""

    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig, description="Where webhooks may point.")
    push: PushConfig = Field(default_factory=PushConfig, description="How often web push may notify per camera.")


class DoorbellConfig(StrictModel):
    """A doorbell: the camera it is paired with, and how long a press records."""

    camera: str = Field(min_length=1, description="The camera that records when the bell is pressed.")
    record_seconds: float = Field(
        default=20.0, ge=5.0, le=120.0, description="Seconds recorded after a press (plus the camera's pre-roll)."
    )


KIB = 1024
MIB = 1024 * KIB


class ServerConfig(StrictModel):
    """The web app and API: whose forwarded addresses are believed, and how much one request may send."""

    trusted_proxies: list[str] = Field(
        default_factory=list,
        title="Trusted proxies",
        description=(
            "Addresses or networks (CIDR) of the reverse proxies in front of the hub; only their X-Forwarded-For and "
            "X-Forwarded-Proto are believed. None by default: the address a request comes from is the caller's."
        ),
    )
    max_json_bytes: int = Field(
        default=64 * KIB,
        ge=4 * KIB,
        le=16 * MIB,
        title="Largest request body",
        description="Bytes a request body may hold on every route except photo uploads; more is refused with 413.",
    )
    max_upload_bytes: int = Field(
        default=64 * MIB,
        ge=1 * MIB,
        le=1024 * MIB,
        title="Largest photo upload",
        description="Bytes one photo upload (all its photos together) may hold; more is refused with 413 unread.",
    )
    max_photo_bytes: int = Field(
        default=15 * MIB,
        ge=64 * KIB,
        le=256 * MIB,
        title="Largest photo",
        description="Bytes one uploaded photo may hold.",
    )
    max_photos: int = Field(
        default=10, ge=1, le=100, title="Photos per upload", description="Photos one upload may hold."
    )
    max_photo_pixels: int = Field(
        default=40_000_000,
        ge=1_000_000,
        le=200_000_000,
        title="Largest photo in pixels",
        description="Width x height a photo may declare; its header is read before anything is decoded.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        networks = []
        for value in values:
            try:
                networks.append(str(ipaddress.ip_network(value.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network (such as 10.0.0.2, 10.0.0.0/8)") from None
        return networks


MEBIBYTE = 1024 * 1024


class OffsiteConfig(StrictModel):
    """Off-site copies to a paired Homewarden Cloud (docs/offsite.md); pairing itself is `homewarden cloud pair`."""

    bandwidth_limit: int | None = Field(
        default=None,
        ge=1024,
        title="Upload bandwidth cap",
        description="Bytes per second the uploads may use on average; unlimited when unset.",
    )
    multipart_threshold: int = Field(
        default=16 * MEBIBYTE,
        ge=MEBIBYTE,
        le=16 * MEBIBYTE,
        title="Multipart threshold",
        description="Objects larger than this many bytes go in parts that resume after a restart.",
    )
    retry_max_seconds: float = Field(
        default=300.0,
        ge=1.0,
        le=3600.0,
        title="Longest retry wait",
        description="Failed uploads are retried after 1 s, doubling (with jitter) up to this many seconds.",
    )
    reconcile_seconds: float = Field(
        default=300.0,
        ge=5.0,
        le=86400.0,
        title="Catch-up interval",
        description="How often the hub looks for footage that never entered the outbox (and at every start).",
    )
    stuck_after: float = Field(
        default=3600.0,
        ge=60.0,
        le=7 * 86400.0,
        title="Stuck notice after",
        description="Seconds an upload may wait with nothing succeeding before the owner is told.",
    )
    hub_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="How the hub is named in the cloud account; the machine's host name when unset.",
    )


class HomewardenConfig(StrictModel):
    """The whole configuration file."""

    cameras: dict[str, CameraConfig] = Field(default_factory=dict, description="Cameras by name.")
    detector: DetectorConfig = Field(default_factory=NanoDetConfig)
    objects: ObjectsConfig = Field(default_factory=ObjectsConfig)
    record: RecordConfig = Field(default_factory=RecordConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    faces: FacesConfig = Field(default_factory=FacesConfig)
    alarm: AlarmConfig = Field(default_factory=AlarmConfig)
    areas: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "Cameras that look at one area, by area name: people on any of them within alarm.group_window form one "
            "intrusion (one alarm)."
        ),
    )
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    doorbells: dict[str, DoorbellConfig] = Field(default_factory=dict, description="Doorbells by name.")
    server: ServerConfig = Field(default_factory=ServerConfig)
    offsite: OffsiteConfig = Field(default_factory=OffsiteConfig)

    @model_validator(mode="after")
    def _verify(self) -> HomewardenConfig:
        verify_camera_names(self)
        verify_tracked_labels(self)
        verify_zone_labels(self)
        verify_record_lengths(self)
        verify_alarm_rules(self)
        verify_areas(self)
        verify_doorbells(self)
        verify_upload_sizes(self)
        verify_verifier_detector(self)
        return self

    def objects_for(self, camera: str) -> ObjectsConfig:
        """Return the objects section that applies to a camera."""
        return self.cameras[camera].objects or self.objects

    def record_for(self, camera: str) -> RecordConfig:
        """Return the record section that applies to a camera."""
        return self.cameras[camera].record or self.record


def verify_camera_names(config: HomewardenConfig) -> None:
    """Refuse camera names that cannot be folder names or URL parts."""
    for name in config.cameras:
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise ValueError(f"camera name {name!r} may hold only letters, digits, '-' and '_'")


def verify_doorbells(config: HomewardenConfig) -> None:
    """Refuse a doorbell paired with a camera that does not exist, or a name unfit for a topic or URL."""
    for name, bell in config.doorbells.items():
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise ValueError(f"doorbell name {name!r} may hold only letters, digits, '-' and '_'")
        if bell.camera not in config.cameras:
            raise ValueError(
                _("doorbells.{name}.camera: no camera named {camera!r}").format(name=name, camera=bell.camera)
            )


def verify_upload_sizes(config: HomewardenConfig) -> None:
    """Refuse a photo size that no upload could carry."""
    if config.server.max_photo_bytes > config.server.max_upload_bytes:
        raise ValueError("server.max_photo_bytes: larger than server.max_upload_bytes, so no such photo could be sent")


def verify_verifier_detector(config: HomewardenConfig) -> None:
    """Refuse the verifier with a detector other than NanoDet: its features are NanoDet's class scores."""
    if isinstance(config.detector, NanoDetConfig):
        return
    for name, camera in config.cameras.items():
        if camera.detect.verifier.enabled:
            raise ValueError(f"cameras.{name}.detect.verifier.enabled: the verifier needs detector type nanodet")


def verify_tracked_labels(config: HomewardenConfig) -> None:
    """Refuse labels the detector cannot produce."""
    known = set(detector_labels(config.detector))
    sections = [("objects", config.objects)] + [
        (f"cameras.{name}.objects", cam.objects) for name, cam in config.cameras.items() if cam.objects
    ]
    for where, section in sections:
        for label in [*section.track, *section.filters]:
            if label not in known:
                raise ValueError(
                    _("{where}: unknown label {label!r} (the detector knows {count} labels)").format(
                        where=where, label=label, count=len(known)
                    )
                )


def verify_zone_labels(config: HomewardenConfig) -> None:
    """Refuse zones that name labels nobody tracks."""
    for name, cam in config.cameras.items():
        tracked = set((cam.objects or config.objects).track)
        for zone_name, zone in cam.zones.items():
            for label in zone.objects:
                if label not in tracked:
                    raise ValueError(f"cameras.{name}.zones.{zone_name}: label {label!r} is not tracked")


def verify_record_lengths(config: HomewardenConfig) -> None:
    """Refuse pre- and post-rolls that leave no room for the event in a clip."""
    sections = [("record", config.record)] + [
        (f"cameras.{name}.record", cam.record) for name, cam in config.cameras.items() if cam.record
    ]
    for where, record in sections:
        if record.pre_roll + record.post_roll >= record.max_clip:
            raise ValueError(_("{where}: pre_roll + post_roll must be shorter than max_clip").format(where=where))


def verify_alarm_rules(config: HomewardenConfig) -> None:
    """Refuse alarm rules for cameras or zones that do not exist, or that name the disarmed mode."""
    for name, rule in config.alarm.cameras.items():
        if name not in config.cameras:
            raise ValueError(_("alarm.cameras.{name}: no camera of that name").format(name=name))
        zones = config.cameras[name].zones
        for zone_name, modes in [("", rule.modes), *rule.zones.items()]:
            where = f"alarm.cameras.{name}" + (f".zones.{zone_name}" if zone_name else ".modes")
            if zone_name and zone_name not in zones:
                raise ValueError(_("{where}: camera {name} has no zone of that name").format(where=where, name=name))
            if "disarmed" in modes:
                raise ValueError(f"{where}: disarmed never raises alarms; list only home, away or night")


def verify_areas(config: HomewardenConfig) -> None:
    """Refuse areas naming cameras that do not exist, or a camera in two areas (its intrusions would be ambiguous)."""
    area_of: dict[str, str] = {}
    for name, cameras in config.areas.items():
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise ValueError(f"areas.{name}: an area name may hold only letters, digits, '-' and '_'")
        if not cameras:
            raise ValueError(f"areas.{name}: list at least one camera")
        for camera in cameras:
            if camera not in config.cameras:
                raise ValueError(_("areas.{name}: no camera named {camera!r}").format(name=name, camera=camera))
            if camera in area_of and area_of[camera] != name:
                raise ValueError(f"areas.{name}: camera {camera!r} is already in area {area_of[camera]!r}")
            area_of[camera] = name


def detector_labels(detector: NanoDetConfig | YoloConfig) -> list[str]:
    """Return the class names a configured detector produces."""
    from homewarden.detect.labels import COCO_LABELS

    if isinstance(detector, YoloConfig) and detector.labels:
        return detector.labels
    return list(COCO_LABELS)
