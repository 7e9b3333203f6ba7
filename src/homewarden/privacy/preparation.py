"""Make a donated copy: redact the original clip, then screen the copy; refuse it if screening finds anything."""

from __future__ import annotations

from collections.abc import Callable

from homewarden.detect.base import ObjectDetector
from homewarden.privacy.donations import PreparedCopy
from homewarden.privacy.redaction import redact_clip
from homewarden.privacy.screening import ScreeningPolicy, screen_clip


def make_preparer(
    detector: Callable[[], ObjectDetector | None], policy: ScreeningPolicy | None = None
) -> Callable[[bytes, bool], PreparedCopy | str]:
    """Return the donations' preparer: redaction with the hub's person detector, then screening with ``policy``."""
    screening = policy or ScreeningPolicy()

    def prepare(original: bytes, mask_people: bool) -> PreparedCopy | str:
        redacted = redact_clip(original, mask_people=mask_people, detector=detector())
        result = screen_clip(redacted.mp4, screening)
        if not result.passed:
            found = ", ".join(sorted({hit.label for hit in result.hits}))
            return f"screening found possible intimate content ({found}) in the copy, so it was deleted at once"
        return PreparedCopy(redacted.mp4, redacted.duration, redacted.width, redacted.height)

    return prepare
