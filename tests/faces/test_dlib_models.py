"""The face detector shipped as a file is dlib's own: the same faces, the same scores, on real photos."""

from __future__ import annotations

import dlib  # type: ignore[import-untyped]

from conftest import media_file
from homewarden.faces.dlib_models import HOG_DETECTOR_FILE, load_face_models
from homewarden.faces.gallery import read_photo


def test_the_shipped_detector_finds_what_dlibs_built_in_one_finds() -> None:
    built_in = dlib.get_frontal_face_detector()
    shipped = load_face_models()
    found = 0
    for photo in ("probe/obama_and_biden.jpg", "probe/kit_with_rose.jpg", "probe/johnsnow_test1.jpg"):
        image = read_photo(media_file(f"faces/{photo}"))
        rects, scores, _ = built_in.run(image, 1, 0.0)
        expected = [
            ((r.left(), r.top(), r.right(), r.bottom()), round(float(s), 6)) for r, s in zip(rects, scores, strict=True)
        ]
        got = [(box, round(score, 6)) for box, score in shipped.detect(image, upsample=1)]
        assert got == expected
        found += len(got)
    # obama_and_biden shows three faces, kit_with_rose two, johnsnow_test1 one (tests/data/README.md).
    assert found >= 6
    assert HOG_DETECTOR_FILE.stat().st_size > 100_000
