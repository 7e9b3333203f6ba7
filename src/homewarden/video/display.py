"""Show decoded pictures as players do: turned by the display matrix (a phone held upright), pixels made square."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import av.filter

# FFmpeg filters that turn a picture counter-clockwise by each quarter turn, as `ffmpeg` does with -autorotate.
TURN_FILTERS: dict[int, tuple[tuple[str, str], ...]] = {
    0: (),
    90: (("transpose", "cclock"),),
    180: (("hflip", ""), ("vflip", "")),
    270: (("transpose", "clock"),),
}
# Packets read while looking for the first picture before giving up (a file whose start does not decode).
PROBE_PACKETS = 300
# Pixels this close to square are left as they are (a 630x354 phone export says 944:945).
SQUARE_ENOUGH = 0.02


def quarter_turn(degrees: float) -> int:
    """Return a display rotation (counter-clockwise degrees) as the nearest quarter turn: 0, 90, 180 or 270."""
    return round(degrees / 90) % 4 * 90


def pixel_stretch(sample_aspect_ratio: Fraction | None) -> Fraction | None:
    """Return how much wider than tall a stored pixel is shown (a DVR's 480x360 shown as 640x360: 4/3), or None."""
    if not sample_aspect_ratio or abs(sample_aspect_ratio - 1) <= SQUARE_ENOUGH:
        return None
    return sample_aspect_ratio


def display_size(width: int, height: int, stretch: Fraction | None, turn: int) -> tuple[int, int]:
    """Return the size a stored picture is shown at: stretched to square pixels (to an even width), then turned."""
    if stretch is not None:
        width = round(width * stretch / 2) * 2
    return (height, width) if turn in (90, 270) else (width, height)


def display_turn(path: str) -> int:
    """Return how far a file's first picture is turned for display (0, 90, 180 or 270, counter-clockwise).

    The display matrix is stream side data PyAV shows only on decoded frames, so the file is opened once more and its
    first picture decoded; a file that cannot be read this way is taken as upright (opening it says what is wrong).
    """
    if not Path(path).is_file():
        return 0  # a device or a pipe cannot be read twice
    try:
        with av.open(path) as container:
            if not container.streams.video:
                return 0
            stream = container.streams.video[0]
            for count, packet in enumerate(container.demux(stream)):
                with contextlib.suppress(av.error.InvalidDataError):
                    for frame in packet.decode():
                        return quarter_turn(frame.rotation)
                if count >= PROBE_PACKETS:
                    return 0
    except (av.error.FFmpegError, OSError):
        return 0
    return 0


class AsDisplayed:
    """Stretch each decoded frame of a stream to square pixels and turn it upright, keeping its timestamp."""

    def __init__(self, turn: int, stretch: Fraction | None = None) -> None:
        if turn not in TURN_FILTERS:
            raise ValueError(f"not a quarter turn: {turn}")
        self.turn = turn
        self.stretch = stretch
        self._graph: Any = None
        self._shape: tuple[int, int, str] | None = None

    def __call__(self, frame: Any) -> Any:
        """Return the frame as a player shows it."""
        shape = (frame.width, frame.height, frame.format.name)
        if self._graph is None or shape != self._shape:
            self._graph = self._build(frame)  # a camera can change its picture size or format mid-stream
            self._shape = shape
        self._graph.vpush(frame)
        shown = self._graph.vpull()
        shown.pts = frame.pts
        if frame.time_base is not None:
            shown.time_base = frame.time_base
        return shown

    def _build(self, frame: Any) -> Any:
        graph = av.filter.Graph()
        nodes = [
            graph.add_buffer(
                width=frame.width, height=frame.height, format=frame.format, time_base=frame.time_base or Fraction(1)
            )
        ]
        if self.stretch is not None:
            width, _ = display_size(frame.width, frame.height, self.stretch, 0)
            nodes += [graph.add("scale", f"{width}:{frame.height}"), graph.add("setsar", "1")]
        nodes += [graph.add(name, args) for name, args in TURN_FILTERS[self.turn]]
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes).configure()
        return graph
