"""The household gallery shared by every camera: loaded on first use, and again after members change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from homewarden.errors import UserError
from homewarden.faces.gallery import Gallery

log = logging.getLogger(__name__)


class HouseholdHandle:
    """Hand out the current household gallery; reload() makes the next lookup read the members again (thread-safe)."""

    def __init__(self, load: Callable[[], Gallery]) -> None:
        self._load = load
        self._gallery: Gallery | None = None
        self._generation = 0
        self._loaded_generation = -1
        self._state_lock = threading.Lock()
        # Held while loading, so cameras asking at once read the database once.
        self._load_lock = threading.Lock()

    def current(self) -> Gallery:
        """Return the household as of the last reload(), loading it now if needed; raise UserError if it cannot be."""
        with self._state_lock:
            if self._gallery is not None and self._loaded_generation == self._generation:
                return self._gallery
        with self._load_lock:
            with self._state_lock:
                wanted, gallery = self._generation, self._gallery
                if gallery is not None and self._loaded_generation == wanted:
                    return gallery
            try:
                fresh = self._load()
            except UserError as exc:
                if gallery is None:
                    raise
                # Cameras keep recognising the members they knew rather than none; the next reload() tries again.
                log.error("household not reloaded, still matching the previous members: %s", exc)
                fresh = gallery
            with self._state_lock:
                self._gallery = fresh
                self._loaded_generation = wanted
            return fresh

    def reload(self) -> None:
        """Mark the gallery stale: the next lookup loads the current members (call after enrolling or removing)."""
        with self._state_lock:
            self._generation += 1
