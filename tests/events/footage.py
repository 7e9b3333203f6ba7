"""Footage composed for the alarm tests from real photos, with the demo scene's room and helpers.

Pets: Chelsea the cat, the only animal photo scikit-image ships (`skimage.data.chelsea()`, which
`skimage.data.cat()` returns too). People: photos from tests/data/faces (ageitgey/face_recognition's
examples, MIT).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from homewarden.demo import (
    CAT_OUTLINE,
    HEIGHT,
    WIDTH,
    Cutout,
    Move,
    RGBImage,
    act,
    cut_out,
    room_background,
    sample_photos,
    write_mp4,
)

FPS = 10


def frames(actors: list[tuple[Cutout, list[Move]]], seconds: float, seed: int) -> Iterator[RGBImage]:
    """Yield the room with the actors moving through it, with sensor noise."""
    yield from act(room_background(sample_photos()), actors, seconds, FPS, seed)


def cat_cutout(height: int, flip: bool = False, whole_photo: bool = False) -> Cutout:
    """Return Chelsea's head (or the whole photo) scaled to a height in the scene."""
    photo = sample_photos()["cat"]
    if flip:
        photo = np.ascontiguousarray(photo[:, ::-1])
    h, w = photo.shape[:2]
    if whole_photo:
        return cut_out(photo, [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], height, feather=1.0)
    outline = [(w - 1 - x, y) for x, y in CAT_OUTLINE] if flip else CAT_OUTLINE
    return cut_out(photo, outline, height)


def sniffing_the_camera(path: Path, height: int, flip: bool = False, seed: int = 1) -> Path:
    """The cat's head comes down in front of the lens, far larger than the picture, noses about, and leaves."""
    cat = cat_cutout(height, flip)
    mid = (WIDTH - cat.width) / 2
    moves = [
        Move(0.10, 0.30, (mid, -cat.height), (mid, 0)),
        Move(0.30, 0.60, (mid, 0), (mid + 60, -40)),
        Move(0.60, 0.85, (mid + 60, -40), (mid - 40, -cat.height)),
    ]
    return write_mp4(frames([(cat, moves)], 12.0, seed), path, FPS)


def crossing_the_room(path: Path, height: int, floor: bool, flip: bool = False, seed: int = 2) -> Path:
    """The cat crosses from the right, stops halfway and leaves left, on the floor or higher up (a sofa's back)."""
    cat = cat_cutout(height, flip)
    y = float(HEIGHT - cat.height) if floor else (HEIGHT - cat.height) / 2
    mid = (WIDTH - cat.width) / 2
    moves = [
        Move(0.10, 0.40, (WIDTH, y), (mid, y)),
        Move(0.40, 0.60, (mid, y), (mid, y)),
        Move(0.60, 0.90, (mid, y), (-cat.width, y)),
    ]
    return write_mp4(frames([(cat, moves)], 12.0, seed), path, FPS)


def portrait_cutout(photo: Path, box: tuple[int, int, int, int], height: int) -> Cutout:
    """Return a person's head and shoulders cut from a photo (x1 y1 x2 y2 in its pixels), scaled to a height."""
    rgb = np.ascontiguousarray(cv2.imread(str(photo))[:, :, ::-1])
    x1, y1, x2, y2 = box
    return cut_out(rgb, [(x1, y1), (x2, y1), (x2, y2), (x1, y2)], height, feather=2.0)


def visit(path: Path, person: Cutout, seed: int = 3) -> Path:
    """A person walks in from the left, stands in the middle facing the camera, and walks out to the right."""
    y = float(HEIGHT - person.height)
    stand = (WIDTH - person.width) / 2
    moves = [
        Move(0.05, 0.25, (-person.width, y), (stand, y)),
        Move(0.25, 0.75, (stand, y), (stand, y)),
        Move(0.75, 0.95, (stand, y), (WIDTH, y)),
    ]
    return write_mp4(frames([(person, moves)], 16.0, seed), path, FPS)
