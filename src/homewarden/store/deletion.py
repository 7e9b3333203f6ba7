"""Deleting footage for good: an event, a camera's footage, or everything, by crypto-shredding its objects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from homewarden.events.record import EventRecord
from homewarden.store.database import EventStore
from homewarden.store.gallery_key import GalleryKeyFile
from homewarden.store.keys import HomeKeyFile
from homewarden.store.media import camera_folder_name
from homewarden.store.sealed_media import SealedMediaFolder

log = logging.getLogger(__name__)

# list_events needs a limit; a home hub holds far fewer events than this.
ALL_EVENTS = 1_000_000_000


class Household(Protocol):
    """The enrolled household, as deleting everything needs it."""

    def remove_everyone(self) -> int:
        """Delete every member and every embedding; return how many members went."""


@dataclass
class DeletionReport:
    """What a deletion removed, and the plain export files it left alone."""

    events: int = 0
    objects: int = 0
    plain_files: list[str] = field(default_factory=list)
    members: int = 0


def event_object_names(media: SealedMediaFolder, record: EventRecord) -> list[str]:
    """Return the vault objects of an event's clips and snapshot (plain exports elsewhere are not the hub's)."""
    paths = [clip.path for clip in record.clips] + ([record.snapshot] if record.snapshot else [])
    return [name for name in (media.object_name(Path(path)) for path in paths) if name is not None]


def plain_files_of(media: SealedMediaFolder, record: EventRecord) -> list[str]:
    """Return an event's files that are plain exports (``analyze --out``), which deleting leaves in place."""
    paths = [clip.path for clip in record.clips] + ([record.snapshot] if record.snapshot else [])
    return [path for path in paths if media.object_name(Path(path)) is None]


def delete_event(store: EventStore, media: SealedMediaFolder, record: EventRecord) -> DeletionReport:
    """Shred an event's objects, then forget the event."""
    # Shredding first: should the database step fail, the footage is gone anyway, which is what was asked.
    shredded = sum(1 for name in event_object_names(media, record) if media.vault.shred(name))
    store.delete_event(record.id)
    log.info("deleted event %s (%s, %s): %d object(s) shredded", record.id, record.camera, record.label, shredded)
    return DeletionReport(events=1, objects=shredded, plain_files=plain_files_of(media, record))


def delete_camera_footage(store: EventStore, media: SealedMediaFolder, camera: str) -> DeletionReport:
    """Shred every object recorded by one camera, and forget its events."""
    report = DeletionReport()
    for record in store.list_events(camera=camera, limit=ALL_EVENTS):
        _add(report, delete_event(store, media, record))
    # Objects no event points to any more (an interrupted recording) are still the camera's footage.
    for stored in list(media.vault.list(camera_folder_name(camera) + "/")):
        report.objects += media.vault.shred(stored.name)
    return report


def delete_everything(
    store: EventStore,
    media: SealedMediaFolder,
    key_file: HomeKeyFile,
    household: Household,
    gallery_key: GalleryKeyFile,
    *,
    keep_key: bool = False,
) -> DeletionReport:
    """Shred the household and every object, forget every event, and (unless ``keep_key``) destroy the home key.

    Without the home key, no copy of any sealed data key (in a backup, say) can be opened again; without the
    gallery key, which goes even with ``keep_key``, no copy of the face embeddings can.
    """
    # The key first, as with footage: should deleting the rows fail, the embeddings are unreadable anyway.
    gallery_key.destroy()
    report = DeletionReport(members=household.remove_everyone())
    for record in store.list_events(limit=ALL_EVENTS):
        _add(report, delete_event(store, media, record))
    for stored in list(media.vault.list()):
        report.objects += media.vault.shred(stored.name)
    if not keep_key:
        key_file.destroy()
        log.info("destroyed the home key file %s", key_file.path)
    return report


def _add(report: DeletionReport, part: DeletionReport) -> None:
    report.events += part.events
    report.objects += part.objects
    report.plain_files += part.plain_files
