"""Sign-in throttling shared by every API process: attempts counted in the cloud's database.

The hub's ``SignInThrottle`` counts in memory, which is right for one process; the cloud runs any number of API
processes, and an attacker spreading guesses across them must meet the same limits (5 failures per user name, 20 per
address, in 15 minutes). Each attempt is written (and committed) before its password is checked, then counted: of
attempts racing on several processes, the later ones see the earlier ones' rows, so no more than the limit pass.
A refused attempt takes its rows back (being refused does not lengthen the wait); a successful one clears the user
name's failures and its own address row (the address's other failures stay: one good account must not unlock
guessing others).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from homewarden.accounts.throttle import FAILURES_PER_ADDRESS, FAILURES_PER_USER, WINDOW_SECONDS
from homewarden.cloud.database import CloudDatabase, rows_affected
from homewarden.cloud.identifiers import digest
from homewarden.cloud.models import SignInAttempt


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt being counted: its rows, and how long it must wait (0: it may check the password)."""

    ids: tuple[int, ...]
    retry_after: float


class SharedSignInThrottle:
    """Refuse sign-ins for a user name or an address that failed too often recently, across processes."""

    def __init__(self, database: CloudDatabase, window_seconds: int = WINDOW_SECONDS) -> None:
        """Count attempts in ``database`` over ``window_seconds``."""
        self._database = database
        self._window = timedelta(seconds=window_seconds)

    def begin(self, username: str, address: str) -> Attempt:
        """Count this attempt; when it is over a limit, take it back and say how long to wait."""
        now = datetime.now(UTC)
        keys = ((user_key(username), FAILURES_PER_USER), (address_key(address), FAILURES_PER_ADDRESS))
        with self._database.session() as session:
            rows = [SignInAttempt(key_digest=key, attempted_at=now) for key, _allowed in keys]
            session.add_all(rows)
            session.flush()
            ids = tuple(row.id for row in rows)
        wait = max(self._wait(key, allowed, now, ids) for key, allowed in keys)
        if wait > 0:
            self._forget(ids)
            return Attempt(ids=(), retry_after=wait)
        return Attempt(ids=ids, retry_after=0.0)

    def succeeded(self, attempt: Attempt, username: str) -> None:
        """Clear the user name's failures and this attempt's own rows."""
        with self._database.session() as session:
            session.execute(delete(SignInAttempt).where(SignInAttempt.key_digest == user_key(username)))
            session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(attempt.ids)))

    def prune(self) -> int:
        """Forget attempts older than the window; return how many went."""
        cutoff = datetime.now(UTC) - self._window
        with self._database.session() as session:
            return rows_affected(session.execute(delete(SignInAttempt).where(SignInAttempt.attempted_at < cutoff)))

    def _wait(self, key: str, allowed: int, now: datetime, own: tuple[int, ...]) -> float:
        """Return how long until fewer than ``allowed`` other attempts of ``key`` are in the window (0: none)."""
        with self._database.session() as session:
            times = list(
                session.scalars(
                    select(SignInAttempt.attempted_at)
                    .where(
                        SignInAttempt.key_digest == key,
                        SignInAttempt.attempted_at > now - self._window,
                        SignInAttempt.id.not_in(own),
                    )
                    .order_by(SignInAttempt.attempted_at.desc())
                    .limit(allowed)
                )
            )
        if len(times) < allowed:
            return 0.0
        return max(1.0, (times[-1] + self._window - now).total_seconds())

    def _forget(self, ids: tuple[int, ...]) -> None:
        with self._database.session() as session:
            session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(ids)))


def user_key(username: str) -> str:
    """Return the stored key of a user name's attempts."""
    return digest(f"user:{username.strip().lower()}")


def address_key(address: str) -> str:
    """Return the stored key of an address's attempts."""
    return digest(f"addr:{address}")
