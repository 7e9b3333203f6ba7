"""The alarm decision: whether a camera is armed in the home's mode (events/arming.py), the false-alarm guard, and why.

A person track is decided once: when it has been seen for the grace period (a member had that long to show
their face), or when it ends if that comes first. Two decisions are made again while the track is live: a passer-by
let off in an entry-only zone who leaves it, and a track held back as a pet that has since stood up as a clear person
(`stood_up`: someone who came in crouching or crawling). Docs: docs/faces.md.
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
from homewarden.events.lifecycle import Look, TrackedObject
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
# A track held back as a pet is decided again, as a person, once it has stood up: among its last STOOD_UP_LOOKS looks
# none calls it an animal and at least STANDING_LOOKS call it `person` at STANDING_SCORE or more on a box at least
# STANDING_ASPECT times as tall as wide that covers under FILLS_FRAME of the picture. The guard weighs the whole track
# (its votes since the first sighting, the median of its last ten scores), so a person who crouched and stood up a
# second or two before the grace period ended is outvoted by the crouching: the gym crowd's woman by the bench (`dog`
# 0.40-0.45 and `cow` 0.36 on 36x54 boxes, 1.1-1.6 times as tall as wide, `person` 0.38-0.50) stood at 11.3 s and was
# `person` 0.52-0.77 on boxes 2.6-3.6 times as tall as wide (three looks at 0.71-0.77) when she was held back at
# 13.5 s (docs/benchmarks.md, stand16). Score alone does not tell a pet: the cat fed by hand is `person` 0.71-0.75 on
# three of its looks, on boxes as tall as wide; shape alone does not either: on its night and re-encoded copies the
# tracks that end as that cat (one held back as a pet) have boxes 2.1-2.3 times as tall as wide, scored 0.37-0.55. On
# the unaltered clips no cat or dog box is over 1.7 times as tall as wide, walkers seen from above are mostly 0.5-1.5
# and the gym's standing people 2.1-3.6. Over every window of every track of the shared clips, their night and
# re-encoded pet copies and the composed cat clips, the rule holds on person tracks only (docs/benchmarks.md).
STOOD_UP_LOOKS = 8
STANDING_LOOKS = 3
STANDING_SCORE = 0.7
STANDING_ASPECT = 2.0

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


def stood_up(looks: Sequence[Look], frame_size: tuple[int, int]) -> bool:
    """Tell whether a track's last looks show a standing person and no animal (see STOOD_UP_LOOKS above)."""
    recent = list(looks)[-STOOD_UP_LOOKS:]
    if any(look.label in ANIMAL_LABELS for look in recent):
        return False
    frame_area = frame_size[0] * frame_size[1]
    standing = [
        look
        for look in recent
        if look.label == "person"
        and look.score >= STANDING_SCORE
        and (look.box[3] - look.box[1]) >= STANDING_ASPECT * (look.box[2] - look.box[0])
        and (look.box[2] - look.box[0]) * (look.box[3] - look.box[1]) < FILLS_FRAME * frame_area
    ]
    return len(standing) >= STANDING_LOOKS


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
    # For a track first held back as a pet that then stood up: the doubts it was held back for, and when it stood up.
    held_back: tuple[str, ...] = ()
    stood_up_at: float | None = None


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
    if decision.doubts or decision.held_back:
        attributes["held_back_as_pet"] = "; ".join(decision.doubts or decision.held_back)
    if decision.stood_up_at is not None:
        attributes["stood_up_at"] = f"{decision.stood_up_at:.3f}"
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
    """A person track's faces so far, once made its decision, and what it was held back for if it then stood up."""

    faces: TrackFaces = field(default_factory=TrackFaces)
    decision: AlarmDecision | None = None
    held_back: tuple[str, ...] = ()
    stood_up_at: float | None = None


class IntrusionWatch:
    """Follow one camera's tracks: look for faces on person tracks and decide each track's alarm."""

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
        if self._stood_up(obj, track):
            track.held_back, track.stood_up_at = track.decision.doubts if track.decision else (), now
            log.info("camera %s: person event %s, held back as a likely pet, has stood up", self.camera, obj.id)
            due = True
        if due or self._left_its_zone(obj, track):
            track.decision = self._decide(obj, track, now)
            self._log(obj, track.decision)
            return track.decision
        return None

    @staticmethod
    def _left_its_zone(obj: TrackedObject, track: WatchedTrack) -> bool:
        """Say whether a person let off as a passer-by has since left the zone they appeared in (decide again)."""
        return track.decision is not None and bool(track.decision.stayed_in) and not obj.stayed_inside

    def _stood_up(self, obj: TrackedObject, track: WatchedTrack) -> bool:
        """Say whether a track held back as a pet has since been seen standing as a person (decide again, once)."""
        # The decision made when it stands up has no doubts: it is not made a third time.
        held_back = track.decision is not None and bool(track.decision.doubts)
        # Only a look the held-back decision did not have can change it.
        fresh = track.decision is not None and obj.last_seen > track.decision.at
        return held_back and fresh and obj.label == "person" and stood_up(obj.recent_looks, self.frame_size)

    def conclude(self, obj: TrackedObject) -> Conclusion:
        """Return what an ended track is: its label, sub_label (over all its faces) and alarm decision."""
        track = self.tracks.pop(obj.id, None) or WatchedTrack()
        self._look_for_faces(obj, track)
        if track.decision is None or self._left_its_zone(obj, track):
            track.decision = self._decide(obj, track, obj.last_seen)
            self._log(obj, track.decision)
        # A track held back as a pet keeps that name, one that stood up since is a person; otherwise the label is the
        # whole track's vote.
        label = track.decision.label if track.decision.doubts or track.stood_up_at is not None else obj.label
        return Conclusion(label, track.faces.sub_label() if label == "person" else None, track.decision)

    def _decide(self, obj: TrackedObject, track: WatchedTrack, at: float) -> AlarmDecision:
        when = datetime.fromtimestamp(at, UTC) if self.live else datetime.now(UTC)
        mode = self.arming.mode_at(when)
        if track.stood_up_at is None:
            verdict = judge_person_track(TrackEvidence.of(obj, self.frame_size, track.faces.face_seen()))
        else:
            # Seen standing as a person since it was held back: what made it look like a pet no longer counts.
            verdict = GuardVerdict(True)
        stayed_in = tuple(obj.stayed_inside or ())
        decision = decide_alarm(
            label="person" if track.stood_up_at is not None else obj.label,
            mode=mode,
            armed=armed_for(self.rule, mode, obj.zones) and not stayed_in,
            sub_label=track.faces.sub_label(),
            verdict=verdict,
            at=at,
        )
        if track.stood_up_at is not None:
            decision = replace(decision, held_back=track.held_back, stood_up_at=track.stood_up_at)
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
                "camera %s: ALARM (%s, %s mode): person event %s%s",
                self.camera,
                decision.reason,
                decision.mode,
                obj.id,
                "" if decision.stood_up_at is None else " (held back as a likely pet until it stood up)",
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
