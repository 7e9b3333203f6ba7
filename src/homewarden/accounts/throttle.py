"""Sign-in rate limiting: failures counted per user name and per address in a sliding window.

Kept in memory: one hub is one process, and a restart forgetting the counts costs an attacker the restart. A user
name counts by its canonical form, the one sign-in looks the account up by: ``VICTIM2`` and ``victim2`` are one
account and one count.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from homewarden.accounts.names import canonical_name

WINDOW_SECONDS = 15 * 60
FAILURES_PER_USER = 5
FAILURES_PER_ADDRESS = 20


class SignInThrottle:
    """Refuse sign-in attempts for a user name or an address that failed too often recently."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Count failures with ``clock`` (seconds)."""
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, username: str, address: str) -> float:
        """Return how many seconds this attempt must wait (0: it may go ahead)."""
        with self._lock:
            now = self._clock()
            waits = [
                self._wait(_user_key(username), FAILURES_PER_USER, now),
                self._wait(f"addr:{address}", FAILURES_PER_ADDRESS, now),
            ]
            return max(waits)

    def failed(self, username: str, address: str) -> None:
        """Count a failed attempt."""
        with self._lock:
            now = self._clock()
            self._failures[_user_key(username)].append(now)
            self._failures[f"addr:{address}"].append(now)

    def succeeded(self, username: str) -> None:
        """Forget the user name's failures (the address's stay: one good account must not unlock guessing)."""
        with self._lock:
            self._failures.pop(_user_key(username), None)

    def _wait(self, key: str, allowed: int, now: float) -> float:
        failures = self._failures.get(key)
        if not failures:
            return 0.0
        while failures and failures[0] <= now - WINDOW_SECONDS:
            failures.popleft()
        if len(failures) < allowed:
            return 0.0
        return failures[-allowed] + WINDOW_SECONDS - now


def _user_key(username: str) -> str:
    return f"user:{canonical_name(username)}"
