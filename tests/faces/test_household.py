"""The shared household: loaded once, read again after reload(), the previous members kept if a reload fails."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from homewarden.errors import UserError
from homewarden.faces.gallery import Gallery
from homewarden.faces.household import HouseholdHandle
from homewarden.faces.identity import PersonIdentifier

RNG = np.random.default_rng(7)
OBAMA = RNG.normal(size=128).astype(np.float32)
BIDEN = RNG.normal(size=128).astype(np.float32)


class CountingLoader:
    """Return the galleries in turn (the last one from then on), counting the loads."""

    def __init__(self, *galleries: Gallery | Exception) -> None:
        self.galleries = list(galleries)
        self.loads = 0

    def __call__(self) -> Gallery:
        self.loads += 1
        found = self.galleries[min(self.loads, len(self.galleries)) - 1]
        if isinstance(found, Exception):
            raise found
        return found


def test_the_gallery_loads_on_first_use_and_again_only_after_reload() -> None:
    first, second = Gallery({"obama": [OBAMA]}), Gallery({"obama": [OBAMA], "biden": [BIDEN]})
    loader = CountingLoader(first, second)
    handle = HouseholdHandle(loader)

    assert loader.loads == 0
    assert handle.current() is first
    assert handle.current() is first
    handle.reload()
    assert loader.loads == 1, "reload() only marks the gallery stale"
    assert handle.current() is second
    assert handle.current() is second
    assert loader.loads == 2


def test_an_identifier_matches_members_enrolled_after_it_was_made() -> None:
    handle = HouseholdHandle(CountingLoader(Gallery({"obama": [OBAMA]}), Gallery({"obama": [OBAMA], "biden": [BIDEN]})))
    identifier = PersonIdentifier(handle, min_face_size=32)

    assert identifier.gallery.match(BIDEN).name is None
    handle.reload()
    assert identifier.gallery.match(BIDEN).name == "biden"


def test_a_failed_reload_keeps_the_previous_members(caplog: pytest.LogCaptureFixture) -> None:
    first = Gallery({"obama": [OBAMA]})
    handle = HouseholdHandle(CountingLoader(first, UserError("cannot read the household: database is locked")))
    handle.current()

    handle.reload()

    assert handle.current() is first
    assert "household not reloaded, still matching the previous members: cannot read the household" in caplog.text


def test_a_household_that_cannot_be_read_at_all_raises() -> None:
    handle = HouseholdHandle(CountingLoader(UserError("cannot read the household: database is locked")))

    with pytest.raises(UserError, match="database is locked"):
        handle.current()


def test_cameras_asking_at_once_load_once() -> None:
    release = threading.Event()
    loads = []

    def slow_load() -> Gallery:
        loads.append(1)
        release.wait(5)
        return Gallery({"obama": [OBAMA]})

    handle = HouseholdHandle(slow_load)
    found: list[Gallery] = []
    threads = [threading.Thread(target=lambda: found.append(handle.current())) for _ in range(4)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)

    assert len(loads) == 1
    assert len(found) == 4
    assert len({id(gallery) for gallery in found}) == 1
