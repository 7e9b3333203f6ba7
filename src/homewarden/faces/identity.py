"""Who a person is, voted over the faces seen on several frames of their track."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from homewarden.faces.finder import BGRImage, FaceFinder, FoundFace
from homewarden.faces.gallery import UNKNOWN, FaceMatch, Gallery
from homewarden.faces.household import HouseholdHandle


@dataclass(frozen=True)
class FaceSighting:
    """A face found on one frame of a person's track, and what it matched (None when too small to tell)."""

    time: float
    face: FoundFace
    match: FaceMatch | None


@dataclass
class TrackFaces:
    """The faces looked for on one person's track so far."""

    looked_at: set[float] = field(default_factory=set)
    sightings: list[FaceSighting] = field(default_factory=list)

    @property
    def lookups(self) -> int:
        """Return how many frames were searched for a face."""
        return len(self.looked_at)

    def face_seen(self, until: float | None = None) -> bool:
        """Return whether a human face was found on the track (up to a time)."""
        return any(until is None or sighting.time <= until for sighting in self.sightings)

    def sub_label(self, until: float | None = None) -> str | None:
        """Return the member's name, ``unknown``, or None when no face large enough to identify was seen.

        A member is named only when at least half the identifiable faces matched them and no other member
        matched as often: one good frame among bad angles names nobody, and a stranger must fool most frames.
        """
        matches = [s.match for s in self.sightings if s.match is not None and (until is None or s.time <= until)]
        if not matches:
            return None
        votes = Counter(match.name for match in matches if match.name is not None)
        ranked = votes.most_common(2)
        if ranked:
            name, count = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0
            if 2 * count >= len(matches) and count > runner_up:
                return name
        return UNKNOWN


class PersonIdentifier:
    """Look for a face in a person's head region and match it against the household."""

    def __init__(
        self, gallery: Gallery | HouseholdHandle, min_face_size: int, finder: FaceFinder | None = None
    ) -> None:
        # A handle is read at every match, so members enrolled while the hub runs are recognised without a restart.
        self.household = gallery if isinstance(gallery, HouseholdHandle) else HouseholdHandle(lambda: gallery)
        self.min_face_size = min_face_size
        self.finder = finder or FaceFinder()

    @property
    def gallery(self) -> Gallery:
        """Return the household gallery matched against now."""
        return self.household.current()

    def look(self, time: float, crop: BGRImage, origin: tuple[int, int]) -> FaceSighting | None:
        """Search one frame's head region; return the sighting, or None when no face is there."""
        face = self.finder.in_head_region(crop, origin)
        if face is None:
            return None
        match = self.gallery.match(face.embedding) if face.width >= self.min_face_size else None
        return FaceSighting(time, face, match)

    def look_in_frame(self, time: float, image: BGRImage) -> FaceSighting | None:
        """Search a whole frame (a doorbell's view) for its largest face; return the sighting, or None."""
        # A head-region search shrinks what it is given to a head's width: a whole frame would shrink a face at the
        # door below what the detector finds. The whole frame is searched at full size, as a photo is.
        faces = self.finder.in_photo(np.ascontiguousarray(image[:, :, ::-1]))
        if not faces:
            return None
        face = faces[0]
        match = self.gallery.match(face.embedding) if face.width >= self.min_face_size else None
        return FaceSighting(time, face, match)
