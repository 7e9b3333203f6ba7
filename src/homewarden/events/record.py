"""What a finished event is, as the pipeline hands it to the store and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClipRecord:
    """One MP4 file covering part of an event (an event longer than a clip continues in the next one)."""

    path: str
    start: float
    end: float


@dataclass(frozen=True)
class EventRecord:
    """A finished event: one tracked object from its first to its last detection.

    ``start`` and ``end`` are seconds from the beginning of the video for files, and Unix
    seconds (UTC) for live sources; ``live`` tells which.
    """

    id: str
    camera: str
    label: str
    score: float
    start: float
    end: float
    live: bool
    box: tuple[int, int, int, int]
    snapshot: str | None
    clips: tuple[ClipRecord, ...] = ()
    zones: tuple[str, ...] = ()
    alarm: bool = False
    alarm_reason: str | None = None
    sub_label: str | None = None
    source: str = ""
    clip_error: str | None = None
    # The intrusion (events/intrusions.py) a person event belongs to; None for other events.
    intrusion_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
