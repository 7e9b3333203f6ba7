"""Tests for retention: days per kind of event, a disk cap that is never exceeded, and the plan shown to the owner."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from homewarden.config.model import RetentionConfig
from homewarden.events.record import ClipRecord, EventRecord
from homewarden.i18n import use_language
from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.crypto import Keyring
from homewarden.store.database import EventStore
from homewarden.store.deletion import delete_camera_footage
from homewarden.store.retention import DAY_SECONDS, EventFootage, FootageKeeper, plan_retention
from homewarden.store.sealed_media import SealedMediaFolder, StorageFullError
from homewarden.store.vault import FixedRecipient, StoredObject, Vault, stored_size

NOW = 1_800_000_000.0
POLICY = RetentionConfig(alarm_days=30, other_days=7)


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([PrivateKey.generate()])


@pytest.fixture
def media(tmp_path: Path, keyring: Keyring) -> SealedMediaFolder:
    vault = Vault(
        LocalFolderBlobStore(tmp_path / "media"),
        LocalFolderBlobStore(tmp_path / "data-keys"),
        FixedRecipient(keyring.public_key()),
    )
    return SealedMediaFolder(tmp_path / "media", vault)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    opened = EventStore.open(f"sqlite:///{tmp_path / 'events.db'}")
    yield opened
    opened.close()


def record(event_id: str, end: float, *, alarm: bool = False, camera: str = "front") -> EventRecord:
    return EventRecord(
        id=event_id,
        camera=camera,
        label="person",
        score=0.9,
        start=end - 10,
        end=end,
        live=True,
        box=(0, 0, 10, 10),
        snapshot=None,
        alarm=alarm,
    )


def footage(event_id: str, age_days: float, size: int = 1000, *, alarm: bool = False) -> EventFootage:
    recorded = NOW - age_days * DAY_SECONDS
    return EventFootage(record(event_id, recorded, alarm=alarm), (f"front/day/{event_id}-1.mp4",), size, recorded)


def store_event(
    store: EventStore, media: SealedMediaFolder, event_id: str, end: float, clip_bytes: int, *, alarm: bool = False
) -> EventRecord:
    """Record an event as the pipeline does: clip and snapshot sealed first, then the event saved."""
    clip = media.path_for("front", event_id, "-1.mp4")
    snapshot = media.path_for("front", event_id, ".jpg")
    media.write_atomically(clip, os.urandom(clip_bytes))
    media.write_atomically(snapshot, os.urandom(2000))
    saved = record(event_id, end, alarm=alarm)
    saved = EventRecord(**{**saved.__dict__, "snapshot": str(snapshot), "clips": (ClipRecord(str(clip), 0, 10),)})
    store.save_event(saved)
    return saved


def test_the_reasons_read_in_german_for_a_german_reader() -> None:
    items = [footage("alarm-40d", 40, alarm=True), footage("other-6d", 6.5), footage("one-day", 0.5)]
    policy = RetentionConfig(alarm_days=30, other_days=7)

    with use_language("de"):
        plan = plan_retention(items, [], policy, NOW, used_bytes=5000)
        one_day = plan_retention([items[2]], [], RetentionConfig(alarm_days=30, other_days=1), NOW, used_bytes=10)

    assert [d.reason for d in plan.due_now] == ["älter als 30 Tage"]
    assert [d.reason for d in plan.scheduled] == ["7 Tage nach der Aufnahme", "7 Tage nach der Aufnahme"]
    assert [d.reason for d in one_day.scheduled] == ["1 Tag nach der Aufnahme"]
    # English stays the default, and one day is one day.
    english = plan_retention([items[2]], [], RetentionConfig(alarm_days=30, other_days=1), NOW, used_bytes=10)
    assert [d.reason for d in english.scheduled] == ["1 day after recording"]


def test_each_kind_is_kept_for_its_own_number_of_days() -> None:
    items = [
        footage("alarm-40d", 40, alarm=True),
        footage("alarm-10d", 10, alarm=True),
        footage("other-8d", 8),
        footage("other-3d", 3),
        footage("other-6d", 6.5),
    ]

    plan = plan_retention(items, [], POLICY, NOW, used_bytes=5000)

    assert [(d.footage.record.id, d.reason) for d in plan.due_now if d.footage] == [
        ("alarm-40d", "older than 30 days"),
        ("other-8d", "older than 7 days"),
    ]
    assert [(d.footage.record.id, (d.due - NOW) / DAY_SECONDS) for d in plan.scheduled if d.footage] == [
        ("other-6d", pytest.approx(0.5)),
        ("other-3d", pytest.approx(4)),
        ("alarm-10d", pytest.approx(20)),
    ]
    assert plan.bytes_after_sweep == 3000


def test_over_the_cap_the_oldest_go_first_whatever_their_kind() -> None:
    items = [footage(f"e{age}", age, size=1000, alarm=age % 2 == 0) for age in range(6)]
    policy = RetentionConfig(alarm_days=30, other_days=7, max_gb=3500 / 1e9)

    plan = plan_retention(items, [], policy, NOW, used_bytes=6000)

    assert [(d.footage.record.id, d.reason) for d in plan.due_now if d.footage] == [
        ("e5", "over the disk cap"),
        ("e4", "over the disk cap"),
        ("e3", "over the disk cap"),
    ]
    assert plan.bytes_after_sweep == 3000
    assert [d.footage.record.id for d in plan.scheduled if d.footage] == ["e1", "e2", "e0"]  # due in 6, 28 and 30 days


def test_objects_no_event_points_to_go_after_a_day() -> None:
    stale = StoredObject("front/day/crashed-1.mp4", 500, NOW - 2 * DAY_SECONDS)
    recording = StoredObject("front/day/in-progress-1.mp4", 700, NOW - 60)

    plan = plan_retention([], [stale, recording], POLICY, NOW, used_bytes=1200)

    assert [(d.unreferenced, d.reason) for d in plan.due_now] == [(stale, "no event points to it")]


def test_a_sweep_shreds_expired_events_and_forgets_them(
    store: EventStore, media: SealedMediaFolder, keyring: Keyring
) -> None:
    clock = FakeClock()
    old = store_event(store, media, "old", NOW - 8 * DAY_SECONDS, 3000)
    old_alarm = store_event(store, media, "old-alarm", NOW - 8 * DAY_SECONDS, 3000, alarm=True)
    fresh = store_event(store, media, "fresh", NOW - DAY_SECONDS, 3000)
    keeper = FootageKeeper(store, media, POLICY, clock)

    plan = keeper.sweep()

    assert [d.footage.record.id for d in plan.due_now if d.footage] == ["old"]
    assert store.get_event(old.id) is None
    assert not Path(old.clips[0].path).exists()
    assert store.get_event(old_alarm.id) is not None
    assert store.get_event(fresh.id) is not None
    name = media.object_name(Path(fresh.clips[0].path))
    assert name is not None
    assert len(media.vault.read(name, keyring)) == 3000
    clock.now += 30 * DAY_SECONDS
    keeper.sweep()
    assert store.count_events() == 0
    assert list(media.vault.list()) == []


def test_a_disk_cap_over_many_clips_is_never_exceeded_and_the_oldest_go_first(
    store: EventStore, media: SealedMediaFolder
) -> None:
    cap = 400_000
    keeper = FootageKeeper(store, media, RetentionConfig(max_gb=cap / 1e9), FakeClock())
    media.room = keeper
    sizes = random.Random(7)
    written = []
    for index in range(80):
        written.append(store_event(store, media, f"e{index:03d}", NOW - 3600 + index, sizes.randrange(5_000, 60_000)))
        assert media.vault.usage() <= cap

    kept = sorted(r.id for r in store.list_events(limit=1000))
    assert kept == [r.id for r in written[-len(kept) :]]  # a suffix: only the oldest were deleted
    assert 5 < len(kept) < 80
    assert sum(stored.stored_bytes for stored in media.vault.list()) > cap * 0.7
    # No plaintext nor orphaned objects: every object left belongs to a kept event.
    names = {stored.name.split("/")[-1].split(".")[0].removesuffix("-1") for stored in media.vault.list()}
    assert names == set(kept)


def test_an_object_bigger_than_the_cap_is_refused_and_nothing_is_stored(
    store: EventStore, media: SealedMediaFolder
) -> None:
    media.room = FootageKeeper(store, media, RetentionConfig(max_gb=10_000 / 1e9), FakeClock())
    path = media.path_for("front", "huge", "-1.mp4")

    with pytest.raises(StorageFullError, match="disk cap") as caught:
        media.write_atomically(path, os.urandom(20_000))

    assert caught.value.errno == 28
    assert list(media.vault.list()) == []
    assert stored_size(20_000) > 10_000


def test_the_cap_counts_deletions_made_by_another_process(store: EventStore, media: SealedMediaFolder) -> None:
    """The keeper's running total is only a shortcut: when it says full, it looks at the vault again."""
    keeper = FootageKeeper(store, media, RetentionConfig(max_gb=100_000 / 1e9), FakeClock())
    media.room = keeper
    first = store_event(store, media, "first", NOW - 100, 40_000)
    store_event(store, media, "second", NOW - 50, 40_000)
    name = media.object_name(Path(first.clips[0].path))
    assert name is not None
    media.vault.shred(name)  # `homewarden events delete` in another process, say

    store_event(store, media, "third", NOW, 40_000)

    assert {r.id for r in store.list_events()} == {"first", "second", "third"}


def test_deleting_a_cameras_footage_leaves_the_other_cameras_alone(store: EventStore, media: SealedMediaFolder) -> None:
    store_event(store, media, "front-1", NOW, 1000)
    back = EventRecord(**{**record("back-1", NOW, camera="back").__dict__})
    back_clip = media.path_for("back", "back-1", "-1.mp4")
    media.write_atomically(back_clip, b"back clip")
    store.save_event(EventRecord(**{**back.__dict__, "clips": (ClipRecord(str(back_clip), 0, 1),)}))
    interrupted = media.path_for("front", "never-saved", "-1.mp4")
    media.write_atomically(interrupted, b"left by a crash")

    report = delete_camera_footage(store, media, "front")

    assert (report.events, report.objects) == (1, 3)
    assert [r.id for r in store.list_events()] == ["back-1"]
    assert [stored.name.split("/")[0] for stored in media.vault.list()] == ["back"]
