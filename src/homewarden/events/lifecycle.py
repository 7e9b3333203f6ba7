"""Turn tracked detections into events: confirmed by consistent detections, ended once the object is gone."""

from __future__ import annotations

import math
import statistics
import uuid
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.config.model import ObjectsConfig, StationaryConfig, ZoneConfig
from homewarden.detect.base import Detection, box_area, box_iou
from homewarden.detect.labels import ANIMAL_LABELS, NOT_PET_ANIMALS
from homewarden.faces.finder import head_region
from homewarden.track.bytetrack import TrackedDetection

Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]

MIN_HITS = 3
RECENT_SCORES = 10
# A detection overlapping an object's last box this much continues that object.
REATTACH_IOU = 0.3
REATTACH_GROWTH = 2.0
REATTACH_NEAR_SECONDS = 2.5
# A sighting is someone else, not a closer look at a confirmed object it lies next to, when it scores STRONG_MARGIN
# over its label's threshold, the object's recent median is under that, the object's box is at least
# VAGUE_WIDTH_SHARE times as wide as tall, and the sighting covers under NEAR_AREA_SHARE of the object's area: on a
# noisy night copy a wide box (503x397) the detector scored `person` 0.5 over an emptied room took the next visitor's
# sharp 0.67 sighting beside it, and with it the visitor's event (docs/benchmarks.md, nt16b). The shape keeps the rule
# off standing people (boxes 0.3-0.7 times as wide as tall): without it, in the gym crowd, it fired between 30 px
# gym-goers and reshuffled every event for no measurable gain. Overlap (REATTACH_IOU) and track ids still attach.
STRONG_MARGIN = 0.1
NEAR_AREA_SHARE = 0.5
VAGUE_WIDTH_SHARE = 1.0
# Lying next to such a vague, wide object counts for a sighting like an overlap of this much, not more: the visitor
# who stood with her back turned in the one-by-one clip's night copy (walk16) was followed onto the emptied room's
# `person` box (600x351 at 0.44) as she left; the next visitor's first sighting (0.76) stood apart from it, but her
# second (0.54, IoU 0.71 with the first) joined the wide object by nearness, and her visit its event. For people only:
# a cat or a car is wide anyway, and the rule split the unaltered dining-table cat's event in two. At night only, like
# WALK_TRAVEL whose finds it keeps apart: on colour pictures it cost the aerial crossing's 1080p copy its person event
# and reshuffled the crf 35 gym crowd's (docs/benchmarks.md, eleventh session).
VAGUE_NEAR = REATTACH_IOU
# Face lookup gets a person's best few frames, spread over the track: neighbouring frames show the same face.
MAX_PERSON_VIEWS = 6
PERSON_VIEW_SPACING = 0.5
RECENT_BOXES = 30
# A box overlapping the place an object stands still this much is the same object still standing there; less, and it
# has moved (detector boxes of a parked car jitter by a few pixels between looks).
STILL_IOU = 0.5
# A box away from the object's place (IoU below STILL_IOU) counts as a move only when its foot point (bottom centre)
# also shifted by this share of the place box's longer side: the detector's box of a small thing changes size by a few
# pixels between looks (a bollard 17x36 px read once as 18x68), which alone drops the IoU of small boxes below
# STILL_IOU, while a walker's foot travels.
MOVE_SHARE = 0.25
# A parked object moves off only when this many sightings in a row find it away from its place (one odd box is not a
# car pulling out).
MOVES_TO_UNPARK = 2
# Nor is a box that lies this much inside the parked place, or takes this much of it in: the detector splitting a
# parked car into halves in one crop and seeing it whole in the next (the parking lot's car at 910,62-955,103 read as
# 911,63-941,104 and 933,69-956,103 between looks unparked it, and its event started while nothing moved). A car
# pulling out leaves its place: a few sightings on, its box neither sits in it nor holds it.
PART_OF_PLACE = 0.9
# A person whose box is a parked object's place seen again (holding it or lying in it, PART_OF_PLACE) that was parked
# there at least this many seconds before the person was first found is that parked thing read as a person: it must
# travel (SMALL_TRAVEL) before it is an event, whatever motion touches it. On the parking lot, with motion read on other
# levels, a box around a parked car that had been parked as `car` for 20 s was found as a new `person` (0.38-0.52) at
# 37.7 s, a large crop's look matched it to a `car` box inside it while motion touched it, and it became a person alarm
# (docs/benchmarks.md, "Full-range pictures mapped"). Someone who walks up to a parked car has travelled on the way; a
# person the detector also calls a `car` in the same look is read a moment apart, not seconds. The parked object must
# also have been seen at least PARKED_HITS times (the parking lot's car: 60 by then): in the gym crowd, people whose
# first look said `bicycle` or `car` were parked after 4-8 sightings, and others standing at them were held back.
PARKED_BEFORE = 5.0
PARKED_HITS = 20
# A person first found while the camera runs becomes an event only once it has shown life: motion covering part of
# its box, or a sighting away from where it was first found. A real visitor walked in; a bollard, a coat on a hook or
# a statue the detector calls a person at 0.4-0.6 never moves and makes no motion (the parking lot's first "false"
# person alarm, docs/benchmarks.md). Frigate likewise raises review items only for objects with position changes. A
# person already in view when the camera starts is not held back: nobody saw them arrive.
MUST_MOVE_LABELS = frozenset({"person"})
# A person track is an animal that is not a pet (a distant cow, a horse) once this share of its score-weighted votes
# went to such animals, or while its box lies mostly on one (this share of the person box) seen at least MIN_HITS
# times: it raises no person event.
NOT_PET_SHARE = 0.1
ON_ANIMAL_COVER = 0.5
# The part of a box motion must cover to count as the object moving (a visitor walking in: 0.3-0.5).
ALIVE_MOTION_COVER = 0.25
# A person never seen as large as its label's min_area at detect size counts only because a small crop showed it
# enlarged to the detector, where NanoDet also scores bits of scenery `person` (0.3-0.5 around the parking lot's
# distant pedestrian): such a person must travel before it is an event, its foot point this many times its height away
# from where it was first found. A distant walker does so in a second or two; motion on it is not enough (wind in a
# tree makes motion too). A small person first found where the motion of a place ended, a place where the detector,
# looking during that motion, found nothing (camera/analyzer.py's watches), has travelled too: they walked in and
# stopped there. A post, a bush or a parked car the detector calls a person was there to be found at that first look
# (NanoDet scores static scenery alike in the same crop: the parking lot's post 0.4-0.57 whenever looked at), so no
# empty look precedes it; hidden from it by something passing, that motion ends beyond it.
SMALL_TRAVEL = 1.0
# Animals whose votes count only by what they beat `person` by on the same box (see label_vote).
LEGGED_ANIMALS = ANIMAL_LABELS - {"bird"}
# Such an animal's box that starts within TOP_EDGE pixels (detect size) of the picture's top edge and is taller than
# wide is more often a person's lower body, cut by the top edge (a doorbell or a camera on a shelf seeing a visitor
# from the waist down), than an animal: its `person` score counts TOP_EDGE_PERSON_WEIGHT times. On the one-by-one
# clip's bottom half every `cat` on a visitor starts at y 0-2.2 and is 1.06-1.65 times as tall as wide, `person`
# 0.17-0.39 beside `cat` 0.38-0.53; the hand-fed cat filling the picture also hangs from the top edge (1.01-1.09 times
# as tall as wide), but at `cat` 0.58-0.69 with `person` 0.08-0.11: a near tie loses its vote, a clear cat keeps most
# of it (docs/benchmarks.md, legs16b).
TOP_EDGE = 4.0
TOP_EDGE_PERSON_WEIGHT = 2.0
# A person scored under the event bar on every look but followed long enough, walking, is an event all the same: at
# least WALK_HITS sightings over at least WALK_SECONDS, a median no more than WALK_MARGIN under the bar, at least
# WALK_PERSON_SHARE of its votes `person`, a box taller than wide (VAGUE_WIDTH_SHARE) on most looks, and a box centre
# that got WALK_TRAVEL times its tallest height away from where it was first found along a path at least WALK_STRAIGHT
# as long as the way it took (a walk, not jitter about one place). Measured on the one-by-one clip's night copy (grey,
# a third as bright, noise sigma 6; docs/benchmarks.md, walk16): its fifth visitor, walking in at 92.2-94.8 s, is seen
# on 11 looks at 0.36-0.68, median 0.43-0.47; at the eighth look (1.8 s) her box centre is 205 px, 0.53 times her
# tallest box (390 px), from where it was first found, along a 227 px path (0.9 of it straight). A post, a bin or a
# parked car the detector calls a person stays put (its box centre jitters by a few pixels); a pet gets pet votes.
# Only on night (grey) pictures: on colour ones the rule confirmed a walker seen from above on the aerial crossing's
# re-encoded copy, weak and later voted `bird`, which then took the sharper walker's person event (and its alarm) by
# nearness, and it reshuffled the gym crowd's events (docs/benchmarks.md, walk16).
WALK_HITS = 8
WALK_SECONDS = 1.5
WALK_MARGIN = 0.1
WALK_PERSON_SHARE = 0.9
WALK_TRAVEL = 0.4
WALK_STRAIGHT = 0.5
# Pets have a lower event bar than people (config/model.py), but a pet the detector also calls an animal that is not a
# pet is no pet it is sure of: with this share of its votes for such animals it needs the usual bar. The aerial
# crossing's walkers seen from above score `bird` and `cat` in turn (`bird` 0.37, then `cat` 0.49 and 0.47: a cat
# event at the pet bar); a cat blurred by heavy compression is scored `cat`, lower, on every look.
PET_DOUBT_SHARE = 0.2


def grow_box(box: tuple[float, float, float, float], factor: float) -> tuple[float, float, float, float]:
    """Scale a box about its centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


@dataclass(frozen=True)
class PersonView:
    """One frame's head region of a person (a BGR copy), kept for face lookup."""

    time: float
    score: float
    box: tuple[float, float, float, float]
    origin: tuple[int, int]
    crop: Image


@dataclass(frozen=True)
class Look:
    """One detection of an object: when, what the detector called it, how sure, and where."""

    time: float
    label: str
    score: float
    box: Box


@dataclass
class TrackedObject:
    """One object followed over time, and the evidence for it."""

    id: str
    first_seen: float
    last_seen: float
    box: tuple[float, float, float, float]
    label_votes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    scores: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_SCORES))
    hits: int = 0
    best_score: float = 0.0
    best_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    best_time: float = 0.0
    best_image: Image | None = None
    # Whether the best view is a cut one (Detection.cut); True until there is a view, so that any first one wins.
    best_cut: bool = True
    zones: list[str] = field(default_factory=list)
    confirmed: bool = False
    recent_looks: deque[Look] = field(default_factory=lambda: deque(maxlen=RECENT_BOXES))
    person_views: list[PersonView] = field(default_factory=list)
    # Where the object has stood since `still_since` (its box when it last moved).
    place: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    still_since: float = 0.0
    # Parked: standing still since the camera started or for longer than the stationary threshold; it raises no
    # event until it moves off (`moves` counts the sightings in a row that found it away from its place).
    parked: bool = False
    moves: int = 0
    # Zones marked alarm_on_entry_from_outside that the object was inside of when first seen and has not left since
    # (None before its first sighting): a passer-by on the street such a zone covers.
    stayed_inside: list[str] | None = None
    # Found by the start-up sweep (in view when the camera started); seen moving (away from its place, or with
    # motion on it) at least once.
    at_start: bool = False
    alive: bool = False
    # Where it was first found, whether its foot point has since travelled SMALL_TRAVEL times its height (or it was
    # first found where it had walked in), and the largest area (detect-size pixels) it was seen with.
    first_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    travelled: bool = False
    largest_area: float = 0.0
    # How far its box centre went, step by step, how far from the first box's centre it got at most, and its tallest
    # box's height (detect-size pixels): whether it walks (see WALK_TRAVEL).
    path: float = 0.0
    farthest: float = 0.0
    tallest: float = 0.0

    @property
    def label(self) -> str:
        """Return the label most of the detections agree on, weighted by score."""
        return max(self.label_votes.items(), key=lambda item: item[1])[0]

    @property
    def median_score(self) -> float:
        """Return the median of the recent scores."""
        return statistics.median(self.scores) if self.scores else 0.0

    @property
    def recent_boxes(self) -> list[Box]:
        """Return the boxes of the recent looks, oldest first."""
        return [look.box for look in self.recent_looks]


def keep_person_view(obj: TrackedObject, now: float, detection: Detection, frame: Image) -> None:
    """Keep this frame's head region if it is among the track's best few, at most one per spacing interval."""
    views = obj.person_views
    near = [view for view in views if abs(view.time - now) < PERSON_VIEW_SPACING]
    if near:
        if detection.score <= max(view.score for view in near):
            return
        for view in near:
            views.remove(view)
    elif len(views) >= MAX_PERSON_VIEWS:
        worst = min(views, key=lambda view: view.score)
        if detection.score <= worst.score:
            return
        views.remove(worst)
    x1, y1, x2, y2 = head_region(detection.box, (frame.shape[1], frame.shape[0]))
    if x2 > x1 and y2 > y1:
        views.append(PersonView(now, detection.score, detection.box, (x1, y1), frame[y1:y2, x1:x2].copy()))


@dataclass(frozen=True)
class EventStarted:
    """An object was confirmed; its event began at its first sighting."""

    obj: TrackedObject


@dataclass(frozen=True)
class EventEnded:
    """A confirmed object is gone; its event ended at its last sighting."""

    obj: TrackedObject


EventChange = EventStarted | EventEnded


def box_cover(box: Box, others: Sequence[Box]) -> float:
    """Return the largest part of a box that one of the others covers."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area <= 0:
        return 0.0
    best = 0.0
    for other in others:
        ix = max(0.0, min(box[2], other[2]) - max(box[0], other[0]))
        iy = max(0.0, min(box[3], other[3]) - max(box[1], other[1]))
        best = max(best, ix * iy / area)
    return best


def centre_shift(box: Box, other: Box) -> float:
    """Return how far a box's centre lies from another's."""
    return math.hypot((box[0] + box[2] - other[0] - other[2]) / 2, (box[1] + box[3] - other[1] - other[3]) / 2)


def foot_shift(box: Box, place: Box) -> float:
    """Return how far a box's foot point (bottom centre) lies from another's."""
    return math.hypot((box[0] + box[2] - place[0] - place[2]) / 2, box[3] - place[3])


def has_moved(box: Box, place: Box) -> bool:
    """Tell whether a box stands away from a place: little overlap, and its foot point shifted."""
    if box_iou(box, place) >= STILL_IOU:
        return False
    return foot_shift(box, place) >= MOVE_SHARE * max(place[2] - place[0], place[3] - place[1])


def part_of_place(box: Box, place: Box) -> bool:
    """Tell whether a box is a part of a place or holds it (the same parked thing seen split, or whole again)."""
    return box_cover(box, [place]) >= PART_OF_PLACE or box_cover(place, [box]) >= PART_OF_PLACE


def pet_doubted(obj: TrackedObject) -> bool:
    """Tell whether enough of an object's votes are for animals that are not pets to doubt that it is a pet."""
    total = sum(obj.label_votes.values())
    doubt = sum(votes for label, votes in obj.label_votes.items() if label in NOT_PET_ANIMALS)
    return total > 0 and doubt / total >= PET_DOUBT_SHARE


def walks_weakly(obj: TrackedObject, floor: float) -> bool:
    """Tell whether an object scored under its bar has been seen walking long enough to count (see WALK_TRAVEL)."""
    if obj.hits < WALK_HITS or obj.last_seen - obj.first_seen < WALK_SECONDS or obj.median_score < floor:
        return False
    total = sum(obj.label_votes.values())
    if total <= 0 or obj.label_votes.get(obj.label, 0.0) / total < WALK_PERSON_SHARE:
        return False
    if statistics.median((x2 - x1) / max(y2 - y1, 1.0) for x1, y1, x2, y2 in obj.recent_boxes) >= VAGUE_WIDTH_SHARE:
        return False
    return obj.farthest >= WALK_TRAVEL * obj.tallest and obj.farthest >= WALK_STRAIGHT * obj.path


def hangs_from_top_edge(box: Box) -> bool:
    """Tell whether a box (detect-frame pixels) starts at the picture's top edge and is taller than wide."""
    x1, y1, x2, y2 = box
    return y1 <= TOP_EDGE and y2 - y1 > x2 - x1


def label_vote(detection: Detection) -> float:
    """Return how much a detection votes for its label: its score, for a four-legged animal what it beats `person` by.

    NanoDet scores every class on a box: legs seen from the waist down are `cat` 0.46 with `person` 0.28 on the same
    box, a cat on a table `cat` 0.5 with `person` 0.26 at most, mostly under 0.15 (docs/benchmarks.md, legs16). An
    animal the detector hardly tells from a person's legs is little evidence of one, less still hanging from the
    picture's top edge (see TOP_EDGE). Birds keep their whole score: the rule cost the aerial crossing's person event
    2.4 s of delay (its walkers seen from above are also `bird`).
    """
    if detection.label not in LEGGED_ANIMALS:
        return detection.score
    weight = TOP_EDGE_PERSON_WEIGHT if hangs_from_top_edge(detection.box) else 1.0
    return max(0.0, detection.score - weight * detection.person_score)


def shows_better(detection: Detection, obj: TrackedObject) -> bool:
    """Tell whether a detection is a better view of an object than its best so far: whole over cut, then by score."""
    # The best view is the event's box and snapshot, what the owner sees. A view cut by its crop's edge is part of
    # the object, scored as high as a whole one or higher (the one-by-one clip's fifth visitor: the upper half 0.87,
    # the whole person 0.69-0.78 in the next looks), so it wins only over other cut views; any whole view replaces it.
    if detection.cut != obj.best_cut:
        return obj.best_cut
    return detection.score > obj.best_score


class EventLifecycle:
    """Keep the objects of one camera and report when their events start and end."""

    def __init__(
        self,
        objects: ObjectsConfig,
        zones: dict[str, ZoneConfig],
        expire_after: float = 4.0,
        stationary: StationaryConfig | None = None,
    ) -> None:
        self.objects = objects
        self.stationary = stationary or StationaryConfig()
        self.zones = {name: (np.array(zone.coordinates, dtype=np.float32), zone) for name, zone in zones.items()}
        self.expire_after = expire_after
        self.active: dict[str, TrackedObject] = {}
        self._by_track: dict[int, str] = {}

    def update(
        self,
        now: float,
        tracked: list[TrackedDetection],
        frame: Image,
        at_start: bool = False,
        motion: Sequence[Box] = (),
        walked_in: Sequence[Box] = (),
        night: bool = False,
    ) -> list[EventChange]:
        """Add one frame's tracked detections; return the events that started (or ended: an object that parked).

        `motion` is what moves now (or moved a moment ago where the detector looks again); `walked_in` is where the
        motion of a place ended that the detector, looking during that motion, found empty: what is first found on it
        arrived. `night` says the frame is a night (grey, infrared) picture: a person walking in under the event bar
        counts only then (see WALK_TRAVEL).

        What can park (a car, a bike) starts out parked: found by the sweep when the camera starts, or found later
        where motion made the detector look (a tree swaying over a parked car), it raises no event until it moves
        off its first place. A car that drives in is seen moving within a few frames and its event starts then.
        """
        changes: list[EventChange] = []
        for item in tracked:
            obj = self._object_for(item, now, night)
            if item.track_id is not None:
                self._by_track[item.track_id] = obj.id
            if obj.hits == 0:
                obj.parked = item.detection.label in self.stationary.labels
                obj.at_start = at_start
                obj.travelled = box_cover(item.detection.box, walked_in) >= ALIVE_MOTION_COVER
            obj.alive = obj.alive or box_cover(item.detection.box, motion) >= ALIVE_MOTION_COVER
            self._add_evidence(obj, now, item.detection, frame)
            if obj.confirmed and self._has_parked(obj, now):
                changes.append(EventEnded(obj))
                self._park(obj)
            elif not obj.confirmed and self._confirms(obj, night):
                obj.confirmed = True
                changes.append(EventStarted(obj))
        return changes

    def _has_parked(self, obj: TrackedObject, now: float) -> bool:
        """Say whether a confirmed object has stood in one place for longer than the stationary threshold."""
        return obj.label in self.stationary.labels and now - obj.still_since >= self.stationary.threshold

    def _park(self, obj: TrackedObject) -> None:
        """Replace an object whose event just ended by a parked one in its place (the ended event keeps the old)."""
        tracks = [track for track, object_id in self._by_track.items() if object_id == obj.id]
        self._forget(obj)
        parked = TrackedObject(
            id=uuid.uuid4().hex, first_seen=obj.last_seen, last_seen=obj.last_seen, box=obj.box, parked=True
        )
        parked.label_votes.update(obj.label_votes)
        parked.hits, parked.place, parked.still_since = obj.hits, obj.place, obj.still_since
        self.active[parked.id] = parked
        self._by_track.update(dict.fromkeys(tracks, parked.id))

    def expire(self, now: float) -> list[EventChange]:
        """Drop objects not seen for a while; return the events that ended."""
        changes: list[EventChange] = []
        for obj in list(self.active.values()):
            # A parked object is looked at only every stationary interval: it is gone once a look has missed it.
            wait = self.expire_after + (self.stationary.interval if obj.parked else 0.0)
            if now - obj.last_seen > wait:
                self._forget(obj)
                if obj.confirmed:
                    changes.append(EventEnded(obj))
        return changes

    def end_all(self) -> list[EventChange]:
        """End every confirmed object's event (the video is over)."""
        changes: list[EventChange] = [EventEnded(obj) for obj in self.active.values() if obj.confirmed]
        self.active.clear()
        self._by_track.clear()
        return changes

    def _forget(self, obj: TrackedObject) -> None:
        del self.active[obj.id]
        self._by_track = {track: object_id for track, object_id in self._by_track.items() if object_id != obj.id}

    def _object_for(self, item: TrackedDetection, now: float, night: bool) -> TrackedObject:
        """Return the object a detection belongs to: its track's, a nearby one's, or a new one."""
        if item.track_id is not None:
            obj = self.active.get(self._by_track.get(item.track_id, ""))
            if obj is not None and obj.last_seen < now:
                return obj
        obj = self._reattach(item.detection, now, night)
        if obj is None:
            obj = TrackedObject(id=uuid.uuid4().hex, first_seen=now, last_seen=now, box=item.detection.box)
            self.active[obj.id] = obj
        return obj

    def _reattach(self, detection: Detection, now: float, night: bool) -> TrackedObject | None:
        """Find the object a detection continues: same label, not seen this frame, close to its last box.

        ByteTrack only confirms a new track after consecutive matches, and the detector looks at a confirmed
        object only every few seconds; so a detection the tracker did not place still belongs to the object
        it overlaps, or (for a confirmed object, whose last box can lag a walking person) lies next to.
        """
        best, best_score = None, 0.0
        for obj in self.active.values():
            if obj.last_seen >= now:
                continue
            # An overlapping box continues the object whatever it is called this time (a cat scored `dog`);
            # mere nearness only counts for the same label.
            iou = box_iou(obj.box, detection.box)
            same_label = obj.label_votes.get(detection.label, 0.0) > 0.0
            # Nearness only bridges the gap between two looks at a confirmed object; after longer, a newcomer in the
            # same spot is more likely someone else.
            recent = now - obj.last_seen <= REATTACH_NEAR_SECONDS
            grown = grow_box(obj.box, REATTACH_GROWTH)
            near = same_label and obj.confirmed and recent and box_iou(grown, detection.box) > 0.0
            near = near and not self._stands_apart(detection, obj)
            # At night, nearness to a vague object of no person's shape counts for a person only as much as a bare
            # overlap: a sighting that overlaps another object well continues that one (see VAGUE_NEAR).
            vague = night and detection.label in MUST_MOVE_LABELS and self._vague_and_wide(obj, detection.label)
            score = iou + ((VAGUE_NEAR if vague else 1.0) if near else 0.0)
            if (iou >= REATTACH_IOU or near) and score > best_score:
                best, best_score = obj, score
        return best

    def _vague_and_wide(self, obj: TrackedObject, label: str) -> bool:
        """Tell whether an object scores under a sharp sighting of this label and its box is no person's shape."""
        x1, y1, x2, y2 = obj.box
        strong = self.objects.event_threshold(label) + STRONG_MARGIN
        return obj.median_score < strong and x2 - x1 >= VAGUE_WIDTH_SHARE * (y2 - y1)

    def _stands_apart(self, detection: Detection, obj: TrackedObject) -> bool:
        """Tell whether a sighting is much sharper and smaller than a vague, wide object it lies next to."""
        strong = self.objects.event_threshold(detection.label) + STRONG_MARGIN
        if detection.score < strong or not self._vague_and_wide(obj, detection.label):
            return False
        return detection.area < NEAR_AREA_SHARE * box_area(obj.box)

    def _add_evidence(self, obj: TrackedObject, now: float, detection: Detection, frame: Image) -> None:
        moved = obj.hits > 0 and has_moved(detection.box, obj.place)
        if obj.parked:
            moved = moved and not part_of_place(detection.box, obj.place)
            obj.moves = obj.moves + 1 if moved else 0
            if obj.moves >= MOVES_TO_UNPARK:
                # It moves off: from here it is an arrival like any other, and its event starts now, not when the
                # camera first saw it standing.
                obj.parked, obj.moves, obj.hits, obj.first_seen, obj.best_score = False, 0, 0, now, 0.0
                obj.best_cut = True
                obj.scores.clear()
        if obj.hits == 0 or (moved and not obj.parked):
            obj.alive = obj.alive or obj.hits > 0
            obj.place, obj.still_since = detection.box, now
        if obj.hits == 0:
            obj.first_box = detection.box
        obj.travelled = obj.travelled or foot_shift(detection.box, obj.first_box) >= SMALL_TRAVEL * max(
            obj.first_box[3] - obj.first_box[1], detection.box[3] - detection.box[1]
        )
        obj.largest_area = max(obj.largest_area, detection.area)
        if obj.hits > 0:
            obj.path += centre_shift(detection.box, obj.box)
        obj.farthest = max(obj.farthest, centre_shift(detection.box, obj.first_box))
        obj.tallest = max(obj.tallest, detection.box[3] - detection.box[1])
        obj.last_seen = now
        obj.box = detection.box
        obj.hits += 1
        obj.scores.append(detection.score)
        obj.label_votes[detection.label] += label_vote(detection)
        obj.recent_looks.append(Look(now, detection.label, detection.score, detection.box))
        if detection.label == "person":
            keep_person_view(obj, now, detection, frame)
        if shows_better(detection, obj):
            obj.best_score = detection.score
            obj.best_box = detection.box
            obj.best_time = now
            obj.best_image = frame
            obj.best_cut = detection.cut
        x1, _, x2, y2 = detection.box
        foot = ((x1 + x2) / 2, y2)
        inside = {
            name
            for name, (polygon, zone) in self.zones.items()
            if (not zone.objects or detection.label in zone.objects) and cv2.pointPolygonTest(polygon, foot, False) >= 0
        }
        obj.zones.extend(name for name in self.zones if name in inside and name not in obj.zones)
        if obj.stayed_inside is None:
            obj.stayed_inside = [name for name in inside if self.zones[name][1].alarm_on_entry_from_outside]
        else:
            obj.stayed_inside = [name for name in obj.stayed_inside if name in inside]

    def _is_animal(self, obj: TrackedObject) -> bool:
        """Say whether a person track is, or stands on, an animal that is not a pet."""
        total = sum(obj.label_votes.values())
        animal = sum(votes for label, votes in obj.label_votes.items() if label in NOT_PET_ANIMALS)
        if total > 0 and animal / total >= NOT_PET_SHARE:
            return True
        animals = [
            other.box
            for other in self.active.values()
            if other is not obj and other.label in NOT_PET_ANIMALS and other.hits >= MIN_HITS
        ]
        return box_cover(obj.box, animals) >= ON_ANIMAL_COVER

    def _on_parked_place(self, obj: TrackedObject) -> bool:
        """Tell whether an object's box is the place of something parked there well before it (see PARKED_BEFORE)."""
        return any(
            other.parked
            and other.hits >= PARKED_HITS
            and other.first_seen <= obj.first_seen - PARKED_BEFORE
            and part_of_place(obj.box, other.place)
            for other in self.active.values()
            if other is not obj
        )

    def event_threshold(self, obj: TrackedObject) -> float:
        """Return the median score this object needs to become an event."""
        return self.objects.event_threshold(obj.label, doubted=pet_doubted(obj))

    def _confirms(self, obj: TrackedObject, night: bool) -> bool:
        if obj.parked:
            return False
        label = obj.label
        if label not in self.objects.track:
            return False
        if label in MUST_MOVE_LABELS and not (obj.at_start or obj.alive):
            return False
        rule = self.objects.filter_for(label)
        if label in MUST_MOVE_LABELS and obj.largest_area < rule.min_area and not obj.travelled:
            return False
        if label in MUST_MOVE_LABELS and not obj.travelled and self._on_parked_place(obj):
            return False
        if label == "person" and self._is_animal(obj):
            return False
        if obj.hits < MIN_HITS or obj.best_box == (0.0, 0.0, 0.0, 0.0):
            return False
        threshold = self.event_threshold(obj)
        if obj.median_score >= threshold:
            return True
        return night and label in MUST_MOVE_LABELS and walks_weakly(obj, threshold - WALK_MARGIN)
