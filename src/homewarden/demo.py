"""Compose the demo scene: sample photos of a person and a cat crossing a still room, encoded as H.264."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT = 768, 432
FLOOR_Y = 330
PERSON_HEIGHT = 300
CAT_HEIGHT = 130
NOISE_SEED = 20240611
NOISE_SIGMA = 1.5

RGBImage = npt.NDArray[np.uint8]
Alpha = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Cutout:
    """A photo cut out with a soft-edged alpha mask, at its size in the scene."""

    rgb: RGBImage
    alpha: Alpha


@dataclass(frozen=True)
class Move:
    """Where a cutout's top-left corner is over one stretch of the timeline (scene seconds)."""

    start: float
    end: float
    from_xy: tuple[float, float]
    to_xy: tuple[float, float]


def sample_photos() -> dict[str, RGBImage]:
    """Return the photos the scene is made of, all shipped with scikit-image."""
    try:
        from skimage import data
    except ImportError:  # pragma: no cover - depends on the install
        raise RuntimeError("the demo needs scikit-image's sample photos: pip install 'homewarden[demo]'") from None
    return {
        "person": np.asarray(data.astronaut()),
        "cat": np.asarray(data.chelsea()),
        "wood": np.asarray(data.coffee())[:, 490:],
        "plaster": np.asarray(data.gravel()),
        "print": np.asarray(data.rocket()),
    }


def resized(image: RGBImage, size: tuple[int, int]) -> RGBImage:
    """Scale an image to (width, height)."""
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def room_background(photos: dict[str, RGBImage]) -> npt.NDArray[np.float32]:
    """Build a still room from photo textures: a plaster wall, a door, a framed print and a wooden floor."""
    room = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    # Plaster: the gravel photo blurred to a faint unevenness over a warm off-white, lit from the left.
    grain = cv2.GaussianBlur(resized(photos["plaster"], (WIDTH, FLOOR_Y)).astype(np.float32), (0, 0), 3)
    light = np.linspace(1.08, 0.86, WIDTH, dtype=np.float32)[None, :, None]
    wall = (np.array([206, 196, 178], dtype=np.float32) + (grain[..., None] - grain.mean()) * 0.12) * light
    room[:FLOOR_Y] = wall
    # Floor boards: the coffee photo's table top, turned to run across the room and mirrored to fill it.
    board = np.rot90(photos["wood"]).astype(np.float32)
    board = cv2.resize(board, (board.shape[1], HEIGHT - FLOOR_Y), interpolation=cv2.INTER_AREA)
    strip = np.concatenate([board, board[:, ::-1]] * (WIDTH // (2 * board.shape[1]) + 1), axis=1)
    room[FLOOR_Y:] = strip[:, :WIDTH] * np.linspace(0.8, 1.0, HEIGHT - FLOOR_Y, dtype=np.float32)[:, None, None]
    # Skirting board and the shadow it casts on the floor.
    room[FLOOR_Y - 12 : FLOOR_Y] = np.array([232, 228, 220], dtype=np.float32) * light[0, :, :]
    room[FLOOR_Y : FLOOR_Y + 4] *= 0.7
    # A door on the right: frame, panel and handle.
    x1, x2, top = 590, 700, 78
    room[top : FLOOR_Y - 12, x1 - 8 : x2 + 8] = np.array([236, 232, 224], dtype=np.float32) * 0.9
    panel = cv2.resize(np.rot90(photos["wood"], 2).astype(np.float32), (x2 - x1, FLOOR_Y - 12 - top - 6))
    room[top + 6 : FLOOR_Y - 12, x1:x2] = panel * 0.75
    room[200:206, x1 + 10 : x1 + 26] = (60, 58, 54)
    # A framed print on the left of the wall.
    px, py, pw, ph = 120, 70, 150, 100
    room[py - 8 : py + ph + 8, px - 8 : px + pw + 8] = (45, 38, 32)
    room[py : py + ph, px : px + pw] = resized(photos["print"], (pw, ph))
    return room


def cut_out(photo: RGBImage, outline: list[tuple[int, int]], height: int, feather: float = 5.0) -> Cutout:
    """Cut a photo out along a polygon, soften the edge, and scale it to a height in the scene."""
    points = np.array(outline, dtype=np.int32)
    mask = np.zeros(photo.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [points], 255)
    x, y, w, h = cv2.boundingRect(points)
    scale = height / h
    size = (round(w * scale), height)
    rgb = resized(photo[y : y + h, x : x + w], size)
    alpha = cv2.GaussianBlur(resized(mask[y : y + h, x : x + w], size), (0, 0), feather)
    return Cutout(rgb, np.asarray(alpha, dtype=np.float32) / 255.0)


def ellipse(centre: tuple[int, int], axes: tuple[int, int], start: int = 0, end: int = 360) -> list[tuple[int, int]]:
    """Return points along an ellipse's arc (degrees clockwise from the right), to build outlines."""
    return [(int(x), int(y)) for x, y in cv2.ellipse2Poly(centre, axes, 0, start, end, 10)]


# Outlines in the photos' own pixels: the astronaut's head and upper body without the flag beside her and the
# helmet in front of her; Chelsea's head.
PERSON_OUTLINE = [
    (10, 511),
    (25, 330),
    (60, 280),
    (115, 240),
    (130, 190),
    *ellipse((226, 105), (80, 98), 150, 390),
    (318, 240),
    (355, 300),
    (345, 345),
    (295, 375),
    (276, 430),
    (270, 511),
]
CAT_OUTLINE = ellipse((225, 160), (215, 148))


def position(moves: list[Move], at: float) -> tuple[float, float] | None:
    """Return where a cutout is at a time, or None when it is off stage."""
    for move in moves:
        if move.start <= at < move.end:
            # Ease in and out so the motion starts and stops like a walk, not a jump.
            t = (at - move.start) / (move.end - move.start)
            eased = t * t * (3 - 2 * t)
            (x0, y0), (x1, y1) = move.from_xy, move.to_xy
            return x0 + (x1 - x0) * eased, y0 + (y1 - y0) * eased
    return None


def paste(frame: npt.NDArray[np.float32], cutout: Cutout, xy: tuple[float, float]) -> None:
    """Blend a cutout into a frame with its top-left corner at xy, clipped to the frame."""
    x, y = round(xy[0]), round(xy[1])
    h, w = cutout.alpha.shape
    fx1, fy1 = max(0, x), max(0, y)
    fx2, fy2 = min(frame.shape[1], x + w), min(frame.shape[0], y + h)
    if fx1 >= fx2 or fy1 >= fy2:
        return
    alpha = cutout.alpha[fy1 - y : fy2 - y, fx1 - x : fx2 - x, None]
    rgb = cutout.rgb[fy1 - y : fy2 - y, fx1 - x : fx2 - x]
    region = frame[fy1:fy2, fx1:fx2]
    region *= 1.0 - alpha
    region += alpha * rgb


def compose_demo_scene(path: Path, *, seconds: float = 40.0, fps: int = 10) -> Path:
    """Write the demo scene to path as a browser-playable MP4 and return the path."""
    photos = sample_photos()
    background = room_background(photos)
    astronaut, chelsea = photos["person"], photos["cat"]
    person = cut_out(astronaut, PERSON_OUTLINE, height=PERSON_HEIGHT)
    cat = cut_out(chelsea, CAT_OUTLINE, height=CAT_HEIGHT)
    person_w = person.rgb.shape[1]
    cat_w = cat.rgb.shape[1]
    person_y = HEIGHT - person.rgb.shape[0]
    cat_y = HEIGHT - cat.rgb.shape[0] - 10
    scale = seconds / 40.0
    person_moves = [
        Move(4 * scale, 8 * scale, (-person_w, person_y), (260, person_y)),
        Move(8 * scale, 12 * scale, (260, person_y), (260, person_y)),
        Move(12 * scale, 16 * scale, (260, person_y), (WIDTH, person_y)),
    ]
    cat_moves = [Move(24 * scale, 30 * scale, (WIDTH, cat_y), (-cat_w, cat_y))]

    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    rng = np.random.default_rng(NOISE_SEED)
    frame_time = Fraction(1, fps)
    try:
        with av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream = output.add_stream(
                "libx264",
                rate=fps,
                # One thread: x264's output then does not depend on the machine's core count.
                options={"preset": "veryfast", "crf": "20", "threads": "1"},
            )
            stream.width, stream.height = WIDTH, HEIGHT
            stream.pix_fmt = "yuv420p"
            stream.gop_size = fps
            for index in range(round(seconds * fps)):
                at = index / fps
                frame = background.copy()
                for cutout, moves in ((person, person_moves), (cat, cat_moves)):
                    xy = position(moves, at)
                    if xy is not None:
                        paste(frame, cutout, xy)
                frame += rng.normal(0.0, NOISE_SIGMA, frame.shape).astype(np.float32)
                picture = av.VideoFrame.from_ndarray(
                    np.clip(frame + 0.5, 0, 255).astype(np.uint8), format="rgb24"
                ).reformat(format="yuv420p")
                picture.pts = index
                picture.time_base = frame_time
                for packet in stream.encode(picture):
                    output.mux(packet)
            for packet in stream.encode(None):
                output.mux(packet)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
