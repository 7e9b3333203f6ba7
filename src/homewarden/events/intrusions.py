"""Intrusions: person events close in time on one camera, or on cameras grouped as one area, become one alarm.

Frigate's "review items" are the model: the tracks stay separate events (each with its clips and face), the
household is told about and shown the intrusion that holds them. A person track joins the intrusion of its camera's
area that is still under way (one of its tracks is running) or that saw its last person less than
``alarm.group_window`` seconds before this track appeared; otherwise it opens a new one. Each track's alarm is still
decided by ``events/alarm.py``; the intrusion alarms when its first track does, and later alarming tracks only
update it. One ``IntrusionBoard`` is shared by every camera of a hub, so an area can span cameras.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from homewarden.faces.gallery import UNKNOWN

# A person's event starts a few detections after their first sighting, by which time the window measured from that
# sighting may have passed: an intrusion is kept this much longer, so that one who appeared within it still joins.
CONFIRMATION_SLACK = 5.0


@dataclass
class Member:
    """One person track of an intrusion: where and when, and what is known of it so far."""

    camera: str
    start: float
    end: float | None = None
    alarm: bool = False
    sub_label: str | None = None
    # The last sighting of a track still running, where the camera reports it (`IntrusionBoard.seen`): a track ends
    # only seconds after its person was last seen, and someone who appears in those seconds did not come with them.
    seen: float | None = None

    def last_sighting(self) -> float | None:
        """Return when this person was last seen, or None while in view as far as is known."""
        return self.end if self.end is not None else self.seen


@dataclass
class Intrusion:
    """Person tracks of one area that came close together in time."""

    id: str
    area: str
    members: dict[str, Member] = field(default_factory=dict)
    alarm_reason: str | None = None
    alarmed: bool = False

    @property
    def start(self) -> float:
        """Return when its first person appeared."""
        return min(member.start for member in self.members.values())

    def last_seen(self) -> float | None:
        """Return when its last person was seen, or None while one is still in view."""
        ends = [member.end for member in self.members.values()]
        if any(end is None for end in ends):
            return None
        return max(end for end in ends if end is not None)

    def snapshot(self) -> IntrusionSummary:
        """Return what the household is told about the intrusion now."""
        names = sorted({m.sub_label for m in self.members.values() if m.sub_label not in (None, UNKNOWN)})
        return IntrusionSummary(
            id=self.id,
            area=self.area,
            cameras=tuple(sorted({member.camera for member in self.members.values()})),
            events=tuple(self.members),
            people=len(self.members),
            names=tuple(name for name in names if name is not None),
            strangers=sum(1 for member in self.members.values() if member.sub_label == UNKNOWN),
            start=self.start,
            end=self.last_seen(),
            alarm=self.alarmed,
            alarm_reason=self.alarm_reason,
        )


@dataclass(frozen=True)
class IntrusionSummary:
    """An intrusion as channels announce it: its people (count, names, strangers), cameras and alarm."""

    id: str
    area: str
    cameras: tuple[str, ...]
    events: tuple[str, ...]
    people: int
    names: tuple[str, ...]
    strangers: int
    start: float
    end: float | None
    alarm: bool
    alarm_reason: str | None


@dataclass(frozen=True)
class AlarmOutcome:
    """What one track's alarm did to its intrusion: raised it (the first alarm: notify) or only updated it."""

    summary: IntrusionSummary
    first: bool


class IntrusionBoard:
    """The intrusions under way, shared by every camera (thread-safe)."""

    def __init__(self, window: float, areas: Mapping[str, Sequence[str]] | None = None) -> None:
        """Group person tracks within ``window`` seconds, per camera or per area (area name → its cameras)."""
        self.window = window
        self._area_of = {camera: f"area:{name}" for name, cameras in (areas or {}).items() for camera in cameras}
        self._lock = threading.Lock()
        self._open: dict[str, Intrusion] = {}
        self._of_track: dict[str, str] = {}

    def area_of(self, camera: str) -> str:
        """Return the key grouping a camera's intrusions: its area's, or its own."""
        return self._area_of.get(camera, f"camera:{camera}")

    def join(self, camera: str, track_id: str, start: float, end: float | None = None) -> IntrusionSummary:
        """Add a person track (idempotent) to its area's running intrusion, or open one; return the intrusion.

        ``end`` is when the person was last seen, for a track that is over by the time it is known to be a person.
        """
        with self._lock:
            intrusion = self._intrusion_of(track_id)
            if intrusion is None:
                area = self.area_of(camera)
                intrusion = self._running(area, start)
                if intrusion is None:
                    intrusion = Intrusion(uuid.uuid4().hex, area)
                    self._open[intrusion.id] = intrusion
                intrusion.members[track_id] = Member(camera, start, end)
                self._of_track[track_id] = intrusion.id
            return intrusion.snapshot()

    def intrusion_of(self, track_id: str) -> str | None:
        """Return the id of the intrusion a track joined, if it did."""
        with self._lock:
            return self._of_track.get(track_id)

    def summary_of(self, track_id: str) -> IntrusionSummary | None:
        """Return the intrusion a track joined, as it is now (None if it joined none, or it is over)."""
        with self._lock:
            intrusion = self._intrusion_of(track_id)
            return None if intrusion is None else intrusion.snapshot()

    def identify(self, track_id: str, sub_label: str | None) -> None:
        """Note who a track is (a member's name, or UNKNOWN for a stranger's face)."""
        with self._lock:
            intrusion = self._intrusion_of(track_id)
            if intrusion is not None:
                intrusion.members[track_id].sub_label = sub_label

    def alarm(self, track_id: str, reason: str | None) -> AlarmOutcome | None:
        """Record that a member track alarmed; return whether that raised its intrusion (None if it joined none)."""
        with self._lock:
            intrusion = self._intrusion_of(track_id)
            if intrusion is None:
                return None
            intrusion.members[track_id].alarm = True
            first = not intrusion.alarmed
            if first:
                intrusion.alarmed, intrusion.alarm_reason = True, reason
            return AlarmOutcome(intrusion.snapshot(), first)

    def leave(self, track_id: str) -> IntrusionSummary | None:
        """Take out a track that turned out not to be a person; return its intrusion as it is now (None if gone)."""
        with self._lock:
            intrusion_id = self._of_track.pop(track_id, None)
            intrusion = self._open.get(intrusion_id or "")
            if intrusion is None:
                return None
            intrusion.members.pop(track_id, None)
            if not intrusion.members:
                del self._open[intrusion.id]
                return None
            return intrusion.snapshot()

    def seen(self, track_id: str, at: float) -> None:
        """Note that a member track's person was seen at ``at`` (their track has not ended)."""
        with self._lock:
            intrusion = self._intrusion_of(track_id)
            if intrusion is not None:
                intrusion.members[track_id].seen = at

    def end(self, track_id: str, at: float) -> IntrusionSummary | None:
        """Note that a member track's person is gone at ``at``; return its intrusion as it is now."""
        with self._lock:
            intrusion = self._intrusion_of(track_id)
            if intrusion is None:
                return None
            intrusion.members[track_id].end = at
            return intrusion.snapshot()

    def expire(self, now: float, area: str | None = None) -> list[IntrusionSummary]:
        """Close the intrusions (of one area, or all) whose last person left more than the window ago; return them."""
        closed = []
        with self._lock:
            for intrusion in list(self._open.values()):
                if area is not None and intrusion.area != area:
                    continue
                last = intrusion.last_seen()
                if last is not None and now - last > self.window + CONFIRMATION_SLACK:
                    del self._open[intrusion.id]
                    for track_id in intrusion.members:
                        self._of_track.pop(track_id, None)
                    closed.append(intrusion.snapshot())
        return closed

    def _intrusion_of(self, track_id: str) -> Intrusion | None:
        return self._open.get(self._of_track.get(track_id, ""))

    def _running(self, area: str, start: float) -> Intrusion | None:
        """Return the area's intrusion a person appearing at ``start`` belongs to, if any (the latest)."""
        found = None
        for intrusion in self._open.values():
            if intrusion.area != area:
                continue
            sightings = [member.last_sighting() for member in intrusion.members.values()]
            last = None if None in sightings else max(s for s in sightings if s is not None)
            if (last is None or start - last <= self.window) and (found is None or intrusion.start > found.start):
                found = intrusion
        return found
