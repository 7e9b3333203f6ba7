"""What the workbench keeps of a copy (assignments, labels, media links), and how it goes when the copy ends.

Kept apart from the workbench itself so the donations' end (withdrawal, expiry, refusal, flag) can erase these rows
without importing the watermark and video decoding.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from homewarden.cloud.deletion import doom_blob
from homewarden.cloud.models import ReviewAssignment, ReviewDonation, ReviewLabel, ReviewMediaLink

QUEUED = "queued"
IN_REVIEW = "in_review"
# Labelled copies keep their bytes (for training) until withdrawn or expired.
LABELLED = "labelled"
WORKBENCH_STATES = (IN_REVIEW, LABELLED)


def workbench_rows_erased(session: Session, donation_id: str, now: datetime) -> list[str]:
    """Delete a copy's labels and media links, close its assignments; return the watermarked blobs doomed.

    An assignment row stays (closed): it holds no more than the audit chain already does (which reviewer, which
    donation, when), and it is what counts a reviewer's clips of the day, which a withdrawal must not hand back.
    """
    assignment_ids = select(ReviewAssignment.id).where(ReviewAssignment.donation_id == donation_id)
    media_keys = list(
        session.scalars(select(ReviewMediaLink.object_key).where(ReviewMediaLink.assignment_id.in_(assignment_ids)))
    )
    for key in media_keys:
        doom_blob(session, key)
    session.execute(delete(ReviewMediaLink).where(ReviewMediaLink.assignment_id.in_(assignment_ids)))
    session.execute(delete(ReviewLabel).where(ReviewLabel.donation_id == donation_id))
    session.execute(
        update(ReviewAssignment)
        .where(ReviewAssignment.donation_id == donation_id, ReviewAssignment.completed_at.is_(None))
        .values(completed_at=now)
    )
    return media_keys


def release_open_assignment(session: Session, reviewer_id: int, now: datetime) -> None:
    """Close the reviewer's open assignment and put its copy back in the queue (in the caller's transaction)."""
    row = session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.completed_at.is_(None)
        )
    )
    if row is None:
        return
    row.completed_at = now
    session.execute(
        update(ReviewDonation)
        .where(ReviewDonation.donation_id == row.donation_id, ReviewDonation.state == IN_REVIEW)
        .values(state=QUEUED, updated_at=now)
    )
