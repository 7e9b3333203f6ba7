"""Which mode the home is in: the config's mode and weekly schedule, and a manual choice made while the hub runs.

A manual choice ("disarm now", "away now") holds from the moment it was set until the next schedule entry starts
after it, whatever that entry's mode: disarming at 19:00 lasts until the scheduled "away" at 08:00, and the schedule
is back in charge from then on. Without a schedule a manual choice holds until it is cleared or replaced. Replacing
the schedule keeps the manual choice, which then holds until the new schedule's next entry after it was set.
Docs: docs/faces.md (Arming modes).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from homewarden.config.model import WEEKDAYS, AlarmConfig, ArmingMode, ScheduleEntry, known_timezone

DAY_MINUTES = 24 * 60
# Every entry starts at least once a week; one day more covers an entry later on today's weekday.
LOOKAHEAD_DAYS = 8


def local_timezone() -> ZoneInfo:
    """Return the hub machine's time zone by name (UTC if it has none).

    By name, not by today's offset (what ``datetime.now().astimezone()`` gives): a fixed offset would put every
    schedule entry an hour off once daylight saving time begins or ends.
    """
    names = [os.environ.get("TZ", "").lstrip(":")]
    with suppress(OSError):
        names.append(os.readlink("/etc/localtime").partition("zoneinfo/")[2])
    with suppress(OSError):
        names.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in filter(None, names):
        with suppress(ValueError):
            return ZoneInfo(known_timezone(name))
    return ZoneInfo("UTC")


def schedule_timezone(alarm: AlarmConfig) -> ZoneInfo:
    """Return the home's time zone, which the schedule's times are in: the one chosen, else the hub machine's."""
    return ZoneInfo(alarm.timezone) if alarm.timezone else local_timezone()


def week_starts(schedule: Sequence[ScheduleEntry]) -> list[tuple[int, ArmingMode]]:
    """Return each entry's starts as (minute of the week from Monday 00:00, mode)."""
    starts = []
    for entry in schedule:
        hours, minutes = (int(part) for part in entry.at.split(":"))
        starts += [(WEEKDAYS.index(day) * DAY_MINUTES + hours * 60 + minutes, entry.mode) for day in entry.days]
    return starts


def mode_at(alarm: AlarmConfig, when: datetime) -> ArmingMode:
    """Return the mode at a moment: the latest schedule entry that has started (wrapping round the week)."""
    if not alarm.schedule:
        return alarm.mode
    local = when.astimezone(schedule_timezone(alarm))
    minute = local.weekday() * DAY_MINUTES + local.hour * 60 + local.minute
    starts = week_starts(alarm.schedule)
    started = [start for start in starts if start[0] <= minute]
    # Before the week's first entry, last week's last entry still holds.
    return max(started or starts, key=lambda start: start[0])[1]


def entry_starts_after(alarm: AlarmConfig, when: datetime) -> Iterator[tuple[datetime, ArmingMode]]:
    """Yield the schedule's entry starts strictly after a moment, in order, for the next LOOKAHEAD_DAYS days."""
    if not alarm.schedule:
        return
    zone = schedule_timezone(alarm)
    first_day: date = when.astimezone(zone).date()
    starts = sorted(week_starts(alarm.schedule), key=lambda start: start[0])
    for offset in range(LOOKAHEAD_DAYS):
        day = first_day + timedelta(days=offset)
        for minute_of_week, mode in starts:
            weekday, minute = divmod(minute_of_week, DAY_MINUTES)
            if weekday != day.weekday():
                continue
            start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
            if start > when:
                yield start, mode


@dataclass(frozen=True)
class ManualMode:
    """A mode chosen by hand while the hub runs; it holds until `until` (None: until cleared)."""

    mode: ArmingMode
    set_at: datetime
    set_by: str
    until: datetime | None

    def holds_at(self, when: datetime) -> bool:
        """Tell whether the choice is in force at a moment."""
        return self.set_at <= when and (self.until is None or when < self.until)


class ArmingState:
    """The home's arming mode, shared by every camera: the schedule plus an optional manual choice (thread-safe)."""

    def __init__(self, alarm: AlarmConfig) -> None:
        self._alarm = alarm
        self._manual: ManualMode | None = None
        self._lock = threading.Lock()

    @property
    def alarm(self) -> AlarmConfig:
        """Return the alarm settings whose mode, schedule and time zone are in force."""
        with self._lock:
            return self._alarm

    @property
    def manual(self) -> ManualMode | None:
        """Return the manual choice, even one that has since expired (mode_at tells whether it holds)."""
        with self._lock:
            return self._manual

    def set_manual(self, mode: ArmingMode, by: str, at: datetime | None = None) -> ManualMode:
        """Choose a mode by hand from a moment (now by default) until the next schedule entry starts."""
        at = at or datetime.now(UTC)
        if at.tzinfo is None:
            raise ValueError("the moment a mode is set must carry its time zone")
        with self._lock:
            self._manual = ManualMode(mode, at, by, self._first_start_after(at))
            return self._manual

    def clear_manual(self) -> None:
        """Hand the mode back to the schedule (or the configured mode)."""
        with self._lock:
            self._manual = None

    def replace_schedule(self, schedule: Sequence[ScheduleEntry], timezone: str | None) -> None:
        """Put a new weekly schedule in force; raise pydantic's ValidationError for an unknown time zone."""
        with self._lock:
            data = self._alarm.model_dump()
            data.update(schedule=[entry.model_dump() for entry in schedule], timezone=timezone)
            self._alarm = AlarmConfig.model_validate(data)
            if self._manual is not None:
                manual = self._manual
                self._manual = ManualMode(
                    manual.mode, manual.set_at, manual.set_by, self._first_start_after(manual.set_at)
                )

    def mode_at(self, when: datetime) -> ArmingMode:
        """Return the mode at a moment: a manual choice while it holds, else the schedule's."""
        with self._lock:
            alarm, manual = self._alarm, self._manual
        if manual is not None and manual.holds_at(when):
            return manual.mode
        return mode_at(alarm, when)

    def next_change(self, when: datetime) -> tuple[datetime, ArmingMode] | None:
        """Return when the schedule next changes the mode after a moment, and to what; None if it never does."""
        with self._lock:
            alarm = self._alarm
        current = self.mode_at(when)
        for start, _ in entry_starts_after(alarm, when):
            # An entry start ends any manual choice made before it, so the mode from then on is the schedule's.
            mode = self.mode_at(start)
            if mode != current:
                return start, mode
        return None

    def _first_start_after(self, moment: datetime) -> datetime | None:
        return next((start for start, _ in entry_starts_after(self._alarm, moment)), None)
