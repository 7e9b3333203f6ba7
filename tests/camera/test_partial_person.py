"""A visitor seen only from the waist down is a person, not a cat.

Real footage: the first 46 s of Intel's one-by-one clip (tests/data/video/, two visitors walk into an office one after
the other, stand and leave), of each frame only the bottom half kept (768x216), as a camera whose top half is hidden
sees it (bench/partial_people.py cuts the whole clip the same way). The shipped NanoDet calls the second visitor's legs
`cat` 0.43-0.46 while walking in, with `person` 0.28-0.38 on the same box; on main those votes made the pet guard hold
the person event back as a cat (no alarm). Counted by what they beat `person` by, they are the detector hesitating.
The first 90 s hold two more visitors whose legs NanoDet calls `cat` on boxes hanging from the picture's top edge
(legs16b): there a `person` score counts twice.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from conftest import analyze_json, media_file

ROOM = "video/one-by-one-person-detection.mp4"
SECONDS = 46.0
# The visits as a person watching the cut sees them (seconds): the first two end before SECONDS, all four before 90 s.
VISITS = [(6.0, 19.8), (22.8, 44.8), (50.4, 70.0), (74.6, 87.0)]

pytestmark = pytest.mark.slow


def waist_down(source: Path, out: Path, seconds: float = SECONDS) -> None:
    """Write the bottom half of each of the clip's first seconds of frames to a new H.264 clip."""
    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        stream = src.streams.video[0]
        video = dst.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 768, 216, "yuv420p"
        video.options = {"crf": "18", "preset": "veryfast"}
        for frame in src.decode(stream):
            if frame.time is None or frame.time >= seconds:
                break
            bottom = np.ascontiguousarray(frame.to_ndarray(format="bgr24")[216:])
            dst.mux(video.encode(av.VideoFrame.from_ndarray(bottom, format="bgr24")))
        dst.mux(video.encode())


def test_a_visitor_seen_from_the_waist_down_raises_a_person_alarm(tmp_path: Path) -> None:
    clip = tmp_path / "waist-down.mp4"
    waist_down(media_file(ROOM), clip)
    code, events = analyze_json(clip, tmp_path / "analyze")
    assert code == 0
    assert [(event["label"], event["alarm"]) for event in events] == [("person", True)] * 2, events
    for event, (enter, leave) in zip(events, VISITS[:2], strict=True):
        assert enter - 1 <= event["start"] <= enter + 3, event
        assert leave - 4 <= event["end"] <= leave + 2, event


def test_visitors_whose_legs_hang_from_the_top_edge_raise_person_alarms(tmp_path: Path) -> None:
    # Visits 3 and 4 are `cat` 0.38-0.53 with `person` 0.17-0.39 on boxes from y 0-2.2 down, 1.06-1.65 times as tall as
    # wide; on main the pet guard held both back as cats (animal votes 9-10 % and a median score under 0.6).
    clip = tmp_path / "waist-down.mp4"
    waist_down(media_file(ROOM), clip, seconds=90.0)
    code, events = analyze_json(clip, tmp_path / "analyze")
    assert code == 0
    assert [(event["label"], event["alarm"]) for event in events] == [("person", True)] * 4, events
    for event, (enter, leave) in zip(events, VISITS, strict=True):
        assert enter - 1 <= event["start"] <= enter + 3, event
        assert leave - 4 <= event["end"] <= leave + 2, event
