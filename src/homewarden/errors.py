"""The hub's errors: a problem the user fixes (``UserError``), and a request the hub refuses (``RefusedError``).

A refusal says what kind of "no" it is (``Refusal``), never an HTTP status: the API maps the kinds to HTTP in one
place (``api/errors.py``); the command line and the channels read the message.
"""

from __future__ import annotations

from enum import Enum


class UserError(Exception):
    """A problem the user can fix: a bad path, an unreachable camera, a database that will not open."""


class Refusal(Enum):
    """What kind of refusal: what was asked for is missing, clashes, is malformed, locked, used up or unavailable."""

    NOT_FOUND = "not found"
    CONFLICT = "conflict"
    INVALID = "invalid"
    # Recordings are locked until the owner signs in and the home key is held.
    LOCKED = "locked"
    # A single-use or short-lived thing already used or expired.
    GONE = "gone"
    QUOTA_EXHAUSTED = "quota exhausted"
    # What the request needs is not running now (a camera that is down); trying later may work.
    UNAVAILABLE = "unavailable"


class RefusedError(Exception):
    """A request the hub refuses; the message says why, for whoever asked, and ``refusal`` what kind of no it is."""

    refusal: Refusal = Refusal.CONFLICT

    def __init__(self, message: str, refusal: Refusal | None = None) -> None:
        """Keep the message, and the kind of refusal (the class's own when not given)."""
        super().__init__(message)
        if refusal is not None:
            self.refusal = refusal


class InvalidFieldsError(RefusedError):
    """A refused change whose problems belong to named fields (``fields`` maps each key to a sentence)."""

    refusal = Refusal.INVALID

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        """Keep the summary and each field's problem."""
        super().__init__(message)
        self.fields = fields
