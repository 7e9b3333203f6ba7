"""The tracker: stable ids for moving boxes, and supervision's ByteTrack loaded without the rest of supervision."""

from __future__ import annotations

import subprocess
import sys

from homewarden.detect.base import Detection
from homewarden.track.bytetrack import ObjectTracker


def test_a_walking_person_keeps_one_id_and_a_second_one_gets_another() -> None:
    tracker = ObjectTracker(min_score=0.5)
    ids: list[int | None] = []
    others: list[int | None] = []
    for step in range(6):
        walker = Detection("person", 0.9, (100.0 + 6 * step, 80.0, 160.0 + 6 * step, 240.0))
        visitor = Detection("person", 0.85, (400.0, 60.0, 470.0, 250.0))
        walked, stood = tracker.update([walker, visitor])
        ids.append(walked.track_id)
        others.append(stood.track_id)
    assert ids[-1] is not None
    assert set(ids[1:]) == {ids[-1]}
    assert set(others[1:]) == {others[-1]}
    assert ids[-1] != others[-1]


def test_tracking_loads_neither_matplotlib_nor_the_rest_of_supervision() -> None:
    """`import supervision` pulls pyplot and every annotator into each `analyze`; the tracker needs none of it."""
    check = """
import sys
from homewarden.detect.base import Detection
from homewarden.track.bytetrack import ObjectTracker
ObjectTracker(0.5).update([Detection("person", 0.9, (1.0, 2.0, 50.0, 90.0))])
print("matplotlib" in sys.modules, "supervision.annotators.core" in sys.modules)
import supervision as sv
tracker_detections = sys.modules["supervision.detection.core"].Detections
print(hasattr(sv, "BoxAnnotator"), sv.Detections is tracker_detections)
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    # Before: neither is loaded. After a later `import supervision` elsewhere: the whole package, the same classes.
    assert done.stdout.split() == ["False", "False", "True", "True"]
