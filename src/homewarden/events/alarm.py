"""The alarm decision: whether a camera is armed in the home's mode (events/arming.py), the false-alarm guard, and why.

A person track is decided once: when it has been seen for the grace period (a member had that long to show
their face), or when it ends if that comes first. Docs: docs/faces.md.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from homewarden.config.model import AlarmConfig, ArmingMode, CameraAlarmRule, FacesConfig
from homewarden.detect.labels import ANIMAL_LABELS
from homewarden.errors import UserError
from homewarden.events.arming import ArmingState
from homewarden.events.lifecycle import TrackedObject
from homewarden.faces.gallery import UNKNOWN
from homewarden.faces.identity import PersonIdentifier, TrackFaces

log = logging.getLogger(__name__)

STRANGER = "stranger"
UNIDENTIFIED = "unidentified"

# The false-alarm guard (docs/faces.md has the measurements behind each number). A track with a human face on it
# is a person. Otherwise each of these is a doubt, and two doubts make the track a pet's, provided one of them is
# about the animal itself (its votes or its shape): size and a weak score alone also describe a person walking
# up to the camera with their back turned, who must alarm.
#   - animal votes: at least this share of the track's score-weighted label votes went to animals;
ANIMAL_SHARE_DOUBT = 0.08
#   - wide: the boxes are wider than tall (median height / width below this); standing, walking, sitting and
#     close-up people are taller than wide, a cat's head or a crouching animal is not;
WIDE_ASPECT = 0.8
#   - at the lens: the median box covers at least this share of the picture, as a pet sniffing the camera does;
FILLS_FRAME = 0.5
#   - weak: the median detection score is below this.
WEAK_SCORE = 0.6
DOUBTS_FOR_PET = 2
# Most of the votes for animals: a pet, whatever else.
ANIMAL_SHARE_VETO = 0.25

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TrackEvidence:
    """What the guard weighs: the whole track so far, not one detection."""

    label_votes: Mapping[str, float]
    median_score: float
    boxes: Sequence[Box]
    frame_size: tuple[int, int]
    face_seen: bool

    @classmethod
    def of(cls, obj: TrackedObject, frame_size: tuple[int, int], face_seen: bool) -> TrackEvidence:
        """Collect the evidence of a tracked object."""
        return cls(dict(obj.label_votes), obj.median_score, list(obj.recent_boxes), frame_size, face_seen)


@dataclass(frozen=True)
class GuardVerdict:
    """Whether a track labelled person is believed to be one, and the doubts found."""

    person: bool
    doubts: tuple[str, ...] = ()
    animal: str | None = None


def judge_person_track(evidence: TrackEvidence) -> GuardVerdict:
    """Decide whether a track the detector calls a person is one (see the constants above)."""
    if evidence.face_seen:
        return GuardVerdict(True)
    total = sum(evidence.label_votes.values())
    animal_share = sum(v for label, v in evidence.label_votes.items() if label in ANIMAL_LABELS) / total if total else 0
    doubts = []
    if animal_share >= ANIMAL_SHARE_DOUBT:
        doubts.append(f"animal votes {animal_share:.0%}")
    if evidence.boxes:
        aspect = statistics.median((b[3] - b[1]) / max(b[2] - b[0], 1e-6) for b in evidence.boxes)
        if aspect < WIDE_ASPECT:
            doubts.append(f"wider than tall ({aspect:.2f})")
    animal_like = bool(doubts)
    if evidence.boxes:
        frame_area = evidence.frame_size[0] * evidence.frame_size[1]
        cover = statistics.median((b[2] - b[0]) * (b[3] - b[1]) for b in evidence.boxes) / frame_area
        if cover >= FILLS_FRAME:
            doubts.append(f"fills {min(cover, 1.0):.0%} of the picture")
    if evidence.median_score < WEAK_SCORE:
        doubts.append(f"median score {evidence.median_score:.2f}")
    is_person = animal_share < ANIMAL_SHARE_VETO and not (animal_like and len(doubts) >= DOUBTS_FOR_PET)
    animals = {label: v for label, v in evidence.label_votes.items() if label in ANIMAL_LABELS}
    return GuardVerdict(is_person, tuple(doubts), max(animals, key=animals.__getitem__) if animals else None)


def armed_for(rule: CameraAlarmRule, mode: ArmingMode, zones: Sequence[str]) -> bool:
    """Return whether a person on the camera (having entered these zones) raises an alarm in a mode."""
    if mode == "disarmed":
        return False
    return mode in rule.modes or any(mode in rule.zones.get(zone, ()) for zone in zones)


@dataclass(frozen=True)
class AlarmDecision:
    """Whether an event raised an alarm, why, in which mode, when (event time), and what the object is."""

    alarm: bool
    reason: str | None
    mode: ArmingMode
    at: float
    label: str
    doubts: tuple[str, ...] = ()
    # Zones (alarm_on_entry_from_outside) the person appeared in and stayed in: a passer-by, not an intruder.
    stayed_in: tuple[str, ...] = ()


def decide_alarm(
    *, label: str, mode: ArmingMode, armed: bool, sub_label: str | None, verdict: GuardVerdict, at: float
) -> AlarmDecision:
    """Decide one track: only a believed person who is not a recognised member, on an armed camera, alarms.

    A track the guard takes for a pet is shown as the animal the detector also saw on it, when it saw one.
    """
    if label != "person":
        return AlarmDecision(False, None, mode, at, label)
    if not verdict.person:
        return AlarmDecision(False, None, mode, at, verdict.animal or label, verdict.doubts)
    if not armed or (sub_label is not None and sub_label != UNKNOWN):
        return AlarmDecision(False, None, mode, at, label)
    return AlarmDecision(True, UNIDENTIFIED if sub_label is None else STRANGER, mode, at, label)


def decision_attributes(decision: AlarmDecision) -> dict[str, str]:
    """Return what an event stores about its alarm decision beside alarm and alarm_reason."""
    attributes = {"arming_mode": decision.mode, "alarm_decided_at": f"{decision.at:.3f}"}
    if decision.doubts:
        attributes["held_back_as_pet"] = "; ".join(decision.doubts)
    if decision.stayed_in:
        attributes["stayed_in_zone"] = ", ".join(decision.stayed_in)
    return attributes


@dataclass(frozen=True)
class Conclusion:
    """What an ended track is: its label, who (for a person) and its alarm decision."""

    label: str
    sub_label: str | None
    decision: AlarmDecision


@dataclass
class WatchedTrack:
    """A person track's faces so far and, once made, its decision."""

    faces: TrackFaces = field(default_factory=TrackFaces)
    decision: AlarmDecision | None = None


class IntrusionWatch:
    """Follow one camera's tracks: look for faces on person tracks and decide each track's alarm once."""

    def __init__(
        self,
        camera: str,
        alarm: AlarmConfig,
        faces: FacesConfig,
        frame_size: tuple[int, int],
        identifier: Callable[[], PersonIdentifier] | None,
        live: bool,
        arming: ArmingState | None = None,
    ) -> None:
        self.camera = camera
        self.alarm = alarm
        # Shared by every camera when the mode can change while the hub runs; else the config's mode and schedule.
        self.arming = arming or ArmingState(alarm)
        self.rule = alarm.cameras.get(camera) or CameraAlarmRule()
        self.max_lookups = faces.max_lookups
        self.frame_size = frame_size
        self.live = live
        self._identifier_factory = identifier
        self._identifier: PersonIdentifier | None = None
        self.tracks: dict[str, WatchedTrack] = {}

    def follow(self, obj: TrackedObject, now: float) -> AlarmDecision | None:
        """Look at a live track's new frames; return its decision if it is made now."""
        track = self.tracks.setdefault(obj.id, WatchedTrack())
        self._look_for_faces(obj, track)
        due = track.decision is None and obj.label == "person" and now - obj.first_seen >= self.alarm.grace_period
        if due or self._left_its_zone(obj, track):
            track.decision = self._decide(obj, track, now)
            self._log(obj, track.decision)
            return track.decision
        return None

    @staticmethod
    def _left_its_zone(obj: TrackedObject, track: WatchedTrack) -> bool:
        """Say whether a person let off as a passer-by has since left the zone they appeared in (decide again)."""
        return track.decision is not None and bool(track.decision.stayed_in) and not obj.stayed_inside

    def conclude(self, obj: TrackedObject) -> Conclusion:
        """Return what an ended track is: its label, sub_label (over all its faces) and alarm decision."""
        track = self.tracks.pop(obj.id, None) or WatchedTrack()
        self._look_for_faces(obj, track)
        if track.decision is None or self._left_its_zone(obj, track):
            track.decision = self._decide(obj, track, obj.last_seen)
            self._log(obj, track.decision)
        # A track held back as a pet keeps that name; otherwise the label is the whole track's vote.
        label = track.decision.label if track.decision.doubts else obj.label
        return Conclusion(label, track.faces.sub_label() if label == "person" else None, track.decision)

    def _decide(self, obj: TrackedObject, track: WatchedTrack, at: float) -> AlarmDecision:
        when = datetime.fromtimestamp(at, UTC) if self.live else datetime.now(UTC)
        mode = self.arming.mode_at(when)
        verdict = judge_person_track(TrackEvidence.of(obj, self.frame_size, track.faces.face_seen()))
        stayed_in = tuple(obj.stayed_inside or ())
        decision = decide_alarm(
            label=obj.label,
            mode=mode,
            armed=armed_for(self.rule, mode, obj.zones) and not stayed_in,
            sub_label=track.faces.sub_label(),
            verdict=verdict,
            at=at,
        )
        return replace(decision, stayed_in=stayed_in) if stayed_in and decision.label == "person" else decision

    def identify(self, time: float, image: npt.NDArray[np.uint8]) -> str | None:
        """Say who is in a picture (a doorbell's visitor): a member's name, "stranger", or None when no face is seen."""
        identifier = self._ensure_identifier()
        if identifier is None:
            return None
        sighting = identifier.look_in_frame(time, image)
        if sighting is None or sighting.match is None:
            return None
        return sighting.match.name or STRANGER

    def _ensure_identifier(self) -> PersonIdentifier | None:
        if self._identifier is None and self._identifier_factory is not None:
            try:
                self._identifier = self._identifier_factory()
            except UserError as exc:
                # Without the household every person is a stranger: alarms still go off, none is missed.
                log.error("camera %s: face recognition is off for this run: %s", self.camera, exc)
                self._identifier_factory = None
        return self._identifier

    def _look_for_faces(self, obj: TrackedObject, track: WatchedTrack) -> None:
        if self._identifier_factory is None:
            return
        for view in sorted(obj.person_views, key=lambda view: view.time):
            if view.time in track.faces.looked_at or track.faces.lookups >= self.max_lookups:
                continue
            identifier = self._ensure_identifier()
            if identifier is None:
                return
            track.faces.looked_at.add(view.time)
            sighting = identifier.look(view.time, view.crop, view.origin)
            if sighting is not None:
                track.faces.sightings.append(sighting)

    def _log(self, obj: TrackedObject, decision: AlarmDecision) -> None:
        if decision.alarm:
            log.warning(
                "camera %s: ALARM (%s, %s mode): person event %s", self.camera, decision.reason, decision.mode, obj.id
            )
        elif decision.stayed_in:
            log.info(
                "camera %s: person event %s appeared in zone %s and stayed there: no alarm (a passer-by)",
                self.camera,
                obj.id,
                ", ".join(decision.stayed_in),
            )
        elif decision.doubts:
            log.info(
                "camera %s: person event %s held back as a likely pet: %s",
                self.camera,
                obj.id,
                ", ".join(decision.doubts),
            )
