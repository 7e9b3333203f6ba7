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
    # When `box` (and the snapshot) was seen: the best sighting's moment, on the clock of `start` and `end`. None where
    # no one sighting gives the box (a doorbell ring), and for events stored before migration 0014.
    box_time: float | None = None


@dataclass(frozen=True)
class IntrusionRecord:
    """A stored intrusion as one caller may see it: its events on the cameras they may watch, oldest first."""

    id: str
    events: tuple[EventRecord, ...]

    @property
    def start(self) -> float:
        """Return when its first person appeared."""
        return min(event.start for event in self.events)

    @property
    def end(self) -> float:
        """Return when its last person was last seen."""
        return max(event.end for event in self.events)

    @property
    def alarm(self) -> bool:
        """Return whether any of its people raised an alarm."""
        return any(event.alarm for event in self.events)

    @property
    def cameras(self) -> tuple[str, ...]:
        """Return its cameras, by name."""
        return tuple(sorted({event.camera for event in self.events}))
