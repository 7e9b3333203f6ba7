"""The cloud's refusals that the hub's kinds (``homewarden.errors.Refusal``) do not cover: who is asking."""

from __future__ import annotations

from homewarden.errors import RefusedError


class NotAuthenticatedError(RefusedError):
    """No valid credentials: a missing or bad signature, a replayed nonce, a revoked hub, an unknown session."""


class ForbiddenError(RefusedError):
    """Credentials that were checked and are not enough: a wrong pairing code or invitation."""


class TooManyAttemptsError(RefusedError):
    """Too many failed attempts recently; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        """Keep how long the caller must wait."""
        super().__init__(message)
        self.retry_after = retry_after
