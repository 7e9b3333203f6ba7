"""Give detections stable ids over time with supervision's ByteTrack."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import supervision as sv

from homewarden.detect.base import Detection

# ByteTrack counts time in updates, and the tracker is updated only on frames where the detector ran.
# A track survives this many such updates without a match before it is dropped.
LOST_TRACK_UPDATES = 25


@dataclass(frozen=True)
class TrackedDetection:
    """A detection and the id of the track it belongs to."""

    track_id: int | None
    detection: Detection


class ObjectTracker:
    """Associate each frame's detections with the tracks of earlier frames."""

    def __init__(self, min_score: float) -> None:
        # ByteTrack opens a new track only for detections above activation + 0.1; lower ones can still
        # extend an existing track (its second association stage).
        self._tracker = sv.ByteTrack(
            track_activation_threshold=max(0.05, min_score - 0.1),
            lost_track_buffer=LOST_TRACK_UPDATES,
            minimum_matching_threshold=0.8,
            frame_rate=30,
            minimum_consecutive_frames=1,
        )
        self._labels: dict[str, int] = {}

    def update(self, detections: list[Detection]) -> list[TrackedDetection]:
        """Return every detection, with the id of its track (None for one ByteTrack has not confirmed)."""
        if detections:
            class_ids = np.array([self._labels.setdefault(d.label, len(self._labels)) for d in detections])
            frame = sv.Detections(
                xyxy=np.array([d.box for d in detections], dtype=np.float32),
                confidence=np.array([d.score for d in detections], dtype=np.float32),
                class_id=class_ids,
                data={"index": np.arange(len(detections))},
            )
        else:
            frame = sv.Detections.empty()
        tracked = self._tracker.update_with_detections(frame)
        track_ids: dict[int, int] = {}
        if tracked.tracker_id is not None and len(tracked) > 0:
            track_ids = {
                int(index): int(track_id)
                for track_id, index in zip(tracked.tracker_id, tracked.data["index"], strict=True)
            }
        return [TrackedDetection(track_ids.get(index), detection) for index, detection in enumerate(detections)]
