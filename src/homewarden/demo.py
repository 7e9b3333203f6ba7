"""Compose the demo scene: sample photos of a person and a cat crossing a still room, encoded as H.264."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from homewarden.errors import UserError

WIDTH, HEIGHT = 768, 432
FLOOR_Y = 330
# NanoDet (DESIGN.md) scores this person about 0.8 at 300 px; Chelsea's close-up face reads as a cat only while
# it is small in the detector's crop (about 100 px); at 130 px and more it reads as a dog.
PERSON_HEIGHT = 300
CAT_HEIGHT = 105
CAT_FLOOR_GAP = 12
# Sensor noise, so the still room looks like a camera's view; seeded, so every run gives the same frames.
NOISE_SEED = 20240611
NOISE_AMPLITUDE = 2

RGBImage = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]
Point = tuple[int, int]


@dataclass(frozen=True)
class Cutout:
    """A photo cut out with a soft-edged alpha mask, at its size in the scene."""

    rgb: FloatImage
    alpha: FloatImage

    @property
    def width(self) -> int:
        """Return the width in scene pixels."""
        return int(self.alpha.shape[1])

    @property
    def height(self) -> int:
        """Return the height in scene pixels."""
        return int(self.alpha.shape[0])


@dataclass(frozen=True)
class Move:
    """A cutout's top-left corner going from one place to another between two fractions of the scene."""

    start: float
    end: float
    from_xy: tuple[float, float]
    to_xy: tuple[float, float]


def ellipse(centre: Point, axes: Point, start: int = 0, end: int = 360) -> list[Point]:
    """Return points along an ellipse's arc (degrees clockwise from the right), to build outlines."""
    return [(int(x), int(y)) for x, y in cv2.ellipse2Poly(centre, axes, 0, start, end, 10)]


# Outlines in the photos' own pixels: the astronaut's head and upper body, without the flag beside her and the
# helmet in front of her; Chelsea's head.
PERSON_OUTLINE = [
    (10, 511), (25, 330), (60, 280), (115, 240), (130, 190),
    *ellipse((226, 105), (80, 98), 150, 390),
    (318, 240), (355, 300), (345, 345), (295, 375), (276, 430), (270, 511),
]  # fmt: skip
CAT_OUTLINE = ellipse((225, 160), (215, 148))


def sample_photos() -> dict[str, RGBImage]:
    """Return the photos the scene is made of, all shipped with scikit-image."""
    try:
        from skimage import data
    except ImportError:
        raise UserError("the demo needs scikit-image's sample photos: pip install 'homewarden[demo]'") from None
    # scikit-image's loaders are untyped; each returns a uint8 array.
    loaders: dict[str, Callable[[], RGBImage]] = {
        "person": data.astronaut,
        "cat": data.chelsea,
        "wood": data.coffee,
        "plaster": data.gravel,
        "print": data.rocket,
    }
    photos = {name: np.asarray(load(), dtype=np.uint8) for name, load in loaders.items()}
    # The table top beside the cup: bare wood.
    photos["wood"] = photos["wood"][:, 490:]
    return photos


def resized(image: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Scale an image (colour or grey) to (width, height)."""
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def room_background(photos: dict[str, RGBImage]) -> RGBImage:
    """Build a still room from the photos: a plaster wall, a door, a framed print and a wooden floor."""
    room = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    # Plaster: the gravel photo blurred to a faint unevenness over a warm off-white, lit from the left.
    grain = cv2.GaussianBlur(resized(photos["plaster"], (WIDTH, FLOOR_Y)).astype(np.float32), (0, 0), 3)
    light = np.linspace(1.08, 0.86, WIDTH, dtype=np.float32)[None, :, None]
    room[:FLOOR_Y] = (np.array([206, 196, 178], np.float32) + (grain[..., None] - grain.mean()) * 0.12) * light
    # Floor boards: the table top turned to run across the room, mirrored to fill it, darker further away.
    board = resized(np.rot90(photos["wood"]), (photos["wood"].shape[0], HEIGHT - FLOOR_Y)).astype(np.float32)
    strip = np.concatenate([board, board[:, ::-1]] * (WIDTH // (2 * board.shape[1]) + 1), axis=1)
    room[FLOOR_Y:] = strip[:, :WIDTH] * np.linspace(0.8, 1.0, HEIGHT - FLOOR_Y, dtype=np.float32)[:, None, None]
    # Skirting board and the shadow it casts on the floor.
    room[FLOOR_Y - 12 : FLOOR_Y] = np.array([232, 228, 220], np.float32) * light[0]
    room[FLOOR_Y : FLOOR_Y + 4] *= 0.7
    # A door on the right: frame, wooden panel, handle.
    x1, x2, top = 590, 700, 78
    room[top : FLOOR_Y - 12, x1 - 8 : x2 + 8] = np.array([212, 209, 202], np.float32)
    panel = resized(np.rot90(photos["wood"], 2), (x2 - x1, FLOOR_Y - 12 - top - 6)).astype(np.float32)
    room[top + 6 : FLOOR_Y - 12, x1:x2] = panel * 0.75
    room[200:206, x1 + 10 : x1 + 26] = (60, 58, 54)
    # A framed print of the rocket photo.
    px, py, pw, ph = 120, 70, 150, 100
    room[py - 8 : py + ph + 8, px - 8 : px + pw + 8] = (45, 38, 32)
    room[py : py + ph, px : px + pw] = resized(photos["print"], (pw, ph))
    return np.asarray(np.clip(room + 0.5, 0, 255), dtype=np.uint8)


def cut_out(photo: RGBImage, outline: list[Point], height: int, feather: float = 5.0) -> Cutout:
    """Cut a photo out along a polygon, soften the edge, and scale it to a height in the scene."""
    points = np.array(outline, dtype=np.int32)
    mask = np.zeros(photo.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [points], 255)
    x, y, w, h = cv2.boundingRect(points)
    size = (round(w * height / h), height)
    rgb = resized(photo[y : y + h, x : x + w], size).astype(np.float32)
    alpha = cv2.GaussianBlur(resized(mask[y : y + h, x : x + w], size), (0, 0), feather)
    return Cutout(rgb, np.asarray(alpha, dtype=np.float32)[..., None] / 255.0)


def position(moves: list[Move], at: float) -> tuple[float, float] | None:
    """Return where a cutout is at a fraction of the scene, or None when it is off stage."""
    for move in moves:
        if move.start <= at < move.end:
            # Ease in and out, so moving off and stopping look like a walk rather than a jump.
            t = (at - move.start) / (move.end - move.start)
            eased = t * t * (3 - 2 * t)
            (x0, y0), (x1, y1) = move.from_xy, move.to_xy
            return x0 + (x1 - x0) * eased, y0 + (y1 - y0) * eased
    return None


def paste(frame: RGBImage, cutout: Cutout, xy: tuple[float, float]) -> None:
    """Blend a cutout into a frame with its top-left corner at xy, clipped to the frame."""
    x, y = round(xy[0]), round(xy[1])
    fx1, fy1 = max(0, x), max(0, y)
    fx2, fy2 = min(frame.shape[1], x + cutout.width), min(frame.shape[0], y + cutout.height)
    if fx1 >= fx2 or fy1 >= fy2:
        return
    alpha = cutout.alpha[fy1 - y : fy2 - y, fx1 - x : fx2 - x]
    rgb = cutout.rgb[fy1 - y : fy2 - y, fx1 - x : fx2 - x]
    region = frame[fy1:fy2, fx1:fx2].astype(np.float32)
    frame[fy1:fy2, fx1:fx2] = (region + alpha * (rgb - region) + 0.5).astype(np.uint8)


def stage(person: Cutout, cat: Cutout) -> list[tuple[Cutout, list[Move]]]:
    """Plan the scene: the person walks in, stands, walks out; later the cat crosses, stopping halfway."""
    person_y = HEIGHT - person.height
    stand_x = 260.0
    cat_y = HEIGHT - CAT_FLOOR_GAP - cat.height
    sit_x = (WIDTH - cat.width) / 2
    return [
        (person, [
            Move(0.10, 0.20, (-person.width, person_y), (stand_x, person_y)),
            Move(0.20, 0.30, (stand_x, person_y), (stand_x, person_y)),
            Move(0.30, 0.40, (stand_x, person_y), (WIDTH, person_y)),
        ]),
        (cat, [
            Move(0.60, 0.68, (WIDTH, cat_y), (sit_x, cat_y)),
            Move(0.68, 0.74, (sit_x, cat_y), (sit_x, cat_y)),
            Move(0.74, 0.82, (sit_x, cat_y), (-cat.width, cat_y)),
        ]),
    ]  # fmt: skip


def scene_frames(seconds: float, fps: int) -> Iterator[RGBImage]:
    """Yield the scene's RGB frames: the still room, the person's visit, then the cat's, with sensor noise."""
    photos = sample_photos()
    background = room_background(photos)
    person = cut_out(photos["person"], PERSON_OUTLINE, PERSON_HEIGHT)
    cat = cut_out(photos["cat"], CAT_OUTLINE, CAT_HEIGHT)
    yield from act(background, stage(person, cat), seconds, fps, NOISE_SEED)


def act(
    background: RGBImage, actors: list[tuple[Cutout, list[Move]]], seconds: float, fps: int, seed: int
) -> Iterator[RGBImage]:
    """Yield the background with the actors moving through it, with seeded sensor noise."""
    rng = np.random.default_rng(seed)
    count = round(seconds * fps)
    for index in range(count):
        frame = background.copy()
        for cutout, moves in actors:
            xy = position(moves, index / count)
            if xy is not None:
                paste(frame, cutout, xy)
        noise = rng.integers(-NOISE_AMPLITUDE, NOISE_AMPLITUDE + 1, frame.shape, dtype=np.int16)
        yield np.clip(frame + noise, 0, 255).astype(np.uint8)


def write_mp4(frames: Iterable[RGBImage], path: Path, fps: int) -> Path:
    """Encode frames as a browser-playable H.264 MP4, a keyframe a second, published only once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed when complete: an interrupted run leaves no broken file.
    temp = path.with_name(f".{path.name}.part")
    frame_time = Fraction(1, fps)
    try:
        with av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
            # One encoder thread: x264's output would otherwise depend on the machine's core count. No scene-cut
            # keyframes, so there is exactly one a second.
            stream = output.add_stream(
                "libx264", rate=fps, options={"preset": "veryfast", "crf": "21", "threads": "1", "sc_threshold": "0"}
            )
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.gop_size = fps
            for index, rgb in enumerate(frames):
                picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
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


def compose_demo_scene(path: Path, *, seconds: float = 40.0, fps: int = 10) -> Path:
    """Write the demo scene to path as an MP4 and return the path.

    The room stays empty for the first tenth of the scene; the person walks in from the left, stands, and walks out
    to the right (0.1-0.4); the room is empty again; the cat crosses from the right, stopping halfway (0.6-0.82);
    the rest is empty. At the default 40 s, the analysis finds one person event and then one cat event.
    """
    return write_mp4(scene_frames(seconds, fps), path, fps)
