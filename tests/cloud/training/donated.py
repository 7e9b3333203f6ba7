"""Donated copies for the training tests: real footage cut with PyAV, sealed to the program key, labelled.

The copies go into the cloud's tables and store as the intake, the screen and the workbench leave them (state
``labelled``, bytes under ``review/``, a reviewer's label row): those steps have their own tests, and the end to end
test (tests/offsite/test_training_end_to_end.py) runs them for real.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import av

from cloud.review.conftest import seal_to_program
from conftest import media_file
from homewarden.cloud.models import ReviewAssignment, ReviewDonation, ReviewLabel
from homewarden.cloud.review.donations import donation_key
from homewarden.cloud.services import CloudServices

ROOM = "video/one-by-one-person-detection.mp4"
# Times of one-by-one-person-detection.mp4 (bench/manifests/video.json): a person in view, and the empty room.
VISITS = (8.0, 30.0, 55.0, 78.0, 100.0, 126.0)
EMPTY = 0.5
# A box on the empty room's table, as a reviewer would draw it: nothing there.
TABLE_BOX = {"x1": 0.45, "y1": 0.35, "x2": 0.62, "y2": 0.62, "label": "nothing"}


def clip_of(start: float, seconds: float = 4.0) -> bytes:
    """Return an MP4 of the room from ``start`` for ``seconds``, re-encoded in memory (H.264, as hubs donate)."""
    out = io.BytesIO()
    with av.open(str(media_file(ROOM))) as source, av.open(out, mode="w", format="mp4") as sink:
        stream = sink.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 768, 432, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        written = 0
        for frame in source.decode(video=0):
            at = float(frame.time or 0.0)
            if at < start:
                continue
            if at >= start + seconds:
                break
            # Numbered frames at the stream's 10 a second: without a pts of their own the muxer squeezed the whole
            # clip into 0.1 s, and a reviewer's box at 1.5 s was (rightly) refused as outside the clip.
            frame.pts, frame.time_base = written, Fraction(1, 10)
            written += 1
            for packet in stream.encode(frame):
                sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)
    return out.getvalue()


def donation_id_where(predicate: Callable[[str], bool]) -> str:
    """Return a random donation id (as hubs choose them) that the predicate accepts."""
    while True:
        donation_id = "d_" + secrets.token_urlsafe(18)
        if predicate(donation_id):
            return donation_id


def add_labelled_copy(
    services: CloudServices,
    home_id: str,
    reviewer_id: int,
    donation_id: str,
    mp4: bytes,
    labels: dict[str, Any],
    *,
    expires_in: timedelta = timedelta(days=30),
) -> None:
    """Put a sealed copy in the store and its rows in the tables: labelled by ``reviewer_id`` with ``labels``."""
    sealed = seal_to_program(services.program_keys.program(), donation_id, mp4)
    services.store.put(donation_key(donation_id), sealed)
    now = datetime.now(UTC)
    with services.database.session() as session:
        session.add(
            ReviewDonation(
                donation_id=donation_id,
                home_id=home_id,
                key_id=services.program_keys.current().key_id,
                object_key=donation_key(donation_id),
                size=len(sealed),
                sha256="0" * 64,
                details={"label": "person", "consent": "review-consent-v1"},
                state="labelled",
                received_at=now,
                queued_at=now,
                updated_at=now,
                expires_at=now + expires_in,
            )
        )
        session.flush()
        assignment = ReviewAssignment(
            donation_id=donation_id, home_id=home_id, reviewer_id=reviewer_id, assigned_at=now, completed_at=now
        )
        session.add(assignment)
        session.flush()
        session.add(
            ReviewLabel(
                donation_id=donation_id,
                assignment_id=assignment.id,
                verdict=labels["verdict"],
                cause=labels.get("cause"),
                label=labels["label"],
                boxes=labels.get("boxes", []),
                created_at=now,
            )
        )
