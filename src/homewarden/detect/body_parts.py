"""What says "a human body" in a crop: NudeNet's body-part detector (the YOLOv8n ``320n.onnx`` its wheel ships).

The verifier's features (detect/verifier.py) add, to NanoDet's class scores, the best score of each group of body
parts below anywhere in the detection's crop. Fish, cats and furniture have no faces, feet or armpits; NanoDet's
``person`` score on a crop says "looks like the people it was trained on", these say "has a body's parts". Nothing is
downloaded: the weights are a file of the ``nudenet==3.4.2`` wheel, a dependency of the hub (content screening).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.detect.base import DetectorLoadError, Image

# NudeNet 3.4.2's class order (nudenet/nudenet.py), checked against the model's output width where it loads (here and
# in privacy/screening.py, which reads the same list).
NUDENET_CLASSES = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
# Groups, not the 18 classes: covered or exposed, female or male says nothing about whether it is a person, and fewer
# features learn less of "looks like the training clips" from a handful of donated scenes.
BODY_PART_GROUPS: dict[str, tuple[str, ...]] = {
    "face": ("FACE_FEMALE", "FACE_MALE"),
    "feet": ("FEET_EXPOSED", "FEET_COVERED"),
    "armpits": ("ARMPITS_COVERED", "ARMPITS_EXPOSED"),
    "belly": ("BELLY_COVERED", "BELLY_EXPOSED"),
    "chest": ("FEMALE_BREAST_COVERED", "FEMALE_BREAST_EXPOSED", "MALE_BREAST_EXPOSED"),
    "buttocks": ("BUTTOCKS_COVERED", "BUTTOCKS_EXPOSED"),
    "hips": (
        "FEMALE_GENITALIA_COVERED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_COVERED",
        "ANUS_EXPOSED",
    ),
}
INPUT_SIZE = 320
_GROUP_COLUMNS = [[NUDENET_CLASSES.index(name) for name in members] for members in BODY_PART_GROUPS.values()]


def nudenet_model_path() -> Path:
    """Return the path of ``320n.onnx`` inside the installed nudenet wheel, without importing nudenet."""
    spec = importlib.util.find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorLoadError("the verifier's body-part features need the nudenet package: pip install homewarden")
    path = Path(next(iter(spec.submodule_search_locations))) / "320n.onnx"
    if not path.is_file():
        raise DetectorLoadError(f"nudenet's model is missing at {path}")
    return path


class BodyPartScorer:
    """Score body-part groups in a crop with NudeNet's detector (one onnxruntime thread: it runs per detection)."""

    def __init__(self, path: Path | None = None) -> None:
        from homewarden.detect.base import onnx_session

        self._session: Any = onnx_session(str(path or nudenet_model_path()), 1)
        self._input = self._session.get_inputs()[0].name
        width = self._session.get_outputs()[0].shape[1]
        if width != 4 + len(NUDENET_CLASSES):
            raise DetectorLoadError(f"unexpected NudeNet model: {width} outputs per box")

    def group_scores(self, image: Image) -> npt.NDArray[np.float64]:
        """Return each body-part group's best score anywhere in a BGR image (0-1)."""
        height, width = image.shape[:2]
        side = max(height, width, 1)
        # NudeNet's own input, as privacy/screening.py reproduces it: padded right and bottom to a square, 0-1, and in
        # BGR order (NudeNet swaps the channels of what it reads twice), so the model sees what its users tuned.
        square = cv2.copyMakeBorder(image, 0, side - height, 0, side - width, cv2.BORDER_CONSTANT)
        blob = cv2.dnn.blobFromImage(square, 1 / 255.0, (INPUT_SIZE, INPUT_SIZE), (0, 0, 0), swapRB=False, crop=False)
        # No lock: onnxruntime's run is safe from several threads, so cameras verifying at once run side by side (one
        # thread each), as NanoDet's session does.
        output = self._session.run(None, {self._input: blob})[0]
        best = np.asarray(output[0, 4:, :], dtype=np.float64).max(axis=1)
        return np.array([best[columns].max() for columns in _GROUP_COLUMNS], dtype=np.float64)


_shared: BodyPartScorer | None = None
_shared_lock = threading.Lock()


def body_part_scorer() -> BodyPartScorer:
    """Return the process's body-part scorer, loaded once (thread-safe)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BodyPartScorer()
        return _shared
