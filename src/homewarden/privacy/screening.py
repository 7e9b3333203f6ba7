"""Screen a redacted copy for nudity before anyone sees it, with NudeNet 3.4.2 (its bundled YOLOv8n ``320n.onnx``).

What is refused: a sampled frame where NudeNet reports one of the exposed classes (``FEMALE_BREAST_EXPOSED``,
``FEMALE_GENITALIA_EXPOSED``, ``MALE_GENITALIA_EXPOSED``, ``BUTTOCKS_EXPOSED``, ``ANUS_EXPOSED``) at a score of at
least 0.45. The covered classes, faces, feet, bellies, armpits and a bare male chest are not refused: a household
in summer clothes is ordinary footage.

Why 0.45: NudeNet itself keeps every box from 0.2, too low to refuse on alone. On the shared
clean footage (an office, a corridor, two people close to the camera) none of these five classes reaches even 0.2 at
640, while what it does report there scores up to 0.84 (``FACE_FEMALE``), 0.66 (``FEMALE_BREAST_COVERED``) and 0.29
(``ARMPITS_EXPOSED``).
Erring low costs an owner a refused donation; erring high shows a reviewer what must never reach them, so the
threshold sits a little under an even 0.5. A hit in any one frame refuses the whole copy.

Frames are checked at 640 (``NudeDetector(inference_resolution=640)``): at its default 320 the model misses small
figures in a wide camera view. Two frames a second, evenly spaced, plus always the first and the last frame.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from homewarden.detect.body_parts import NUDENET_CLASSES

EXPOSED_CLASSES = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
DEFAULT_MIN_SCORE = 0.45
# NudeNet's own candidate floor and box overlap for non-maximum suppression.
CANDIDATE_SCORE = 0.2
NMS_SCORE, NMS_IOU = 0.25, 0.45


class ScreeningError(Exception):
    """A copy that cannot be screened (not a readable video); treat it as refused."""


@dataclass(frozen=True)
class ScreeningPolicy:
    """Which NudeNet classes refuse a copy, from which score, and how many frames a second are checked."""

    classes: frozenset[str] = EXPOSED_CLASSES
    min_score: float = DEFAULT_MIN_SCORE
    frames_per_second: float = 2.0
    resolution: int = 640


@dataclass(frozen=True)
class ScreeningHit:
    """A class found at a score the policy refuses, and when (seconds from the copy's start)."""

    time: float
    label: str
    score: float


@dataclass
class ScreeningResult:
    """Whether the copy may be shown to a reviewer, and why not."""

    passed: bool
    hits: list[ScreeningHit] = field(default_factory=list)
    frames_checked: int = 0
    seconds_taken: float = 0.0


_detectors: dict[int, Any] = {}
_detectors_lock = threading.Lock()


def nude_detector(resolution: int) -> Any:
    """Return the NudeNet detector for an inference resolution, loaded once per process (thread-safe)."""
    with _detectors_lock:
        if resolution not in _detectors:
            from nudenet import NudeDetector

            detector = NudeDetector(inference_resolution=resolution)
            width = detector.onnx_session.get_outputs()[0].shape[1]
            if width != 4 + len(NUDENET_CLASSES):
                raise ScreeningError(f"unexpected NudeNet model: {width} outputs per box")
            _detectors[resolution] = detector
        return _detectors[resolution]


def detect_nudity(image: npt.NDArray[np.uint8], resolution: int) -> list[tuple[str, float]]:
    """Return NudeNet's (class, score) findings in a BGR image, as ``NudeDetector.detect`` reports them."""
    detector = nude_detector(resolution)
    height, width = image.shape[:2]
    side = max(height, width)
    # NudeNet's preprocessing, step for step: it swaps the channels of the BGR image it read (RGBA2BGR also
    # takes three channels), pads right and bottom to a square, and swaps them back while scaling to 0..1.
    # Its scores were calibrated by its users through this path, so the model gets exactly the same input.
    swapped = cv2.cvtColor(image, cv2.COLOR_RGBA2BGR)
    square = cv2.copyMakeBorder(swapped, 0, side - height, 0, side - width, cv2.BORDER_CONSTANT)
    blob = cv2.dnn.blobFromImage(square, 1 / 255.0, (resolution, resolution), (0, 0, 0), swapRB=True, crop=False)
    output = detector.onnx_session.run(None, {detector.input_name: blob})[0]
    # NudeNet's postprocessing loops over every candidate in Python (about 70 ms at 640); the same, vectorised.
    rows = np.squeeze(output[0]).T
    class_scores = rows[:, 4:]
    best = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(rows)), best]
    keep = scores >= CANDIDATE_SCORE
    if not keep.any():
        return []
    rows, best, scores = rows[keep], best[keep], scores[keep]
    factor = side / resolution
    boxes = np.column_stack(
        [
            (rows[:, 0] - rows[:, 2] / 2) * factor,
            (rows[:, 1] - rows[:, 3] / 2) * factor,
            rows[:, 2] * factor,
            rows[:, 3] * factor,
        ]
    )
    kept = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), NMS_SCORE, NMS_IOU)
    return [(NUDENET_CLASSES[int(best[i])], float(scores[i])) for i in np.asarray(kept, dtype=np.int64).reshape(-1)]


def screen_clip(mp4: bytes, policy: ScreeningPolicy | None = None) -> ScreeningResult:
    """Check evenly sampled frames of a clip (the first and last always) and refuse it on any finding."""
    policy = policy or ScreeningPolicy()
    started = time.perf_counter()
    step = 1.0 / policy.frames_per_second
    hits: list[ScreeningHit] = []
    checked = 0
    last: tuple[float, Any] | None = None
    last_checked = False

    def check(moment: float, frame: Any) -> None:
        nonlocal checked
        checked += 1
        for label, score in detect_nudity(frame.to_ndarray(format="bgr24"), policy.resolution):
            if label in policy.classes and score >= policy.min_score:
                hits.append(ScreeningHit(round(moment, 3), label, score))

    try:
        with av.open(io.BytesIO(mp4), mode="r") as container:
            if not container.streams.video:
                raise ScreeningError("the copy has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            start: float | None = None
            due = 0.0
            for index, frame in enumerate(container.decode(stream)):
                moment = float(frame.time) if frame.time is not None else index * step
                start = moment if start is None else start
                moment -= start
                last, last_checked = (moment, frame), False
                if moment >= due - 1e-6:
                    check(moment, frame)
                    last_checked = True
                    due = (int(moment / step + 1e-6) + 1) * step
    except av.error.FFmpegError as exc:
        raise ScreeningError(f"cannot read the copy: {str(exc).strip().splitlines()[0][:200]}") from None
    if last is None:
        raise ScreeningError("the copy has no frames")
    if not last_checked:
        check(*last)
    return ScreeningResult(not hits, hits, checked, time.perf_counter() - started)
