"""Analyse one camera's frames: motion decides where the detector looks, tracks and events follow."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from homewarden.camera.infrared import equalised, is_grey
from homewarden.camera.reader import Sample
from homewarden.camera.regions import (
    MIN_CROP_SIDE,
    Box,
    Crop,
    contains,
    crop_for,
    cut_by_crop,
    grow,
    overlaps,
    plan_detection,
    sweep_tiles,
    union,
)
from homewarden.config.model import CameraConfig, ObjectsConfig
from homewarden.detect.base import Detection, ObjectDetector, box_iou, kept_by_nms
from homewarden.detect.labels import NOT_PET_ANIMALS
from homewarden.detect.verifier import DetectionReview
from homewarden.events.lifecycle import MIN_HITS, EventChange, EventLifecycle, TrackedObject
from homewarden.motion.background import BackgroundMotionDetector
from homewarden.motion.overlay import BurntInText
from homewarden.track.bytetrack import ObjectTracker

# A confirmed object is looked at again at least this often, moving or not, so a person standing still
# stays tracked without a detector call on every frame.
REFRESH_CONFIRMED = 2.0
# Motion where the detector just found nothing (a shadow, a curtain, the ghost of someone who left) is
# looked at again only this often.
QUIET_RECHECK = 1.0
# A person first found this soon after the camera (re)started counts as already in view then: the motion model is
# still learning, and a live stream's first seconds arrive in one burst that the pacer sees as one instant, so
# whether such a person moved cannot be told (the "shows life" rule in events/lifecycle.py would hold them forever).
WARM_UP = 3.0
# An unconfirmed object is chased on every frame for this long after its last sighting, then left to expire.
CHASE_UNCONFIRMED = 1.5
# ... unless the picture is a night one and the object weak and still: scored under its event threshold (a median
# that would not confirm it) and with no motion on it for this long. Such an object (the post and the bushes the
# detector calls a person at 0.4 on a night parking lot, found by a sweep or a passing light) is looked at only this
# often; a weak visitor who walks (motion on them) is chased every frame as before. By day the same rule changed which
# weak sightings become events (the aerial crossing lost its person event, docs/benchmarks.md night16b), so colour
# pictures keep the chase.
CHASE_WEAK_STILL = 1.0
OBJECT_EXPIRY = 4.0
COVER_GROWTH = 1.5
SAME_OBJECT_IOU = 0.7
# Small motion that the detector found nothing in (or only a person scored under the floor) is looked at again in the
# same crop this often, this many times: a small or night visitor is seen at their weakest while walking in (half in
# view, blurred: person 0.2-0.3 at 45 px by infrared) and then often stands still, so motion stops and nothing made
# the detector look there again (issue 16; standing, the same visitor scores 0.6-0.8 in that crop).
LOOK_AGAIN_EVERY = 1.0
LOOK_AGAIN_TIMES = 3
# A watch whose place never went still for this long after a look was due is given up (flicker, water, leaves).
LOOK_AGAIN_FOR = 3.0


def centre(box: Box) -> Box:
    """Return a box's centre as a zero-size box."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return (cx, cy, cx, cy)


def seen_scale(width: int, height: int, input_size: int) -> float:
    """Return how much the detector enlarged a crop of this size to fit its input (1 when not known)."""
    return input_size / max(width, height) if input_size > 0 and width > 0 and height > 0 else 1.0


def settled(obj: TrackedObject) -> bool:
    """Tell whether an object is looked at on the confirmed schedule: confirmed, or an animal that is not a pet."""
    # A grazing cow never becomes an event but is still there; chasing it on every frame would cost a detector call
    # per frame for as long as it stays.
    return obj.confirmed or (obj.label in NOT_PET_ANIMALS and obj.hits >= MIN_HITS)


@dataclass
class Watch:
    """A place where small motion came up empty: its crop, the motion seen in it, and when to look again."""

    crop: Crop
    area: Box  # the crop in detect-frame pixels
    motion: list[Box]
    due: float
    stirred: float  # when motion was last on the place
    looks_left: int = LOOK_AGAIN_TIMES


@dataclass
class AnalyzerStats:
    """Counters for one camera's analysis."""

    frames: int = 0
    motion_frames: int = 0
    detector_calls: int = 0


class FrameAnalyzer:
    """Run motion, detection, tracking and the event lifecycle on each analysed frame."""

    def __init__(
        self,
        camera: CameraConfig,
        objects: ObjectsConfig,
        detector: ObjectDetector,
        frame_size: tuple[int, int],
        verifier: DetectionReview | None = None,
    ) -> None:
        self.objects = objects
        self.verifier = verifier
        self.detector = detector
        self.frame_size = frame_size
        self.motion = BackgroundMotionDetector(camera.motion, frame_size)
        # A camera's clock changing is motion the detector would be called for, every 10 s or every second.
        self.burnt_in_text = BurntInText() if camera.motion.burnt_in_text else None
        # Animals that are not pets are detected even when not tracked: they are evidence against a person there.
        self.labels = [*objects.track, *sorted(NOT_PET_ANIMALS.difference(objects.track))]
        self.min_score = min(objects.filter_for(label).min_score for label in self.labels)
        self.tracker = ObjectTracker(self.min_score)
        self.lifecycle = EventLifecycle(
            objects, camera.zones, expire_after=OBJECT_EXPIRY, stationary=camera.detect.stationary
        )
        self.stats = AnalyzerStats()
        # Whether the last analysed frame had motion (the camera's motion sensor for integrations).
        self.last_motion = False
        self._quiet: list[tuple[Box, float]] = []
        self._watches: list[Watch] = []
        self._looking_again: list[Watch] = []
        self._motion: list[Box] = []
        self._full_scale = 1.0
        # Whether the last picture the detector looked at was grey (infrared). Only a frame the detector looks at is
        # made into a colour picture, so the last such one stands for the camera.
        self._night = False
        self._last_checked: dict[str, float] = {}
        self._stirred: dict[str, float] = {}  # when motion was last on an unconfirmed object
        self._last_sweep: float | None = None
        self._started: float | None = None  # the first frame's time since the camera (re)started
        self._last_followed = float("-inf")
        self.sweep_interval = camera.detect.sweep_interval

    def analyze(self, sample: Sample) -> list[EventChange]:
        """Analyse one frame; return the events that started or ended."""
        now = sample.time
        self.stats.frames += 1
        moving = self.motion.detect(sample.grey, self._night)
        if self.burnt_in_text is not None:
            self.burnt_in_text.observe(sample.grey)
            moving = self.burnt_in_text.without_text_changes(now, moving)
        motion = [(float(x1), float(y1), float(x2), float(y2)) for x1, y1, x2, y2 in moving]
        if self.motion.light_changed:
            # A camera switching between colour and infrared changes the whole picture, which is no motion: nothing
            # may make the detector look for a while, so whether the picture is a night one is told again now. The
            # finer night motion then starts with the switch at dusk (a small visitor walking in right after it is
            # seen) and stops with it at dawn.
            self._night = is_grey(sample.image)
        self.last_motion = bool(motion)
        self._motion = motion
        self._full_scale = sample.full_size[0] / self.frame_size[0]
        if motion:
            self.stats.motion_frames += 1
        regions = self._regions_to_check(now, motion)
        crops = plan_detection(regions, self.frame_size, sample.full_size, self._whole_boxes())
        if self._started is None:
            self._started = now
        at_start = self._last_sweep is None or now - self._started < WARM_UP
        if self._last_sweep is None or self._sweep_due(now):
            # Motion cannot show what was already standing still when the camera started, nor a pet that lay down
            # unseen: look at the whole picture, in square tiles, and let tracking take over from there.
            crops = [Crop(tile) for tile in sweep_tiles(self.frame_size)]
            self._last_sweep = now
        crops = self._look_again(now, crops)
        # Where the motion of a place that a look during it found empty ended: whoever is first found there now walked
        # in. Its end, not all of it: something passing in front of a post (hiding it from that look) moves on past
        # it, a visitor's walk stops on them. Taken before detecting, which closes the watches where something is found.
        walked_in = [watch.motion[-1] for watch in self._watches if watch.motion]
        changes: list[EventChange] = []
        if crops:
            image = sample.image
            detections = self._detect(now, sample, crops)
            if self.verifier is not None:
                # A detection the verifier relabels to something this camera does not track is dropped.
                reviewed = self.verifier.review(now, image, detections)
                detections = [d for d in reviewed if d.label in self.objects.track]
            # A person found where they were seen walking in a moment ago has shown life there: the motion of the
            # watched place counts as motion now (a post that nothing moved on never had any).
            seen_moving = motion + [box for watch in self._looking_again for box in watch.motion]
            tracked = self.tracker.update(detections)
            changes += self.lifecycle.update(now, tracked, image, at_start, seen_moving, walked_in, self._night)
            # An object found where nothing moves (by a chase, the sweep or a look again) has not moved: only motion
            # on it, from the frame it was found on, makes it stirred.
            for obj in self.lifecycle.active.values():
                if any(overlaps(box, obj.box) for box in seen_moving):
                    self._stirred[obj.id] = now
        changes += self.lifecycle.expire(now)
        return changes

    def restart_stream(self) -> None:
        """Start over on a new scene (a looping file replayed from its start): learn the background afresh."""
        # The jump is not motion, and whatever stands still in the new first frame is found by sweeping once more,
        # exactly as when the camera started. Objects being followed end by expiry as usual.
        self.motion = BackgroundMotionDetector(self.motion.config, self.frame_size)
        self._quiet.clear()
        self._watches.clear()
        self._last_sweep = None
        self._started = None

    def _sweep_due(self, now: float) -> bool:
        """Tell whether to look at the whole picture again: nothing followed, nor swept, for the sweep interval."""
        # While an object is being followed the detector is looking at the scene anyway: a sweep then, or just after,
        # would add calls at the busiest moments (a home with visitors every few seconds would pay for sweeps it does
        # not need). Parked vehicles and animals that are not events do not count as followed.
        if any(obj.confirmed for obj in self.lifecycle.active.values()):
            self._last_followed = now
            return False
        if not self.sweep_interval or self._last_sweep is None:
            return False
        return now - max(self._last_sweep, self._last_followed) >= self.sweep_interval

    def expire(self, now: float) -> list[EventChange]:
        """End the events of objects not seen for a while (no frames are arriving)."""
        return self.lifecycle.expire(now)

    def _regions_to_check(self, now: float, motion: list[Box]) -> list[Box]:
        self._quiet = [(box, at) for box, at in self._quiet if now - at < QUIET_RECHECK]
        # Motion centred on a confirmed object is that object moving (or leaving): it is looked at on its
        # own refresh schedule. Motion inside a region that just came up empty waits for its recheck.
        known = [grow(obj.box, COVER_GROWTH) for obj in self.lifecycle.active.values() if settled(obj) or obj.parked]
        known += [quiet for quiet, _ in self._quiet]
        regions = [box for box in motion if not any(contains(area, centre(box)) for area in known)]
        for obj in self.lifecycle.active.values():
            last_checked = self._last_checked.get(obj.id, obj.first_seen)
            if obj.parked:
                # A parked car is looked at now and then, and sooner when something moves on it (pulling out).
                stirred = any(overlaps(box, obj.box) for box in motion)
                due = now - last_checked >= (REFRESH_CONFIRMED if stirred else self.lifecycle.stationary.interval)
            elif settled(obj):
                due = now - last_checked >= REFRESH_CONFIRMED
            else:
                due = now - obj.last_seen <= CHASE_UNCONFIRMED
                if any(overlaps(box, obj.box) for box in motion):
                    self._stirred[obj.id] = now
                if due and self._night and self._weak_and_still(obj, now):
                    due = now - last_checked >= CHASE_WEAK_STILL
            if due:
                region = obj.box
                for box in motion:
                    if overlaps(box, obj.box):
                        region = union(region, box)
                regions.append(region)
                self._last_checked[obj.id] = now
        live_ids = {obj.id for obj in self.lifecycle.active.values()}
        self._last_checked = {key: at for key, at in self._last_checked.items() if key in live_ids}
        self._stirred = {key: at for key, at in self._stirred.items() if key in live_ids}
        return regions

    def _whole_boxes(self) -> list[Box]:
        """Return the boxes no crop may cut: the confirmed people."""
        return [obj.box for obj in self.lifecycle.active.values() if obj.confirmed and obj.label == "person"]

    def _weak_and_still(self, obj: TrackedObject, now: float) -> bool:
        """Tell whether an unconfirmed object scores under its event threshold and has had no motion on it lately."""
        if obj.median_score >= self.lifecycle.event_threshold(obj):
            return False
        return now - self._stirred.get(obj.id, float("-inf")) >= CHASE_WEAK_STILL

    def _look_again(self, now: float, crops: list[Crop]) -> list[Crop]:
        """Add the crops of watched places that are due and that no planned crop covers; note which were looked at."""
        self._looking_again = []
        self._watches = [watch for watch in self._watches if now - watch.due < LOOK_AGAIN_FOR]
        # While an event runs the detector is looking at the scene anyway (as for the sweep); looking again where
        # that visitor walked (leaving, or coming in before they were found) would only add calls.
        if any(obj.confirmed for obj in self.lifecycle.active.values()):
            self._watches.clear()
            return crops
        planned = [self._area(crop) for crop in crops]
        for watch in self._watches:
            # The walk goes on between looks (motion there is quiet for QUIET_RECHECK): it is the walk-in's trail.
            watch.motion = [*watch.motion, *(box for box in self._motion if contains(watch.area, centre(box)))][-8:]
            if any(overlaps(box, watch.area) for box in self._motion):
                watch.stirred = now
            # Only once the place has been still for as long as between looks: motion there is looked at by the
            # ordinary path, and a visitor walking on through it (the one-by-one clip's third visitor at the door,
            # whom the ordinary path found 0.2 s later) has not stopped there.
            if now < watch.due or now < watch.stirred + LOOK_AGAIN_EVERY:
                continue
            watch.looks_left -= 1
            watch.due = now + LOOK_AGAIN_EVERY
            self._looking_again.append(watch)
            # A crop planned anyway (a chase, other motion, the sweep) that covers the place is the look.
            if any(contains(area, centre(watch.area)) for area in planned):
                continue
            crops = [*crops, watch.crop]
            planned.append(watch.area)
        self._watches = [watch for watch in self._watches if watch.looks_left > 0]
        return crops

    def _area(self, crop: Crop) -> Box:
        """Return a crop's box in detect-frame pixels."""
        back = self._full_scale if crop.full else 1.0
        x1, y1, x2, y2 = crop.box
        return (x1 / back, y1 / back, x2 / back, y2 / back)

    def _watch(self, now: float, crop: Crop, area: Box, motion: list[Box]) -> None:
        """Look again at a small crop that came up empty, a few times over the next seconds."""
        if max(area[2] - area[0], area[3] - area[1]) > MIN_CROP_SIDE + 1:
            return  # large motion: a visitor near enough to be scored well when walking in
        inside = [box for box in motion if contains(area, centre(box))]
        if not inside:
            return
        for watch in self._watches:
            if contains(watch.area, centre(area)):
                # The latest few motion boxes are enough evidence of someone walking in there.
                watch.motion = [*watch.motion, *(box for box in inside if box not in watch.motion)][-8:]
                watch.due, watch.stirred, watch.looks_left = now + LOOK_AGAIN_EVERY, now, LOOK_AGAIN_TIMES
                return
        self._watches.append(Watch(crop, area, inside, now + LOOK_AGAIN_EVERY, now))

    def _detect(self, now: float, sample: Sample, crops: list[Crop]) -> list[Detection]:
        found: list[Detection] = []
        image = sample.image
        # An infrared picture is grey, dark and flat: its crops get their contrast evened out for the detector.
        night = is_grey(image)
        self._night = night
        # Boxes found in a full-resolution crop come back to detect-frame pixels.
        scale = sample.full_size[0] / self.frame_size[0]
        for crop in crops:
            self.stats.detector_calls += 1
            x1, y1, x2, y2 = crop.box
            pixels = sample.full_crop(crop.box) if crop.full else image[y1:y2, x1:x2]
            if night:
                pixels = equalised(pixels)
            back = scale if crop.full else 1.0
            # A box's area counts as the detector saw it: a distant person of 9x24 px in a 240 px crop enlarged to
            # NanoDet's 416 is 16x42 px to the model, as clear as a near one; min_area at detect size alone would
            # reject anyone under about 32x12 px whatever the crop (the parking lot's pedestrian, docs/benchmarks.md).
            # Never less than its area at detect size, so a large crop the model shrinks rejects nothing it kept.
            seen = seen_scale(pixels.shape[1], pixels.shape[0], self.detector.input_size)
            picture = sample.full_size if crop.full else self.frame_size
            in_crop = [
                replace(
                    d,
                    box=(
                        (d.box[0] + x1) / back,
                        (d.box[1] + y1) / back,
                        (d.box[2] + x1) / back,
                        (d.box[3] + y1) / back,
                    ),
                    cut=cut_by_crop(d.box, crop.box, picture),
                )
                for d in self.detector.detect(pixels, self.min_score)
                if self._wanted(d, max(d.area * seen**2, d.area / back**2))
            ]
            area: Box = (x1 / back, y1 / back, x2 / back, y2 / back)
            # An empty crop where a known object should be means the object is missing, not that the motion
            # there is noise: only crops with no object in them are quietened.
            if not in_crop and not any(overlaps(obj.box, area) for obj in self.lifecycle.active.values()):
                # An empty fine crop quietens what a detect-frame crop there would have: its tighter square would
                # leave the flicker around it (water, leaves) to cost a call of its own on the next frame.
                self._quiet.append((crop_for(area, self.frame_size) if crop.full else area, now))
                if all(crop != watch.crop for watch in self._looking_again):
                    self._watch(now, crop, area, self._motion)
            if in_crop:
                # Found: what is there is followed from here on.
                self._watches = [watch for watch in self._watches if not contains(area, centre(watch.area))]
            found += in_crop
        if len(found) < 2:
            return found
        # Neighbouring crops can each see the same object. The kept detections are the ones found, so each keeps
        # whether its own crop cut it.
        per_label = [
            found[index]
            for index in kept_by_nms(
                np.array([d.box for d in found], dtype=np.float32),
                np.array([d.score for d in found], dtype=np.float32),
                np.array([self.labels.index(d.label) for d in found], dtype=np.int64),
                self.min_score,
            )
        ]
        # One animal scored both `cat` and `dog` in the same place is one object; its label is settled by the
        # votes of its whole track, not by a second event.
        kept: list[Detection] = []
        for detection in sorted(per_label, key=lambda d: d.score, reverse=True):
            if all(box_iou(detection.box, other.box) < SAME_OBJECT_IOU for other in kept):
                kept.append(detection)
        return kept

    def _wanted(self, detection: Detection, area: float) -> bool:
        """Tell whether a detection counts: a label looked for, its score, and its area as the detector saw it."""
        if detection.label not in self.labels:
            return False
        rule = self.objects.filter_for(detection.label)
        return detection.score >= rule.min_score and area >= rule.min_area
