"""A file read ahead on its own thread gives the analysis and the recorder exactly what reading in turn gives them.

Real files through PyAV: an H.264 clip (the recorder copies its packets) and a GIF (the recorder encodes its frames).
The recorder is a log of what it was handed and when: what it does with it is tested with the clip recorder.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import media_file
from homewarden.camera.reader import FramePacer, Sample, read_ahead, read_samples
from homewarden.video.recorder import BufferedItem
from homewarden.video.source import SourceError, SourcePacket, VideoSource

FPS = 5.0
H264 = "real/parking-lot-pedestrian.mp4"
GIF = "video/people-detection.gif"


class RecorderLog:
    """Stands in for the clip recorder: notes each item handed to it and each frame the analysis reached."""

    def __init__(self, encodes: bool) -> None:
        self.encodes = encodes
        self.entries: list[tuple[str, float]] = []

    def add(self, item: BufferedItem) -> None:
        self.entries.append(("recorded", item.time))

    def reached(self, sample: Sample) -> None:
        self.entries.append(("analysed", sample.time))


def opened(relative: str) -> tuple[VideoSource, tuple[int, int]]:
    source = VideoSource(str(media_file(relative)))
    info = source.open()
    return source, (info.width, info.height)


def read_in_turn(relative: str) -> tuple[list[tuple[str, float]], list[np.ndarray]]:
    source, size = opened(relative)
    log = RecorderLog(encodes=relative == GIF)
    greys = []
    try:
        for sample in read_samples(source, log, FramePacer(FPS), size):
            log.reached(sample)
            greys.append(sample.grey)
    finally:
        source.close()
    return log.entries, greys


@pytest.mark.parametrize("relative", [H264, GIF])
def test_reading_ahead_hands_over_what_reading_in_turn_does_in_the_same_order(relative: str) -> None:
    expected, expected_greys = read_in_turn(relative)
    source, size = opened(relative)
    log = RecorderLog(encodes=relative == GIF)
    greys = []
    samples = read_ahead(source, log, FramePacer(FPS), size, depth=2)
    try:
        for sample in samples:
            log.reached(sample)
            greys.append(sample.grey)
    finally:
        samples.close()
        source.close()
    assert len([entry for entry in expected if entry[0] == "analysed"]) >= 10
    assert log.entries == expected
    assert all(np.array_equal(a, b) for a, b in zip(greys, expected_greys, strict=True))


def reader_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "file-reader"]


def test_closing_early_stops_the_reader_and_records_only_what_was_analysed() -> None:
    expected, _ = read_in_turn(H264)
    source, size = opened(H264)
    log = RecorderLog(encodes=False)
    samples = read_ahead(source, log, FramePacer(FPS), size, depth=3)
    try:
        for number, sample in enumerate(samples):
            log.reached(sample)
            if number == 4:
                break
    finally:
        samples.close()
        source.close()
    assert not reader_threads()
    # The reader had decoded up to three frames further; none of their packets reached the recorder.
    assert log.entries == expected[: len(log.entries)]
    assert log.entries[-1][0] == "analysed"


class DroppingSource(VideoSource):
    """A real file source whose connection drops after some packets (a boundary no real file reaches)."""

    def __init__(self, url: str, packets_before_drop: int) -> None:
        super().__init__(url)
        self.left = packets_before_drop

    def packets(self) -> Iterator[tuple[SourcePacket, Any]]:
        for packet in super().packets():
            if self.left == 0:
                raise SourceError(f"{Path(self.url).name}: connection lost")
            self.left -= 1
            yield packet


def analyse_to_the_end(samples: Generator[Sample, None, None], source: VideoSource, analysed: list[float]) -> None:
    try:
        for sample in samples:
            analysed.append(sample.time)
    finally:
        samples.close()
        source.close()


def test_a_source_failing_while_read_ahead_fails_the_analysis_after_the_frames_before() -> None:
    source = DroppingSource(str(media_file(H264)), packets_before_drop=60)
    info = source.open()
    log = RecorderLog(encodes=False)
    samples = read_ahead(source, log, FramePacer(FPS), (info.width, info.height))
    analysed: list[float] = []
    with pytest.raises(SourceError, match="connection lost"):
        analyse_to_the_end(samples, source, analysed)
    assert len(analysed) >= 5
    assert not reader_threads()
