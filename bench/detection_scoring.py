"""Score `homewarden analyze` events against a ground-truth manifest of intervals (used by bench/detection_eval.py).

The manifest is a JSON list with one object per clip, as ../shared/datasets/real/manifest.json:

- `file`: the clip's name inside the folder; `duration`: its length in seconds;
- `persons`: `[start, end]` intervals in which a person is in view; each one counts as one visit. A visit may say
  where its people are: `[start, end, TRACK, ...]`, one TRACK per person or small group, each a list of keyframes
  `[t, x1, y1, x2, y2]` (seconds from the clip's start, strictly increasing, within the visit ±EDGE; a generous box in
  the clip's pixels). A track's box is linear between keyframes and held at its first and last one. A visit without
  tracks (a crowd, a moving camera; more than MAX_TRACKS people) is scored by time alone;
- `animals`: `[start, end, species]`; `vehicles`: `[start, end]`, `[start, end, kind]` or
  `[start, end, kind, "parked" | "moving"]`;
- `ignore` (optional): `[start, end]` or `[start, end, reason]` spans in which whether a person is in view is uncertain
  (a figure a few pixels tall, a hand going out of view). Nothing about persons is scored there: a visit lying wholly
  inside one is not counted, and an event or alarm touching one is neither false nor pet-only. `[start, end, reason,
  [x1, y1, x2, y2]]` says where the uncertain figure is: a person event with a box is then excused (not false) only
  if its centre lies in that box enlarged by GROWTH;
- `notes` and any other key are for people and are not read.

A person event is on a visit when it overlaps the visit in time and, if the visit has tracks and the event a box
(`analyze --json` prints one per event: where it was seen with its best score, and `box_time`, when), the centre of
the event's box lies inside one of the visit's track boxes enlarged by GROWTH at the box's time (±EDGE, for the
annotation's keyframes). An event without `box_time` (JSON from before it was printed) is matched at any moment of
the event (±EDGE), which is generous for a long event: a track passing its box's centre once counts. The centre,
not any overlap: a post a few pixels beside a standing person overlaps the person's box once both are enlarged, and
an event on it is no person found. Event boxes are at the detect size, which is the clip's own
for clips up to 1280 pixels wide under the default config; a config with another detect size makes boxes
incomparable. A person event on no visit is a false person event, even inside a visit's time.

Person alarms count what the household is alarmed by: one per intrusion (the `intrusion` key `analyze --json` prints),
however many of its people's events alarmed; an alarmed event without an intrusion counts alone. Only alarms of events
on a visit count. A pet-only alarm is judged by time alone (animals have no boxes): an alarm touching an animal
interval and no person interval. An animal event touching no animal interval is a false animal event (by time: a
dog event on a seated crowd, a `bird` on walkers seen from above); it raises no alarm, but the household sees it.

Interval edges are read as ±EDGE seconds: an event counts as overlapping an interval if it comes within EDGE of it.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

EDGE = 0.5
# A track's box is enlarged by this share of its width and height (half on each side) before an event's centre is
# looked for in it: the annotated boxes are generous already, this absorbs a detector box that sits a little off.
GROWTH = 0.25
VEHICLE_LABELS = frozenset({"car", "truck", "bus", "motorcycle", "bicycle", "train", "boat", "airplane"})
ANIMAL_LABELS = frozenset({"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"})
SECONDS_PER_HOUR = 3600.0
# More tracks than this in one visit is a crowd: leave it without tracks.
MAX_TRACKS = 8


class ManifestError(ValueError):
    """A manifest that cannot be read as ground truth; the message names the clip and the key."""


@dataclass(frozen=True)
class Interval:
    """A span of a clip in seconds from its start."""

    start: float
    end: float

    def overlaps(self, other: Interval, slack: float = EDGE) -> bool:
        """Say whether the two spans meet once each is widened by `slack` on both sides."""
        return self.start <= other.end + slack and other.start <= self.end + slack

    def __str__(self) -> str:
        """Return the span as the manifest writes it."""
        return f"[{self.start:g}, {self.end:g}]"

    def within(self, other: Interval) -> bool:
        """Say whether this span lies wholly inside the other one."""
        return other.start <= self.start and self.end <= other.end


Box = tuple[float, float, float, float]


def box_centre(box: Box) -> tuple[float, float]:
    """Return the centre of an (x1, y1, x2, y2) box."""
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def enlarged(box: Box, share: float = GROWTH) -> Box:
    """Return the box enlarged by `share` of its width and height, about its centre."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * share / 2, (y2 - y1) * share / 2
    return (x1 - dx, y1 - dy, x2 + dx, y2 + dy)


def inside(point: tuple[float, float], box: Box) -> bool:
    """Say whether the point lies in the box (edges included)."""
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


@dataclass(frozen=True)
class Track:
    """Where one person (or a small group) of a visit is: a box at keyframe times, linear in between."""

    keyframes: tuple[tuple[float, Box], ...]

    def box_at(self, at: float) -> Box:
        """Return the box at a moment, held at the first and last keyframe outside their span."""
        (first_at, first), (last_at, last) = self.keyframes[0], self.keyframes[-1]
        if at <= first_at:
            return first
        if at >= last_at:
            return last
        for (t0, b0), (t1, b1) in pairwise(self.keyframes):
            if t0 <= at <= t1:
                share = (at - t0) / (t1 - t0)
                return (
                    b0[0] + (b1[0] - b0[0]) * share,
                    b0[1] + (b1[1] - b0[1]) * share,
                    b0[2] + (b1[2] - b0[2]) * share,
                    b0[3] + (b1[3] - b0[3]) * share,
                )
        return last

    def reaches(self, point: tuple[float, float], span: Interval) -> bool:
        """Say whether the point lies in the enlarged box at some moment of the span (solved exactly, not sampled)."""
        grown = [(at, enlarged(box)) for at, box in self.keyframes]
        (first_at, first), (last_at, last) = grown[0], grown[-1]
        if (span.start <= first_at and inside(point, first)) or (span.end >= last_at and inside(point, last)):
            return True
        for (t0, b0), (t1, b1) in pairwise(grown):
            low, high = max(t0, span.start), min(t1, span.end)
            if low <= high and moving_box_holds(point, b0, b1, (low - t0) / (t1 - t0), (high - t0) / (t1 - t0)):
                return True
        return False


def moving_box_holds(point: tuple[float, float], start: Box, end: Box, low: float, high: float) -> bool:
    """Say whether the point is in the box moving linearly from `start` to `end` at some share in [low, high]."""
    # Each edge is linear in the share s, so "the point is inside" is four conditions a + b * s <= 0, each of which
    # bounds s from one side.
    px, py = point
    conditions = (
        (start[0] - px, end[0] - start[0]),  # left edge at or left of the point
        (start[1] - py, end[1] - start[1]),  # top edge at or above it
        (px - start[2], start[2] - end[2]),  # right edge at or right of it
        (py - start[3], start[3] - end[3]),  # bottom edge at or below it
    )
    for constant, slope in conditions:
        if slope > 0:
            high = min(high, -constant / slope)
        elif slope < 0:
            low = max(low, -constant / slope)
        elif constant > 0:
            return False
    return low <= high


@dataclass(frozen=True)
class Visit(Interval):
    """A person visit: its span and, when annotated, where its people are (no tracks: scored by time alone)."""

    tracks: tuple[Track, ...] = ()


@dataclass(frozen=True)
class Ignored(Interval):
    """A span in which whether a person is in view is uncertain; `box`: where, when the manifest says so."""

    box: Box | None = None

    def excuses(self, event: SeenEvent) -> bool:
        """Say whether a person event is not to be called false because of this span."""
        if not event.span.overlaps(self):
            return False
        return self.box is None or event.box is None or inside(box_centre(event.box), enlarged(self.box))


@dataclass(frozen=True)
class VehicleTruth:
    """A vehicle interval: which kind, and whether it stands parked or moves (None when the manifest does not say)."""

    span: Interval
    kind: str | None
    state: str | None


@dataclass(frozen=True)
class ClipTruth:
    """What a clip shows, as the manifest annotates it."""

    file: str
    duration: float
    persons: tuple[Visit, ...]
    animals: tuple[tuple[Interval, str], ...] = ()
    vehicles: tuple[VehicleTruth, ...] = ()
    ignore: tuple[Ignored, ...] = ()


@dataclass(frozen=True)
class SeenEvent:
    """The part of an event `analyze --json` prints that scoring reads."""

    label: str
    start: float
    end: float
    alarm: bool
    # The intrusion the event belongs to (person events of one intrusion are one alarm); None: an alarm of its own.
    intrusion: str | None = None
    # Where it was seen (its best sighting); None: scored by time alone.
    box: Box | None = None
    # When the box was seen; None: the box is matched at any moment of the event.
    box_time: float | None = None

    @property
    def span(self) -> Interval:
        """Return the event's span."""
        return Interval(self.start, self.end)


@dataclass
class ClipScore:
    """The numbers of one clip (or of a whole folder, summed)."""

    file: str
    duration: float
    visits: int = 0
    visits_found: int = 0
    person_events: int = 0
    false_person_events: int = 0
    person_alarms: int = 0
    # Visits covered by an alarm (an alarmed person event overlaps them): fewer alarms must not mean unalarmed visits.
    visits_alarmed: int = 0
    pet_only_alarms: int = 0
    animals: int = 0
    animals_found: int = 0
    false_animal_events: int = 0
    vehicle_events: int = 0
    parked_vehicle_events: int = 0
    delays: list[float] = field(default_factory=list)
    # How many person events are on each scored visit, in the manifest's order (0: missed; a pair makes two).
    events_per_visit: list[int] = field(default_factory=list)
    # Visits split into several events: one of their tracks (a person) has more than one person event on it, the
    # visitor lost and found again as someone new. A visit without tracks (a crowd) is never counted here.
    split_visits: int = 0

    @property
    def recall(self) -> float | None:
        """Return the share of visits that became a person event (None without visits)."""
        return self.visits_found / self.visits if self.visits else None

    @property
    def false_per_hour(self) -> float:
        """Return false person events per hour of video."""
        return self.false_person_events / (self.duration / SECONDS_PER_HOUR) if self.duration > 0 else 0.0

    @property
    def alarms_per_visit(self) -> float | None:
        """Return person alarms per visit (None without visits)."""
        return self.person_alarms / self.visits if self.visits else None

    @property
    def median_delay(self) -> float | None:
        """Return the median delay from a visit's start to its first person event (None when no visit was found)."""
        return statistics.median(self.delays) if self.delays else None

    @property
    def max_delay(self) -> float | None:
        """Return the longest such delay."""
        return max(self.delays) if self.delays else None

    def as_json(self) -> dict[str, Any]:
        """Return the counts and the derived rates as plain JSON values."""

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "file": self.file,
            "duration": round(self.duration, 2),
            "visits": self.visits,
            "visits_found": self.visits_found,
            "recall": rounded(self.recall),
            "person_events": self.person_events,
            "false_person_events": self.false_person_events,
            "false_person_events_per_hour": rounded(self.false_per_hour),
            "person_alarms": self.person_alarms,
            "person_alarms_per_visit": rounded(self.alarms_per_visit),
            "visits_alarmed": self.visits_alarmed,
            "pet_only_alarms": self.pet_only_alarms,
            "animals": self.animals,
            "animals_found": self.animals_found,
            "false_animal_events": self.false_animal_events,
            "vehicle_events": self.vehicle_events,
            "parked_vehicle_events": self.parked_vehicle_events,
            "person_events_per_visit": list(self.events_per_visit),
            "split_visits": self.split_visits,
            "delays": [round(delay, 2) for delay in self.delays],
            "median_delay": rounded(self.median_delay),
            "max_delay": rounded(self.max_delay),
        }


def touches_any(span: Interval, others: Iterable[Interval]) -> bool:
    """Say whether the span overlaps any of the others (edges ±EDGE)."""
    return any(span.overlaps(other) for other in others)


def is_on(event: SeenEvent, visit: Visit) -> bool:
    """Say whether a person event is on the visit: in its time and, where both have boxes, on one of its tracks."""
    if not event.span.overlaps(visit):
        return False
    if not visit.tracks or event.box is None:
        return True
    return any(on_track(event, track) for track in visit.tracks)


def on_track(event: SeenEvent, track: Track) -> bool:
    """Say whether a person event's box lies on the track when it was seen (any time of the event if not known)."""
    if event.box is None:
        return False
    seen = (event.start, event.end) if event.box_time is None else (event.box_time, event.box_time)
    return track.reaches(box_centre(event.box), Interval(seen[0] - EDGE, seen[1] + EDGE))


def is_split(visit: Visit, people: Sequence[SeenEvent]) -> bool:
    """Say whether one of the visit's tracks has more than one person event on it.

    An event on several tracks (two people side by side, their generous boxes overlapping) counts for the one whose
    box's centre is nearest its own when it was seen (mid-event when that is not known).
    """
    counts = [0] * len(visit.tracks)
    for event in people:
        if event.box is None or not event.span.overlaps(visit):
            continue
        on = [index for index, track in enumerate(visit.tracks) if on_track(event, track)]
        if not on:
            continue
        at = event.box_time if event.box_time is not None else (event.start + event.end) / 2
        cx, cy = box_centre(event.box)

        def distance(index: int, at: float = at, cx: float = cx, cy: float = cy) -> float:
            tx, ty = box_centre(visit.tracks[index].box_at(at))
            return (tx - cx) ** 2 + (ty - cy) ** 2

        counts[min(on, key=distance)] += 1
    return any(count > 1 for count in counts)


def score_clip(truth: ClipTruth, events: Sequence[SeenEvent]) -> ClipScore:
    """Score one clip's events against its ground truth."""
    score = ClipScore(truth.file, truth.duration)
    people = [event for event in events if event.label == "person"]
    score.person_events = len(people)
    visits = [visit for visit in truth.persons if not any(visit.within(span) for span in truth.ignore)]
    score.visits = len(visits)
    for visit in visits:
        starts = [event.start for event in people if is_on(event, visit)]
        score.events_per_visit.append(len(starts))
        score.split_visits += is_split(visit, people)
        if starts:
            score.visits_found += 1
            # An event starting a little before the annotated edge is within the edge's tolerance: no delay.
            score.delays.append(max(0.0, min(starts) - visit.start))
    alarms: set[str | int] = set()
    for index, event in enumerate(people):
        if not any(is_on(event, visit) for visit in truth.persons) and not any(
            span.excuses(event) for span in truth.ignore
        ):
            score.false_person_events += 1
        if event.alarm and any(is_on(event, visit) for visit in visits):
            # What the household is alarmed by is the intrusion: its people after the first only update it.
            alarms.add(event.intrusion if event.intrusion is not None else index)
    score.person_alarms = len(alarms)
    score.visits_alarmed = sum(1 for visit in visits if any(event.alarm and is_on(event, visit) for event in people))
    animal_spans = [span for span, _species in truth.animals]
    for event in events:
        if (
            event.alarm
            and touches_any(event.span, animal_spans)
            and not touches_any(event.span, truth.persons)
            and not touches_any(event.span, truth.ignore)
        ):
            score.pet_only_alarms += 1
    score.animals = len(animal_spans)
    score.animals_found = sum(
        1 for span in animal_spans if any(e.label in ANIMAL_LABELS and e.span.overlaps(span) for e in events)
    )
    score.false_animal_events = sum(
        1 for e in events if e.label in ANIMAL_LABELS and not touches_any(e.span, animal_spans)
    )
    parked = [vehicle.span for vehicle in truth.vehicles if vehicle.state == "parked"]
    moving = [vehicle.span for vehicle in truth.vehicles if vehicle.state != "parked"]
    for event in events:
        if event.label in VEHICLE_LABELS:
            score.vehicle_events += 1
            # Without boxes in the manifest, an event is known to be on a parked vehicle only where nothing moves.
            if touches_any(event.span, parked) and not touches_any(event.span, moving):
                score.parked_vehicle_events += 1
    return score


def total_score(scores: Iterable[ClipScore]) -> ClipScore:
    """Sum clip scores into one for the whole folder (rates are then over all clips together)."""
    total = ClipScore("total", 0.0)
    for score in scores:
        total.duration += score.duration
        total.visits += score.visits
        total.visits_found += score.visits_found
        total.person_events += score.person_events
        total.false_person_events += score.false_person_events
        total.person_alarms += score.person_alarms
        total.visits_alarmed += score.visits_alarmed
        total.pet_only_alarms += score.pet_only_alarms
        total.animals += score.animals
        total.animals_found += score.animals_found
        total.false_animal_events += score.false_animal_events
        total.vehicle_events += score.vehicle_events
        total.parked_vehicle_events += score.parked_vehicle_events
        total.delays.extend(score.delays)
        total.events_per_visit.extend(score.events_per_visit)
        total.split_visits += score.split_visits
    return total


def parse_manifest(data: Any) -> list[ClipTruth]:
    """Read a manifest's JSON value; raise ManifestError naming the clip and key that are wrong."""
    if not isinstance(data, list):
        raise ManifestError("the manifest must be a JSON list with one object per clip")
    return [parse_clip(entry, index) for index, entry in enumerate(data)]


def parse_clip(entry: Any, index: int) -> ClipTruth:
    """Read one clip's entry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise ManifestError(f"entry {index}: needs an object with a `file` name")
    name = entry["file"]
    duration = entry.get("duration")
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration <= 0:
        raise ManifestError(f"{name}: `duration` must be a positive number of seconds")

    def spans(key: str, min_items: int, max_items: int) -> list[tuple[Interval, list[Any]]]:
        items = entry.get(key, [])
        if not isinstance(items, list):
            raise ManifestError(f"{name}: `{key}` must be a list of intervals")
        result = []
        for item in items:
            if (
                not isinstance(item, list)
                or not min_items <= len(item) <= max_items
                or not all(isinstance(edge, int | float) and not isinstance(edge, bool) for edge in item[:2])
                or item[0] > item[1]
            ):
                raise ManifestError(f"{name}: `{key}` item {item!r} is not [start, end, ...] with start <= end")
            result.append((Interval(float(item[0]), float(item[1])), item[2:]))
        return result

    animals = []
    for span, rest in spans("animals", 2, 3):
        animals.append((span, str(rest[0]) if rest else "animal"))
    vehicles = []
    for span, rest in spans("vehicles", 2, 4):
        state = rest[1] if len(rest) > 1 else None
        if state not in (None, "parked", "moving"):
            raise ManifestError(f"{name}: `vehicles` state {state!r} must be 'parked' or 'moving'")
        vehicles.append(VehicleTruth(span, str(rest[0]) if rest else None, state))
    return ClipTruth(
        file=name,
        duration=float(duration),
        persons=tuple(
            Visit(span.start, span.end, tuple(parse_track(track, span, f"{name}: `persons` {span}") for track in rest))
            for span, rest in spans("persons", 2, MAX_TRACKS + 2)
        ),
        animals=tuple(animals),
        vehicles=tuple(vehicles),
        ignore=tuple(parse_ignored(span, rest, f"{name}: `ignore` {span}") for span, rest in spans("ignore", 2, 4)),
    )


def parse_track(data: Any, visit: Interval, where: str) -> Track:
    """Read one track of a visit: keyframes `[t, x1, y1, x2, y2]`, in time order, within the visit."""
    if not isinstance(data, list) or not data:
        raise ManifestError(f"{where}: a track must be a non-empty list of [t, x1, y1, x2, y2] keyframes")
    keyframes: list[tuple[float, Box]] = []
    for item in data:
        if (
            not isinstance(item, list)
            or len(item) != 5
            or not all(isinstance(value, int | float) and not isinstance(value, bool) for value in item)
        ):
            raise ManifestError(f"{where}: keyframe {item!r} is not [t, x1, y1, x2, y2]")
        at, x1, y1, x2, y2 = (float(value) for value in item)
        if not (x1 < x2 and y1 < y2):
            raise ManifestError(f"{where}: keyframe {item!r} needs x1 < x2 and y1 < y2")
        if not visit.start - EDGE <= at <= visit.end + EDGE:
            raise ManifestError(f"{where}: keyframe {item!r} lies outside the visit")
        if keyframes and at <= keyframes[-1][0]:
            raise ManifestError(f"{where}: keyframe {item!r} is not after the one before it")
        keyframes.append((at, (x1, y1, x2, y2)))
    return Track(tuple(keyframes))


def parse_ignored(span: Interval, rest: list[Any], where: str) -> Ignored:
    """Read an ignored span's optional box (after its reason)."""
    if len(rest) < 2:
        return Ignored(span.start, span.end)
    box = rest[1]
    if (
        not isinstance(box, list)
        or len(box) != 4
        or not all(isinstance(value, int | float) and not isinstance(value, bool) for value in box)
        or not (box[0] < box[2] and box[1] < box[3])
    ):
        raise ManifestError(f"{where}: box {box!r} is not [x1, y1, x2, y2] with x1 < x2 and y1 < y2")
    return Ignored(span.start, span.end, (float(box[0]), float(box[1]), float(box[2]), float(box[3])))


def events_from_json_lines(text: str) -> list[SeenEvent]:
    """Read the events `homewarden analyze --json` printed, one JSON object a line."""
    events = []
    for line in text.splitlines():
        if line.strip():
            data = json.loads(line)
            intrusion, box, box_time = data.get("intrusion"), data.get("box"), data.get("box_time")
            events.append(
                SeenEvent(
                    str(data["label"]),
                    float(data["start"]),
                    float(data["end"]),
                    bool(data["alarm"]),
                    None if intrusion is None else str(intrusion),
                    None if box is None else (float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                    # A live source prints times as ISO text; only a clip's seconds are comparable with a manifest.
                    float(box_time) if isinstance(box_time, int | float) and box is not None else None,
                )
            )
    return events
