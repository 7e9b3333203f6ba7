"""One camera's pipeline: analysed frames drive events, events drive clips, finished events are published."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.camera.analyzer import FrameAnalyzer
from homewarden.camera.live import LiveFrames, LiveObject
from homewarden.camera.reader import Sample
from homewarden.config.model import HomewardenConfig
from homewarden.detect.base import ObjectDetector
from homewarden.detect.verifier import DetectionReview
from homewarden.events.alarm import AlarmDecision, IntrusionWatch, decision_attributes
from homewarden.events.arming import ArmingState
from homewarden.events.intrusions import IntrusionBoard, IntrusionSummary
from homewarden.events.lifecycle import EventEnded, EventStarted, TrackedObject
from homewarden.events.record import EventRecord
from homewarden.faces.household import HouseholdHandle
from homewarden.faces.identity import PersonIdentifier
from homewarden.faces.library import household_gallery
from homewarden.notify.bus import DoorbellPressed, EventUpdated, HubBus, IntrusionChanged, MotionChanged
from homewarden.notify.bus import EventEnded as BusEventEnded
from homewarden.notify.bus import EventStarted as BusEventStarted
from homewarden.store.media import MediaFolder
from homewarden.video.recorder import ClipRecorder, FinishedRecording
from homewarden.video.source import StreamInfo

log = logging.getLogger(__name__)

SNAPSHOT_QUALITY = 90


# Motion counts as stopped once no frame has shown any for this long (a motion sensor's "clear" delay).
MOTION_HOLD = 3.0
# After a doorbell press, the visitor's face is looked for this long, on a frame every VISITOR_LOOK_INTERVAL.
VISITOR_WINDOW = 4.0
VISITOR_LOOK_INTERVAL = 0.5


@dataclass
class DoorbellRing:
    """A doorbell press being recorded, and what is known of the visitor."""

    bell: str
    at: float
    seconds: float
    visitor: str | None = None
    snapshot: bytes | None = None
    last_look: float = float("-inf")
    announced: bool = False


def _jpeg(image: npt.NDArray[np.uint8]) -> bytes | None:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
    return encoded.tobytes() if ok else None


@dataclass
class PendingEvent:
    """An event whose object is gone but whose clip is still taking its post-roll."""

    obj: TrackedObject
    ended: bool = False
    intrusion_id: str | None = None


class CameraPipeline:
    """Analyse frames, record event clips, and hand each finished event to a callback."""

    def __init__(
        self,
        name: str,
        config: HomewardenConfig,
        detector: ObjectDetector,
        media: MediaFolder,
        info: StreamInfo,
        template: object | None,
        audio: object | None,
        detect_size: tuple[int, int],
        source: str,
        on_event: Callable[[EventRecord], None],
        *,
        live_frames: LiveFrames | None = None,
        arming: ArmingState | None = None,
        household: HouseholdHandle | None = None,
        bus: HubBus | None = None,
        intrusions: IntrusionBoard | None = None,
        verifier: DetectionReview | None = None,
    ) -> None:
        camera = config.cameras[name]
        # Shared by every camera of a hub (areas span cameras); a pipeline of its own otherwise.
        self.intrusions = intrusions or IntrusionBoard(config.alarm.group_window, config.areas)
        self.bus = bus
        self._motion_until: float | None = None
        self._rings: dict[str, DoorbellRing] = {}
        self.last_time = 0.0
        self.name = name
        self.source = source
        self.live = info.live
        self.media = media
        self.on_event = on_event
        self.live_frames = live_frames
        self.analyzer = FrameAnalyzer(camera, config.objects_for(name), detector, detect_size, verifier)
        self.recorder = ClipRecorder(
            name, config.record_for(name), media, info, template if info.remuxable else None, audio
        )
        self.watch = IntrusionWatch(
            name,
            config.alarm,
            config.faces,
            detect_size,
            self._identifier_factory(config, household),
            info.live,
            arming,
        )
        self._pending: dict[str, PendingEvent] = {}
        self._lock = threading.Lock()
        self._restarted_at: float | None = None
        self.written: list[EventRecord] = []

    @staticmethod
    def _identifier_factory(
        config: HomewardenConfig, household: HouseholdHandle | None
    ) -> Callable[[], PersonIdentifier] | None:
        if not config.faces.enabled:
            return None
        handle = household or HouseholdHandle(lambda: household_gallery(config))

        def identifier() -> PersonIdentifier:
            # The household and the face models load on the first face lookup: a run that meets nobody pays nothing.
            # Loading here also lets a household that cannot be read turn recognition off, as IntrusionWatch expects.
            handle.current()
            return PersonIdentifier(handle, config.faces.min_face_size)

        return identifier

    def process(self, sample: Sample) -> None:
        """Analyse one frame and act on the events that started or ended."""
        with self._lock:
            if self._restarted_at is not None and sample.time >= self._restarted_at:
                self.analyzer.restart_stream()
                self._restarted_at = None
            self.last_time = sample.time
            self._apply(self.analyzer.analyze(sample))
            self._follow_motion(sample.time)
            for pending in self._pending.values():
                if not pending.ended:
                    decision = self.watch.follow(pending.obj, sample.time)
                    if decision is not None:
                        self._decided(pending, decision, sample.time)
                    if pending.intrusion_id is not None:
                        self.intrusions.seen(pending.obj.id, pending.obj.last_seen)
            self._close_intrusions(sample.time)
            self._identify_visitors(sample)
            self._publish_finished()
            if self.live_frames is not None:
                self.live_frames.publish(self.name, sample, self._live_objects())

    def ring(self, bell: str, at: float, seconds: float) -> str:
        """Record a doorbell press: from the pre-roll before ``at`` until ``seconds`` after; return the event id."""
        with self._lock:
            event_id = uuid.uuid4().hex
            self._rings[event_id] = DoorbellRing(bell, at, seconds)
            self.recorder.start(event_id, at)
            self.recorder.stop(event_id, at + seconds)
            log.info("camera %s: doorbell %s pressed: recording event %s", self.name, bell, event_id)
            return event_id

    def _identify_visitors(self, sample: Sample) -> None:
        """Look for the visitor's face on a few frames after a press (a member's name, "stranger", or nobody)."""
        for event_id, ring in self._rings.items():
            if ring.announced or sample.time < ring.at:
                continue
            late = sample.time - ring.at > VISITOR_WINDOW
            if not late and sample.time - ring.last_look >= VISITOR_LOOK_INTERVAL:
                ring.last_look = sample.time
                ring.visitor = self.watch.identify(sample.time, sample.image)
                ring.snapshot = _jpeg(sample.image)
            if ring.visitor is not None or late:
                ring.announced = True
                if self.bus is not None:
                    self.bus.publish(
                        DoorbellPressed(self.name, event_id, ring.at, ring.visitor, ring.snapshot, ring.bell)
                    )

    def _follow_motion(self, now: float) -> None:
        if self.analyzer.last_motion:
            if self._motion_until is None and self.bus is not None:
                self.bus.publish(MotionChanged(self.name, True, now))
            self._motion_until = now + MOTION_HOLD
        elif self._motion_until is not None and now > self._motion_until:
            self._motion_until = None
            if self.bus is not None:
                self.bus.publish(MotionChanged(self.name, False, now))

    def _end_motion(self, now: float | None) -> None:
        """Clear the motion state when no frame arrives (the camera is down) or the stream is over (now None)."""
        if self._motion_until is not None and (now is None or now > self._motion_until):
            self._motion_until = None
            if self.bus is not None:
                self.bus.publish(MotionChanged(self.name, False, self.last_time if now is None else now))

    def _decided(self, pending: PendingEvent, decision: AlarmDecision, now: float) -> None:
        """Act on a running track's alarm decision: its intrusion learns who it is and whether it alarmed."""
        obj = pending.obj
        watched = self.watch.tracks.get(obj.id)
        sub_label = watched.faces.sub_label() if watched is not None else None
        if decision.label == "person":
            self._join_intrusion(pending, now)
        intrusion = self._settle_in_intrusion(obj.id, decision, sub_label, now)
        if self.bus is not None:
            self.bus.publish(
                EventUpdated(
                    self.name, obj.id, decision.label, sub_label, decision.alarm, decision.reason, now, intrusion
                )
            )

    def _join_intrusion(self, pending: PendingEvent, now: float) -> None:
        """Put a person track into its area's intrusion (once) and announce the intrusion's new or larger crowd."""
        if pending.intrusion_id is not None:
            return
        obj = pending.obj
        summary = self.intrusions.join(self.name, obj.id, obj.first_seen, obj.last_seen if pending.ended else None)
        pending.intrusion_id = summary.id
        self._announce("new" if summary.people == 1 else "update", summary, now)

    def _settle_in_intrusion(
        self, track_id: str, decision: AlarmDecision, sub_label: str | None, now: float
    ) -> str | None:
        """Tell the track's intrusion who it is and its alarm; return the intrusion's id (None if it has none)."""
        intrusion_id = self.intrusions.intrusion_of(track_id)
        if intrusion_id is None:
            return None
        self.intrusions.identify(track_id, sub_label)
        outcome = self.intrusions.alarm(track_id, decision.reason) if decision.alarm else None
        if outcome is not None and outcome.first:
            log.warning("camera %s: intrusion %s raised by event %s", self.name, intrusion_id, track_id)
        summary = outcome.summary if outcome is not None else self.intrusions.summary_of(track_id)
        if summary is not None:
            self._announce("update", summary, now)
        return intrusion_id

    def _announce(self, kind: str, summary: IntrusionSummary, now: float) -> None:
        if self.bus is not None:
            self.bus.publish(IntrusionChanged(kind, summary, now))

    def _close_intrusions(self, now: float, announced_at: float | None = None, area: str | None = None) -> None:
        for summary in self.intrusions.expire(now, area):
            self._announce("end", summary, now if announced_at is None else announced_at)

    def restart_stream(self, at: float) -> None:
        """Note that the video jumped (a looping file started over) at this time: its frames are a new scene."""
        with self._lock:
            # Frames of the previous pass may still be waiting to be analysed: the analyser restarts at the
            # first frame of the new one.
            self._restarted_at = at

    def _live_objects(self) -> list[LiveObject]:
        width, height = self.analyzer.frame_size
        objects = []
        for obj in self.analyzer.lifecycle.active.values():
            if not obj.confirmed:
                continue
            watched = self.watch.tracks.get(obj.id)
            x1, y1, x2, y2 = (round(value) for value in obj.box)
            objects.append(
                LiveObject(
                    label=obj.label,
                    score=round(obj.scores[-1] if obj.scores else obj.best_score, 4),
                    box=(max(0, x1), max(0, y1), min(width - 1, x2), min(height - 1, y2)),
                    sub_label=watched.faces.sub_label() if watched is not None and obj.label == "person" else None,
                )
            )
        return objects

    def tick(self, now: float) -> None:
        """Expire objects when no frames arrive (the camera is down) and publish finished events."""
        with self._lock:
            self._apply(self.analyzer.expire(now))
            # A camera that died mid-event: the event ends and is stored now, not when (or if) the camera is back.
            self.recorder.finish_overdue(now)
            self._end_motion(now)
            self._publish_finished()
            self._close_intrusions(now)

    def finish(self) -> None:
        """End every event and close every clip (the stream is over or the hub is stopping)."""
        with self._lock:
            self._apply(self.analyzer.lifecycle.end_all())
            self.recorder.finish_all()
            self._end_motion(None)
            self._publish_finished()
            # Every track of this camera is over: its intrusions end once no other camera of their area has one.
            # Only its own area's: another camera's (its file still playing, or a live one) stays open for whoever
            # that camera sees within the window, and closes on that camera's clock.
            area = self.intrusions.area_of(self.name)
            self._close_intrusions(float("inf"), announced_at=self.last_time, area=area)

    def _apply(self, changes: list[EventStarted | EventEnded]) -> None:
        for change in changes:
            obj = change.obj
            if isinstance(change, EventStarted):
                started = self._pending[obj.id] = PendingEvent(obj)
                self.recorder.start(obj.id, obj.first_seen)
                log.info("camera %s: %s event %s started", self.name, obj.label, obj.id)
                if self.bus is not None:
                    self.bus.publish(
                        BusEventStarted(self.name, obj.id, obj.label, round(obj.best_score, 4), obj.first_seen)
                    )
                if obj.label == "person":
                    self._join_intrusion(started, obj.first_seen)
            else:
                pending = self._pending.get(obj.id)
                if pending is not None:  # else its recording was cut short and the event is already reported
                    pending.ended = True
                self.recorder.stop(obj.id, obj.last_seen)
                summary = self.intrusions.end(obj.id, obj.last_seen)
                if summary is not None:
                    self._announce("update", summary, obj.last_seen)

    def _publish_finished(self) -> None:
        for recording in self.recorder.take_finished():
            ring = self._rings.pop(recording.event_id, None)
            pending = self._pending.pop(recording.event_id, None)
            if ring is not None:
                record = self._finish_ring(recording, ring)
            elif pending is not None:
                record = self._finish_event(pending, recording)
            else:
                continue
            self.written.append(record)
            self.on_event(record)
            if self.bus is not None:
                self.bus.publish(BusEventEnded(record))

    def _finish_ring(self, recording: FinishedRecording, ring: DoorbellRing) -> EventRecord:
        snapshot = None
        if ring.snapshot is not None:
            path = self.media.path_for(self.name, recording.event_id, ".jpg")
            try:
                self.media.write_atomically(path, ring.snapshot)
                snapshot = str(path)
            except OSError as exc:
                log.error(
                    "camera %s: doorbell event %s: cannot store snapshot (%s)", self.name, recording.event_id, exc
                )
        width, height = self.analyzer.frame_size
        return EventRecord(
            id=recording.event_id,
            camera=self.name,
            label="doorbell",
            score=1.0,
            start=ring.at,
            end=ring.at + ring.seconds,
            live=self.live,
            box=(0, 0, width, height),
            snapshot=snapshot,
            clips=tuple(recording.clips),
            sub_label=ring.visitor,
            attributes={"doorbell": ring.bell},
            source=self.source,
            clip_error=recording.error,
        )

    def _finish_event(self, pending: PendingEvent, recording: FinishedRecording) -> EventRecord:
        obj = pending.obj
        snapshot = self._write_snapshot(obj)
        conclusion = self.watch.conclude(obj)
        if conclusion.label == "person":
            self._join_intrusion(pending, obj.last_seen)
            self._settle_in_intrusion(obj.id, conclusion.decision, conclusion.sub_label, obj.last_seen)
        elif pending.intrusion_id is not None:
            # Held back as a pet: it is no one in the intrusion.
            pending.intrusion_id = None
            summary = self.intrusions.leave(obj.id)
            if summary is not None:
                self._announce("update", summary, obj.last_seen)
        x1, y1, x2, y2 = obj.best_box
        return EventRecord(
            id=obj.id,
            camera=self.name,
            label=conclusion.label,
            score=round(obj.best_score, 4),
            start=obj.first_seen,
            end=obj.last_seen,
            live=self.live,
            box=(round(x1), round(y1), round(x2), round(y2)),
            box_time=obj.best_time,
            snapshot=str(snapshot) if snapshot else None,
            clips=tuple(recording.clips),
            zones=tuple(obj.zones),
            alarm=conclusion.decision.alarm,
            alarm_reason=conclusion.decision.reason,
            sub_label=conclusion.sub_label,
            attributes=decision_attributes(conclusion.decision),
            source=self.source,
            clip_error=recording.error,
            intrusion_id=pending.intrusion_id,
        )

    def _write_snapshot(self, obj: TrackedObject) -> str | None:
        if obj.best_image is None:
            return None
        ok, encoded = cv2.imencode(".jpg", obj.best_image, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
        if not ok:
            return None
        path = self.media.path_for(self.name, obj.id, ".jpg")
        try:
            self.media.write_atomically(path, encoded.tobytes())
        except OSError as exc:
            log.error("camera %s: event %s: cannot store snapshot (%s)", self.name, obj.id, exc)
            return None
        return str(path)

    def discard(self) -> None:
        """Delete every clip and snapshot this pipeline wrote (the run failed and is rolled back)."""
        with self._lock:
            self.recorder.discard_all()
            for record in self.written:
                for clip in record.clips:
                    self.media.discard(Path(clip.path))
                if record.snapshot:
                    self.media.discard(Path(record.snapshot))
