"""Write dlib's frontal face (HOG) detector to src/homewarden/faces/models/ as a file dlib loads in milliseconds.

    python scripts/export_face_detector.py

`dlib.get_frontal_face_detector()` rebuilds the detector from a compressed text form compiled into dlib, which takes
about 1.2 s of CPU at every start; `dlib.fhog_object_detector(path)` reads the same detector, saved in dlib's binary
form, in about 2 ms. Run again after upgrading dlib; tests/faces/test_dlib_models.py checks that the shipped file
finds exactly what dlib's built-in detector finds. dlib is under the Boost Software License (models/DLIB_LICENSE).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dlib  # type: ignore[import-untyped]

TARGET = Path(__file__).resolve().parents[1] / "src" / "homewarden" / "faces" / "models" / "frontal_face_detector.svm"


def main() -> None:
    """Save the detector and print its size and SHA-256."""
    dlib.get_frontal_face_detector().save(str(TARGET))
    digest = hashlib.sha256(TARGET.read_bytes()).hexdigest()
    print(f"{TARGET} ({TARGET.stat().st_size} bytes, dlib {dlib.__version__}, SHA-256 {digest})")


if __name__ == "__main__":
    main()
