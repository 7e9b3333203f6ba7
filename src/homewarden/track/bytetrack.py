"""Give detections stable ids over time with supervision's ByteTrack."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from homewarden.detect.base import Detection

if TYPE_CHECKING:
    from supervision.detection.core import Detections
    from supervision.tracker.byte_tracker.core import ByteTrack

# ByteTrack counts time in updates, and the tracker is updated only on frames where the detector ran.
# A track survives this many such updates without a match before it is dropped.
LOST_TRACK_UPDATES = 25


def load_bytetrack() -> tuple[type[ByteTrack], type[Detections]]:
    """Import supervision's ByteTrack and Detections without running the package's `__init__`.

    `import supervision` imports every annotator, dataset and metric, and with them matplotlib's pyplot and
    scipy.interpolate: about 2 s of CPU at each start of `analyze`, for nothing the tracker uses. The package's
    modules are loaded under an unexecuted package module, which is then taken out of `sys.modules`, so a later
    `import supervision` anywhere still runs the real `__init__` (it finds these modules already loaded).
    """
    if "supervision" not in sys.modules:
        spec = importlib.util.find_spec("supervision")
        if spec is not None and spec.submodule_search_locations is not None:
            sys.modules["supervision"] = importlib.util.module_from_spec(spec)
            try:
                from supervision.detection.core import Detections
                from supervision.tracker.byte_tracker.core import ByteTrack
            finally:
                del sys.modules["supervision"]
            return ByteTrack, Detections
    from supervision.detection.core import Detections
    from supervision.tracker.byte_tracker.core import ByteTrack

    return ByteTrack, Detections


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
        byte_track, self._detections = load_bytetrack()
        self._tracker = byte_track(
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
            frame = self._detections(
                xyxy=np.array([d.box for d in detections], dtype=np.float32),
                confidence=np.array([d.score for d in detections], dtype=np.float32),
                class_id=class_ids,
                data={"index": np.arange(len(detections))},
            )
        else:
            frame = self._detections.empty()
        tracked = self._tracker.update_with_detections(frame)
        track_ids: dict[int, int] = {}
        if tracked.tracker_id is not None and len(tracked) > 0:
            track_ids = {
                int(index): int(track_id)
                for track_id, index in zip(tracked.tracker_id, tracked.data["index"], strict=True)
            }
        return [TrackedDetection(track_ids.get(index), detection) for index, detection in enumerate(detections)]
