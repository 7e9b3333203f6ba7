"""Turn tracked detections into events: confirmed by consistent detections, ended once the object is gone."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.config.model import ObjectsConfig, ZoneConfig
from homewarden.detect.base import Detection
from homewarden.track.bytetrack import TrackedDetection

Image = npt.NDArray[np.uint8]

MIN_HITS = 3
RECENT_SCORES = 10
# A track that ByteTrack drops and restarts on the same object should not become a second event.
REATTACH_IOU = 0.3
REATTACH_GROWTH = 2.0


def grow_box(box: tuple[float, float, float, float], factor: float) -> tuple[float, float, float, float]:
    """Scale a box about its centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


@dataclass
class TrackedObject:
    """One object followed over time, and the evidence for it."""

    id: str
    track_id: int
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
    zones: list[str] = field(default_factory=list)
    confirmed: bool = False

    @property
    def label(self) -> str:
        """Return the label most of the detections agree on, weighted by score."""
        return max(self.label_votes.items(), key=lambda item: item[1])[0]

    @property
    def median_score(self) -> float:
        """Return the median of the recent scores."""
        return statistics.median(self.scores) if self.scores else 0.0


@dataclass(frozen=True)
class EventStarted:
    """An object was confirmed; its event began at its first sighting."""

    obj: TrackedObject


@dataclass(frozen=True)
class EventEnded:
    """A confirmed object is gone; its event ended at its last sighting."""

    obj: TrackedObject


EventChange = EventStarted | EventEnded


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Return the intersection over union of two x1 y1 x2 y2 boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class EventLifecycle:
    """Keep the objects of one camera and report when their events start and end."""

    def __init__(self, objects: ObjectsConfig, zones: dict[str, ZoneConfig], expire_after: float = 4.0) -> None:
        self.objects = objects
        self.zones = {name: (np.array(zone.coordinates, dtype=np.float32), zone) for name, zone in zones.items()}
        self.expire_after = expire_after
        self.active: dict[int, TrackedObject] = {}

    def update(self, now: float, tracked: list[TrackedDetection], frame: Image) -> list[EventChange]:
        """Add one frame's tracked detections; return the events that started."""
        changes: list[EventChange] = []
        seen: set[int] = set()
        for item in tracked:
            obj = self.active.get(item.track_id) or self._reattach(item, now, seen)
            if obj is None:
                obj = TrackedObject(
                    id=uuid.uuid4().hex,
                    track_id=item.track_id,
                    first_seen=now,
                    last_seen=now,
                    box=item.detection.box,
                )
            self.active.pop(obj.track_id, None)
            obj.track_id = item.track_id
            self.active[item.track_id] = obj
            seen.add(item.track_id)
            self._add_evidence(obj, now, item.detection, frame)
            if not obj.confirmed and self._confirms(obj):
                obj.confirmed = True
                changes.append(EventStarted(obj))
        return changes

    def expire(self, now: float) -> list[EventChange]:
        """Drop objects not seen for a while; return the events that ended."""
        changes: list[EventChange] = []
        for track_id, obj in list(self.active.items()):
            if now - obj.last_seen > self.expire_after:
                del self.active[track_id]
                if obj.confirmed:
                    changes.append(EventEnded(obj))
        return changes

    def end_all(self) -> list[EventChange]:
        """End every confirmed object's event (the video is over)."""
        changes: list[EventChange] = [EventEnded(obj) for obj in self.active.values() if obj.confirmed]
        self.active.clear()
        return changes

    def _reattach(self, item: TrackedDetection, now: float, taken: set[int]) -> TrackedObject | None:
        """Find the object a new track continues: same label, not seen this frame, close to its last box."""
        best, best_score = None, 0.0
        for track_id, obj in self.active.items():
            if track_id in taken or obj.last_seen >= now or obj.label_votes.get(item.detection.label, 0.0) <= 0.0:
                continue
            iou = box_iou(obj.box, item.detection.box)
            # The detector looks at a confirmed object only every few seconds, so its last box can lag a
            # walking person; a new track starting next to it is the same person.
            near = obj.confirmed and box_iou(grow_box(obj.box, REATTACH_GROWTH), item.detection.box) > 0.0
            score = iou + (1.0 if near else 0.0)
            if (iou >= REATTACH_IOU or near) and score > best_score:
                best, best_score = obj, score
        return best

    def _add_evidence(self, obj: TrackedObject, now: float, detection: Detection, frame: Image) -> None:
        obj.last_seen = now
        obj.box = detection.box
        obj.hits += 1
        obj.scores.append(detection.score)
        obj.label_votes[detection.label] += detection.score
        if detection.score > obj.best_score:
            obj.best_score = detection.score
            obj.best_box = detection.box
            obj.best_time = now
            obj.best_image = frame
        x1, _, x2, y2 = detection.box
        foot = ((x1 + x2) / 2, y2)
        for name, (polygon, zone) in self.zones.items():
            if name in obj.zones or (zone.objects and detection.label not in zone.objects):
                continue
            if cv2.pointPolygonTest(polygon, foot, False) >= 0:
                obj.zones.append(name)

    def _confirms(self, obj: TrackedObject) -> bool:
        label = obj.label
        if label not in self.objects.track:
            return False
        rule = self.objects.filter_for(label)
        return obj.hits >= MIN_HITS and obj.median_score >= rule.threshold and obj.best_box != (0.0, 0.0, 0.0, 0.0)
