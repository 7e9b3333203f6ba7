"""The hub's own media folder, where every clip and snapshot is sealed as it is written."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.keys import HomeKeyError, HomeKeyFile
from homewarden.store.media import MediaFolder
from homewarden.store.vault import SEALED_SUFFIX, Vault, stored_size

MEDIA_FOLDER_NAME = "media"
DATA_KEY_FOLDER_NAME = "data-keys"


class StorageFullError(OSError):
    """No room for an object under the disk cap, even after deleting all footage the policy allows."""

    def __init__(self, message: str) -> None:
        """Report the cap as a full disk, so callers handle it like one."""
        super().__init__(errno.ENOSPC, message)


class RoomMaker(Protocol):
    """What keeps the footage under the disk cap: asked for room before each object is stored."""

    def make_room(self, needed: int) -> None:
        """Make ``needed`` bytes available under the cap, or raise StorageFullError."""


@dataclass(frozen=True)
class HubStorage:
    """Where the hub keeps its footage: the key file, the vault and the media folder over it."""

    key_file: HomeKeyFile
    vault: Vault
    media: SealedMediaFolder


def open_hub_storage(folder: Path) -> HubStorage:
    """Open the storage folder's key file, vault and sealed media folder (nothing is created yet)."""
    # Events store absolute object paths, so they still name their objects when the hub starts elsewhere.
    folder = folder.resolve()
    key_file = HomeKeyFile.in_folder(folder)
    vault = Vault(
        LocalFolderBlobStore(folder / MEDIA_FOLDER_NAME),
        LocalFolderBlobStore(folder / DATA_KEY_FOLDER_NAME, overwrite_on_delete=True),
        key_file,
    )
    return HubStorage(key_file, vault, SealedMediaFolder(folder / MEDIA_FOLDER_NAME, vault))


class SealedMediaFolder(MediaFolder):
    """A media folder whose files are sealed vault objects: ``<root>/<camera>/<UTC day>/<name>.sealed``."""

    sealed = True

    def __init__(self, root: Path, vault: Vault, room: RoomMaker | None = None) -> None:
        """Keep objects of ``vault`` (whose object store is ``root``); ask ``room`` for space before writing."""
        super().__init__(root)
        self.vault = vault
        self.room = room

    def path_for(self, camera: str, event_id: str, suffix: str) -> Path:
        """Return where the sealed object for a new file of an event goes (its plain name + ``.sealed``)."""
        plain = super().path_for(camera, event_id, suffix)
        return plain.with_name(plain.name + SEALED_SUFFIX)

    def object_name(self, path: Path) -> str | None:
        """Return the vault object stored at ``path``, or None when the path is not a sealed object here."""
        if path.name.startswith(".") or not path.name.endswith(SEALED_SUFFIX):
            return None
        try:
            relative = path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        return relative.as_posix().removesuffix(SEALED_SUFFIX)

    def write_atomically(self, path: Path, data: bytes) -> None:
        """Seal ``data`` as the object at ``path``: under the cap, complete or not at all."""
        name = self.object_name(path)
        if name is None:
            raise ValueError(f"{path} is not a sealed object path inside {self.root}")
        if self.room is not None:
            self.room.make_room(stored_size(len(data), self.vault.chunk_size))
        try:
            self.vault.put(name, data)
        except HomeKeyError as exc:
            # The key file went away or broke while recording: this object cannot be stored, like on a failed
            # disk, and its event records why; the camera keeps running.
            raise OSError(errno.ENOKEY, f"cannot seal {path.name}: {exc}") from None

    def temporary_path_for(self, final: Path) -> Path:
        """Refuse: a sealed folder never holds plaintext, not even briefly."""
        raise TypeError("sealed media is written whole with write_atomically, never streamed to a file")

    def publish(self, temp: Path, final: Path) -> None:
        """Refuse, like temporary_path_for."""
        raise TypeError("sealed media is written whole with write_atomically, never streamed to a file")

    def discard(self, temp: Path) -> None:
        """Shred the object at ``temp`` (a rolled-back recording), if there is one."""
        name = self.object_name(temp)
        if name is not None:
            self.vault.shred(name)
