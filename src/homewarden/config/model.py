"""The YAML configuration tree: strict, every field with a default, bounds and a description."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Point = tuple[float, float]
Polygon = Annotated[list[Point], Field(min_length=3, description="Points (x, y) in detect-size pixels.")]

DEFAULT_LABELS: tuple[str, ...] = ("person", "cat", "dog", "car", "bicycle", "motorcycle", "bird")


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
    threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        title="Event threshold",
        description="An object becomes an event once the median score of its detections reaches this.",
    )
    min_area: int = Field(
        default=400,
        ge=0,
        title="Minimum area",
        description="Boxes smaller than this many pixels (at detect size) are ignored.",
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


class ZoneConfig(StrictModel):
    """A named area; events record the zones their object entered."""

    coordinates: Polygon
    objects: list[str] = Field(
        default_factory=list, description="Labels that count in this zone; every label when empty."
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
    enabled: bool = Field(default=True, description="Whether the camera runs.")
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


class StorageConfig(StrictModel):
    """Where media and the database live."""

    folder: Path = Field(
        default=Path("homewarden-data"), description="Folder for clips, snapshots and the default database."
    )
    database_url: str | None = Field(
        default=None,
        description=("SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...); SQLite in the folder if unset."),
    )

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file inside the storage folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.folder / 'homewarden.db').resolve()}"


class HomewardenConfig(StrictModel):
    """The whole configuration file."""

    cameras: dict[str, CameraConfig] = Field(default_factory=dict, description="Cameras by name.")
    detector: DetectorConfig = Field(default_factory=NanoDetConfig)
    objects: ObjectsConfig = Field(default_factory=ObjectsConfig)
    record: RecordConfig = Field(default_factory=RecordConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)

    @model_validator(mode="after")
    def _verify(self) -> HomewardenConfig:
        verify_camera_names(self)
        verify_tracked_labels(self)
        verify_zone_labels(self)
        verify_record_lengths(self)
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


def verify_tracked_labels(config: HomewardenConfig) -> None:
    """Refuse labels the detector cannot produce."""
    known = set(detector_labels(config.detector))
    sections = [("objects", config.objects)] + [
        (f"cameras.{name}.objects", cam.objects) for name, cam in config.cameras.items() if cam.objects
    ]
    for where, section in sections:
        for label in [*section.track, *section.filters]:
            if label not in known:
                raise ValueError(f"{where}: unknown label {label!r} (the detector knows {len(known)} labels)")


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
            raise ValueError(f"{where}: pre_roll + post_roll must be shorter than max_clip")


def detector_labels(detector: NanoDetConfig | YoloConfig) -> list[str]:
    """Return the class names a configured detector produces."""
    from homewarden.detect.labels import COCO_LABELS

    if isinstance(detector, YoloConfig) and detector.labels:
        return detector.labels
    return list(COCO_LABELS)
