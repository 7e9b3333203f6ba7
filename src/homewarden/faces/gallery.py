"""The household gallery: members' face embeddings, and matching a face against them."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from homewarden.errors import UserError
from homewarden.faces.dlib_models import Embedding, RGBImage
from homewarden.faces.finder import FaceFinder, FoundFace
from homewarden.faces.photo_header import PhotoHeader, PhotoHeaderError, read_photo_header
from homewarden.i18n import _

UNKNOWN = "unknown"
# Calibrated on tests/data/faces (docs/faces.md): a member's own probes lie 0.34-0.44 from their enrolment
# photos (0.49-0.55 once the face is only 22-28 px wide), strangers 0.71 or more from every member. dlib's usual
# 0.6 sits in that gap too; 0.55 keeps more room on the side that matters, a stranger taken for a member.
DEFAULT_MATCH_THRESHOLD = 0.55
# When two members are both this close to the best distance, the face is not given either name.
AMBIGUITY_MARGIN = 0.05
# Enrolment wants a face large enough that its embedding is a good reference.
MIN_ENROL_FACE = 64
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
# A 40-megapixel photo is about 120 MB once decoded as RGB; today's phone cameras take 12 to 50.
MAX_PHOTO_PIXELS = 40_000_000
_MEMBER_NAME = re.compile(r"[\w][\w .'-]{0,63}")


class EnrolmentError(UserError):
    """A photo cannot be enrolled: no face, several faces, a face too small, or not a photo."""


class PhotoTooLargeError(EnrolmentError):
    """A photo declares more pixels than the hub decodes."""


@dataclass(frozen=True)
class FaceMatch:
    """What a face is: a member's name or None (unknown), the nearest member and how far it is."""

    name: str | None
    nearest: str | None
    distance: float

    @property
    def label(self) -> str:
        """Return the member's name, or ``unknown``."""
        return self.name or UNKNOWN


def check_member_name(name: str) -> str:
    """Return a member name if it can be one, or explain why not."""
    stripped = name.strip()
    if not _MEMBER_NAME.fullmatch(stripped):
        raise UserError(
            _(
                "member name {name!r}: use 1-64 letters, digits, spaces, '.', \"'\", '_' or '-', starting with a letter"
            ).format(name=name)
        )
    if stripped.lower() == UNKNOWN:
        raise UserError(_("member name {name!r} is reserved for faces that match nobody").format(name=name))
    return stripped


class Gallery:
    """The members' embeddings in memory, matched by L2 distance to each member's nearest photo."""

    def __init__(self, members: Mapping[str, Iterable[Embedding]], threshold: float = DEFAULT_MATCH_THRESHOLD) -> None:
        self.threshold = threshold
        self.members = {
            name: np.stack(list(vectors)).astype(np.float32) for name, vectors in members.items() if vectors
        }

    def __len__(self) -> int:
        """Return how many members the gallery holds."""
        return len(self.members)

    def match(self, embedding: Embedding) -> FaceMatch:
        """Return the member this face is, or an unknown match with the nearest member's distance."""
        distances = sorted(
            (float(np.min(np.linalg.norm(vectors - embedding, axis=1))), name) for name, vectors in self.members.items()
        )
        if not distances:
            return FaceMatch(None, None, math.inf)
        best, nearest = distances[0]
        runner_up = distances[1][0] if len(distances) > 1 else math.inf
        is_member = best <= self.threshold and runner_up - best >= AMBIGUITY_MARGIN
        return FaceMatch(nearest if is_member else None, nearest, best)


def check_photo_header(data: bytes, shown: str | Path, max_pixels: int = MAX_PHOTO_PIXELS) -> PhotoHeader:
    """Return a photo's header if it is a JPEG, PNG, BMP or WebP of at most ``max_pixels``; nothing is decoded."""
    try:
        header = read_photo_header(data)
    except PhotoHeaderError as exc:
        # The header error says what is wrong in words of its own ("not a photo (...)", "cut short", "no pixels").
        raise EnrolmentError(f"{shown}: {exc}") from None
    if header.pixels > max_pixels:
        raise PhotoTooLargeError(
            _("{photo}: {width}x{height} pixels is more than {megapixels} megapixels; use a smaller photo").format(
                photo=shown, width=header.width, height=header.height, megapixels=f"{max_pixels / 1e6:g}"
            )
        )
    return header


def read_photo(path: Path, max_pixels: int = MAX_PHOTO_PIXELS) -> RGBImage:
    """Read a photo as RGB, or say why it cannot be read (its size is checked before it is decoded)."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise EnrolmentError(
            _("{path}: cannot read ({problem})").format(path=path, problem=exc.strerror or exc)
        ) from None
    check_photo_header(data.tobytes(), path, max_pixels)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise EnrolmentError(_("{path}: not a photo (JPEG, PNG, BMP or WebP)").format(path=path))
    return np.ascontiguousarray(image[:, :, ::-1])


def enrolment_face(finder: FaceFinder, path: Path, max_pixels: int = MAX_PHOTO_PIXELS) -> FoundFace:
    """Return the one face of an enrolment photo, refusing photos with no face, several, or a tiny one."""
    faces = finder.in_photo(read_photo(path, max_pixels))
    if not faces:
        raise EnrolmentError(
            _("{path}: no face found; use a photo that shows the face from the front").format(path=path)
        )
    if len(faces) > 1:
        raise EnrolmentError(
            _("{path}: {count} faces found; use a photo that shows only this member").format(
                path=path, count=len(faces)
            )
        )
    if faces[0].width < MIN_ENROL_FACE:
        raise EnrolmentError(
            _("{path}: the face is only {width} px wide; use a photo where it is at least {minimum} px").format(
                path=path, width=faces[0].width, minimum=MIN_ENROL_FACE
            )
        )
    return faces[0]


def photos_in(folder: Path) -> list[Path]:
    """Return the photos directly inside a folder, by name; hidden files (macOS's `._` copies) are not photos."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in PHOTO_SUFFIXES
    )


def member_photos(folder: Path) -> dict[str, list[Path]]:
    """Return each member's photos in a one-run household folder, or say in one line why it cannot be one."""
    if not folder.is_dir():
        reason = "not a folder" if folder.exists() else "no such folder"
        raise UserError(f"{folder}: {reason}; give a folder with one sub-folder of photos per member")
    members: dict[str, list[Path]] = {}
    try:
        for sub in sorted(folder.iterdir()):
            if not sub.is_dir() or sub.name.startswith("."):
                continue
            try:
                name = check_member_name(sub.name)
            except UserError as exc:
                raise UserError(f"{sub}: {exc}") from None
            if name in members:
                raise UserError(f"{sub}: a second folder for member {name!r}")
            members[name] = photos_in(sub)
        loose = photos_in(folder)
    except OSError as exc:
        raise UserError(f"{exc.filename or folder}: cannot read ({exc.strerror or exc})") from None
    if not members:
        hint = "; the photos directly in it belong in a sub-folder named after their member" if loose else ""
        raise UserError(f"{folder}: no member sub-folders (one folder of photos per member){hint}")
    empty = [name for name, photos in members.items() if not photos]
    if empty:
        raise UserError(f"{folder / empty[0]}: no photos (JPEG, PNG, BMP or WebP) of this member")
    return members


_folder_cache: dict[tuple[object, ...], dict[str, list[Embedding]]] = {}
_folder_cache_lock = threading.Lock()


def gallery_from_folder(folder: Path, threshold: float, finder: FaceFinder | None = None) -> Gallery:
    """Enrol, for this run only, one member per sub-folder of photos (each photo must show one face).

    The result is remembered per folder content, so every camera of one run shares the work.
    """
    members = member_photos(folder)
    key = tuple(
        (name, str(photo.resolve()), photo.stat().st_mtime_ns, photo.stat().st_size)
        for name, photos in members.items()
        for photo in photos
    )
    with _folder_cache_lock:
        embeddings = _folder_cache.get(key)
        if embeddings is None:
            finder = finder or FaceFinder()
            embeddings = {
                name: [enrolment_face(finder, photo).embedding for photo in photos] for name, photos in members.items()
            }
            _folder_cache.clear()
            _folder_cache[key] = embeddings
    return Gallery(embeddings, threshold)


def vector_bytes(embedding: Embedding) -> bytes:
    """Return an embedding as the bytes stored in the database (float32, little-endian)."""
    return np.asarray(embedding, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    """Return an embedding from its stored bytes."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
