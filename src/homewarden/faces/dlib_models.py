"""Load dlib's face detector, landmark model and face embedding from the weights shipped in a wheel."""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from homewarden.errors import UserError

# The 128-d ResNet (accuracy 99.38 % on LFW per dlib) with the 5-point landmarks it was trained with.
EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1"
LANDMARK_MODEL = "shape_predictor_5_face_landmarks"
EMBEDDING_SIZE = 128
# dlib's own frontal face detector, saved by scripts/export_face_detector.py: dlib reads this file in milliseconds,
# while get_frontal_face_detector() rebuilds the same detector from text for about 1.2 s of CPU at every start.
HOG_DETECTOR_FILE = Path(__file__).with_name("models") / "frontal_face_detector.svm"

Embedding = npt.NDArray[np.float32]
RGBImage = npt.NDArray[np.uint8]


class FaceModelError(UserError):
    """The face models are not installed or cannot be loaded."""


def weights_folder() -> Path:
    """Return the folder of the face-recognition-models wheel without importing it.

    Its ``__init__`` imports ``pkg_resources``, which newer setuptools no longer ships and older ones deprecate;
    the weights are plain files next to it.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError("face recognition needs the face-recognition-models package: pip install homewarden")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@dataclass
class FaceModels:
    """dlib's HOG face detector, 5-point landmark model and 128-d face embedding."""

    detector: Any
    landmarks: Any
    embedder: Any
    # dlib's networks keep working buffers inside the model object: one camera thread at a time.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def detect(self, image: RGBImage, upsample: int) -> list[tuple[tuple[int, int, int, int], float]]:
        """Return the faces HOG finds (x1 y1 x2 y2 and detector score), upsampling small images first."""
        with self.lock:
            rects, scores, _ = self.detector.run(image, upsample, 0.0)
        return [
            ((int(r.left()), int(r.top()), int(r.right()), int(r.bottom())), float(s))
            for r, s in zip(rects, scores, strict=True)
        ]

    def embed(self, image: RGBImage, box: tuple[int, int, int, int]) -> Embedding:
        """Return the 128-d embedding of the face in ``box`` of an RGB image."""
        import dlib  # type: ignore[import-untyped]

        rect = dlib.rectangle(*box)
        with self.lock:
            shape = self.landmarks(image, rect)
            vector = self.embedder.compute_face_descriptor(image, shape, 0)
        return np.asarray(vector, dtype=np.float32)


@lru_cache(maxsize=1)
def load_face_models() -> FaceModels:
    """Load the models once per process (about half a second)."""
    try:
        import dlib
    except ImportError:
        raise FaceModelError("face recognition needs dlib: pip install homewarden (it brings dlib-bin)") from None
    folder = weights_folder()
    paths = {name: folder / f"{name}.dat" for name in (EMBEDDING_MODEL, LANDMARK_MODEL)}
    for path in paths.values():
        if not path.is_file():
            raise FaceModelError(f"face model {path} is missing; reinstall face-recognition-models")
    if not HOG_DETECTOR_FILE.is_file():
        raise FaceModelError(f"face detector {HOG_DETECTOR_FILE} is missing; reinstall homewarden")
    try:
        return FaceModels(
            detector=dlib.fhog_object_detector(str(HOG_DETECTOR_FILE)),
            landmarks=dlib.shape_predictor(str(paths[LANDMARK_MODEL])),
            embedder=dlib.face_recognition_model_v1(str(paths[EMBEDDING_MODEL])),
        )
    except RuntimeError as exc:
        raise FaceModelError(f"cannot load the face models: {exc}") from None
