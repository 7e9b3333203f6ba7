"""The cloud's YAML configuration (``cloud.yaml``): strict, every field with a default, bounds and a description."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from homewarden.config.yaml_file import Unreadable, YamlFileError, read_mapping

MIB = 1024 * 1024
# S3 refuses parts smaller than 5 MiB (except the last).
S3_MIN_PART_BYTES = 5 * MIB
ACCESS_KEY_ENV = "HOMEWARDEN_CLOUD_S3_ACCESS_KEY"
SECRET_KEY_ENV = "HOMEWARDEN_CLOUD_S3_SECRET_KEY"


class CloudConfigError(Exception):
    """A cloud config file that cannot be read or does not validate; the message names the key."""


class StrictModel(BaseModel):
    """Base of every section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FolderStoreConfig(StrictModel):
    """Objects kept as files in one folder: for a one-machine trial."""

    type: Literal["folder"] = "folder"
    path: Path = Field(
        default=Path("homewarden-cloud-data/objects"),
        title="Folder",
        description="Where the sealed objects are written (created when missing).",
    )


class S3StoreConfig(StrictModel):
    """Objects kept in an S3-compatible store (AWS S3, MinIO, Ceph, rclone serve s3)."""

    type: Literal["s3"] = "s3"
    endpoint_url: str | None = Field(
        default=None,
        title="Endpoint URL",
        description="The store's URL, e.g. http://127.0.0.1:9000; unset for AWS S3 itself.",
    )
    bucket: str = Field(min_length=3, max_length=63, title="Bucket", description="The bucket holding every object.")
    region: str = Field(default="us-east-1", min_length=1, title="Region", description="The bucket's region.")
    access_key: str | None = Field(
        default=None,
        title="Access key id",
        description=f"Unset: read from the environment variable {ACCESS_KEY_ENV}.",
    )
    secret_key: str | None = Field(
        default=None,
        title="Secret access key",
        description=f"Unset: read from the environment variable {SECRET_KEY_ENV}.",
        repr=False,
    )
    create_bucket: bool = Field(
        default=False,
        title="Create the bucket",
        description="Create the bucket at start-up when it does not exist (convenient for a private store).",
    )

    @model_validator(mode="after")
    def _credentials_from_environment(self) -> S3StoreConfig:
        """Fill unset credentials from the environment; refuse to start with none."""
        access = self.access_key or os.environ.get(ACCESS_KEY_ENV)
        secret = self.secret_key or os.environ.get(SECRET_KEY_ENV)
        if not access or not secret:
            raise ValueError(
                f"S3 credentials are missing: set access_key and secret_key, or {ACCESS_KEY_ENV} and {SECRET_KEY_ENV}"
            )
        object.__setattr__(self, "access_key", access)
        object.__setattr__(self, "secret_key", secret)
        return self


ObjectStoreConfig = Annotated[FolderStoreConfig | S3StoreConfig, Field(discriminator="type")]


class TasksConfig(StrictModel):
    """Celery: where tasks go, and how often the periodic ones run."""

    broker_url: str = Field(
        default="memory",
        min_length=1,
        title="Broker URL",
        description=(
            "RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672//; 'memory' runs every task at once in the process "
            "that asks for it and the periodic ones in `serve` (a one-machine trial)."
        ),
    )
    queue: str = Field(
        default="homewarden-cloud",
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        title="Queue",
        description="The queue the workers consume (several clouds can share one broker under different names).",
    )
    retention_every_seconds: int = Field(
        default=3600, ge=10, le=86400, title="Retention period", description="How often retention and quota run."
    )
    sweep_every_seconds: int = Field(
        default=600,
        ge=5,
        le=86400,
        title="Sweep period",
        description="How often blobs left to delete are retried, stale uploads aborted and old nonces pruned.",
    )
    stale_upload_hours: int = Field(
        default=24,
        ge=1,
        le=720,
        title="Stale upload age",
        description="Unfinished multipart uploads older are aborted.",
    )

    @property
    def in_process(self) -> bool:
        """Tell whether tasks run in the process that asks for them (no broker)."""
        return self.broker_url in ("memory", "none")


class HomeDefaults(StrictModel):
    """What a new home gets."""

    quota_bytes: int = Field(
        default=50 * 1024 * MIB,
        ge=MIB,
        title="Quota",
        description="Bytes a home may keep; an upload past it is refused (507) and the worker trims a home above it.",
    )
    retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        title="Retention",
        description="Objects uploaded longer ago are deleted by the worker (pinned objects never are).",
    )


class LimitsConfig(StrictModel):
    """Request sizes and the clock window of signed requests."""

    max_object_bytes: int = Field(
        default=16 * MIB,
        ge=MIB,
        le=5 * 1024 * MIB,
        title="Largest single upload",
        description="The largest body of one PUT (an object or a part); larger bodies are refused (413) unread.",
    )
    max_json_bytes: int = Field(
        default=64 * 1024, ge=1024, le=MIB, title="Largest JSON body", description="Every other request body."
    )
    part_bytes: int = Field(
        default=8 * MIB,
        ge=S3_MIN_PART_BYTES,
        title="Multipart part size",
        description="The part size handed to hubs for multipart uploads (S3 needs at least 5 MiB).",
    )
    clock_window_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        title="Clock window",
        description="A signed request whose timestamp is further from the server's clock is refused.",
    )
    pairing_code_minutes: int = Field(
        default=10, ge=1, le=60, title="Pairing code lifetime", description="How long a pairing code works."
    )
    invitation_days: int = Field(
        default=7, ge=1, le=90, title="Invitation lifetime", description="How long an invitation code works."
    )
    session_days: int = Field(
        default=30, ge=1, le=365, title="Session lifetime", description="How long an account stays signed in."
    )


class ScreeningConfig(StrictModel):
    """The cloud's own NudeNet screen of each donated copy before it enters the queue."""

    refuse_classes: list[str] = Field(
        default_factory=lambda: exposed_classes(),
        min_length=1,
        title="Refused classes",
        description="NudeNet classes that refuse a copy (the hub's screen refuses the same by default).",
    )
    min_score: float = Field(
        default=0.45, gt=0.0, lt=1.0, title="Minimum score", description="A class found at this score or more refuses."
    )
    frames_per_second: float = Field(
        default=2.0, gt=0.0, le=30.0, title="Frames per second", description="How many frames a second are checked."
    )

    @model_validator(mode="after")
    def _known_classes(self) -> ScreeningConfig:
        """Refuse a class NudeNet does not report (it would never refuse anything)."""
        from homewarden.detect.body_parts import NUDENET_CLASSES

        unknown = sorted(set(self.refuse_classes) - set(NUDENET_CLASSES))
        if unknown:
            raise ValueError(f"unknown NudeNet classes {', '.join(unknown)}; known: {', '.join(NUDENET_CLASSES)}")
        return self


def exposed_classes() -> list[str]:
    """Return the classes the hub's screen refuses by default (imported here only: it pulls in OpenCV)."""
    from homewarden.privacy.screening import EXPOSED_CLASSES

    return sorted(EXPOSED_CLASSES)


class ReviewConfig(StrictModel):
    """The review program: where its key lives, its periods, its screen and the workbench's quota and links."""

    key_folder: Path = Field(
        default=Path("homewarden-cloud-data/review-keys"),
        title="Program key folder",
        description=(
            "Where the review program's private keys are kept (folder 0700, files 0600), apart from the database; "
            "created with the first key. Every API process and worker reads it."
        ),
    )
    sweep_every_seconds: int = Field(
        default=60,
        ge=5,
        le=60,
        title="Donation sweep period",
        description="How often expired donations are deleted and copies stuck in screening are screened again.",
    )
    checkpoint_every_seconds: int = Field(
        default=3600,
        ge=10,
        le=3600,
        title="Checkpoint period",
        description="How often the audit chain's head is signed (when it moved).",
    )
    screening: ScreeningConfig = Field(
        default_factory=ScreeningConfig, title="Screening", description="The cloud's screen of each donated copy."
    )
    daily_quota: int = Field(
        default=150,
        ge=1,
        le=10000,
        title="Daily quota",
        description="How many clips one reviewer may be handed per day (UTC); `next` beyond it is refused.",
    )
    media_link_seconds: int = Field(
        default=60,
        ge=10,
        le=600,
        title="Media link lifetime",
        description="How long a single-use link to a watermarked clip works once it is ready.",
    )
    watermark_wait_seconds: int = Field(
        default=60,
        ge=5,
        le=600,
        title="Watermark wait",
        description="How long a request for a media link waits for the worker burning the watermark in.",
    )
    staff_session_hours: int = Field(
        default=12,
        ge=1,
        le=168,
        title="Staff session lifetime",
        description="How long a reviewer's or admin's sign-in lasts before two-factor sign-in is asked again.",
    )


class TrainingConfig(StrictModel):
    """The false-alarm verifier's training loop: how often it looks for new labels or a withdrawal, and its split."""

    every_seconds: int = Field(
        default=120,
        ge=5,
        le=86400,
        title="Training period",
        description=(
            "How often a worker looks for new labels or a model to replace after a withdrawal; a look that finds "
            "nothing new reads only the label rows. Disgorgement takes at most this plus the training time."
        ),
    )
    shards: int = Field(
        default=4,
        ge=1,
        le=64,
        title="Shards",
        description="Donations are split into this many shards (SISA): a withdrawal retrains one shard only.",
    )
    evaluation_percent: int = Field(
        default=20,
        ge=0,
        le=90,
        title="Evaluation share",
        description=(
            "The share of donations (chosen by a hash of the donation id, so always the same ones) kept out of "
            "training to judge every model on; 0 keeps none (a new model is then promoted only when none is)."
        ),
    )


class CloudConfig(StrictModel):
    """The whole of ``cloud.yaml``."""

    database_url: str = Field(
        default="sqlite:///homewarden-cloud-data/cloud.db",
        min_length=1,
        title="Database URL",
        description="PostgreSQL (postgresql+psycopg://user@host/db) for a service; SQLite for a one-machine trial.",
    )
    object_store: ObjectStoreConfig = Field(
        default_factory=FolderStoreConfig,
        title="Object store",
        description="Where sealed objects are kept: `type: s3` or `type: folder`.",
    )
    tasks: TasksConfig = Field(default_factory=TasksConfig, title="Tasks", description="Celery broker and periods.")
    signup: Literal["open", "invitation"] = Field(
        default="invitation",
        title="Sign-up",
        description="'open': anyone may make an account; 'invitation': an operator's invitation code is needed.",
    )
    homes: HomeDefaults = Field(default_factory=HomeDefaults, title="Homes", description="Defaults of a new home.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig, title="Limits", description="Sizes and times.")
    review: ReviewConfig = Field(
        default_factory=ReviewConfig,
        title="Review program",
        description="The program key, its sweep and screen, and the reviewers' workbench.",
    )
    training: TrainingConfig = Field(
        default_factory=TrainingConfig,
        title="Training",
        description="The false-alarm verifier trained from reviewers' labels (docs/training.md).",
    )

    @model_validator(mode="after")
    def _verify(self) -> CloudConfig:
        verify_part_fits_one_request(self)
        return self


def verify_part_fits_one_request(config: CloudConfig) -> None:
    """Refuse a part size that one request could not carry."""
    if config.limits.part_bytes > config.limits.max_object_bytes:
        raise ValueError(
            f"limits.part_bytes ({config.limits.part_bytes}) is larger than limits.max_object_bytes "
            f"({config.limits.max_object_bytes}): a part could never be uploaded"
        )


def load_cloud_config(path: Path) -> CloudConfig:
    """Read and validate ``cloud.yaml``; a problem is one ``CloudConfigError`` naming the key."""
    try:
        data = read_mapping(path)
    except YamlFileError as error:
        raise CloudConfigError(f"{path}: {_UNREADABLE[error.why]}{_detail(error)}") from None
    return validate_cloud_config(data, origin=str(path))


# The cloud's operators read English (docs/cloud.md); the hub words the same failures in its user's language.
_UNREADABLE = {
    Unreadable.MISSING: "no such config file",
    Unreadable.CANNOT_READ: "cannot read config file",
    Unreadable.NOT_YAML: "not valid YAML",
    Unreadable.NOT_A_MAPPING: "the top level must be a mapping of sections",
}


def _detail(error: YamlFileError) -> str:
    if error.why is Unreadable.CANNOT_READ:
        return f" ({error.problem})"
    if error.why is Unreadable.NOT_YAML and error.line is not None:
        return f" at line {error.line}, column {error.column}"
    return ""


def validate_cloud_config(data: dict[str, Any], origin: str = "cloud config") -> CloudConfig:
    """Validate a config mapping, naming the key of every problem."""
    try:
        return CloudConfig.model_validate(data)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False):
            # The discriminated union puts the chosen type in the path (object_store.s3.bucket): drop it.
            where = ".".join(str(part) for part in problem["loc"] if part not in ("s3", "folder"))
            message = str(problem["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise CloudConfigError(f"{origin}: " + "; ".join(problems)) from None
