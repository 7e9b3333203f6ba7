"""Times read back from the database, as UTC-aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """Return a stored time as UTC-aware: SQLite gives naive datetimes back even for timezone-aware columns."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
