"""Small motion is looked at in the camera's full-resolution frame, where a distant person has real pixels.

Real footage throughout (decoded by PyAV, detected by the shipped NanoDet): the one-by-one clip's room, its visitor
walking in, shrunk picture-in-picture so the visitor stands about 50 px tall in a 1536x864 camera frame that is
analysed at 768x432 (the visitor is 25 px there). The shrunken clip is a stand-in for a distant person: no clip in the
shared footage has a person that small at a resolution above the detect size.
"""

from __future__ import annotations

from typing import Any

import av
import cv2

from conftest import media_file
from homewarden.camera.analyzer import FrameAnalyzer
from homewarden.camera.reader import Sample
from homewarden.config.model import CameraConfig, NanoDetConfig, ObjectsConfig
from homewarden.detect import create_detector
from homewarden.detect.base import Detection, Image, ObjectDetector
from homewarden.events.lifecycle import EventStarted

FULL = (1536, 864)
DETECT = (768, 432)
SHRINK = 0.2  # the visitor, about 370 px tall in the clip, stands about 75 px tall in the camera frame


class WatchedDetector(ObjectDetector):
    """Pass every crop to the real detector, noting each crop's size."""

    def __init__(self) -> None:
        self.real = create_detector(NanoDetConfig())
        self.labels = self.real.labels
        self.sizes: list[tuple[int, int]] = []

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        self.sizes.append((image.shape[1], image.shape[0]))
        return self.real.detect(image, min_score)


def clip_frames(first: int, last: int) -> list[Image]:
    frames = []
    with av.open(str(media_file("video/one-by-one-person-detection.mp4"))) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number > last:
                break
            if number >= first and number % 2 == 0:  # 10 fps clip analysed at 5 fps
                frames.append(frame.to_ndarray(format="bgr24"))
    return frames


def camera_frames() -> list[Any]:
    """Return the camera's frames: the empty room, then the visitor walking in, small at the bottom right."""
    room = clip_frames(20, 20)[0]
    background = cv2.resize(room, FULL, interpolation=cv2.INTER_CUBIC)
    pictures = [room] * 10 + clip_frames(56, 120)
    out = []
    for picture in pictures:
        small = cv2.resize(picture, None, fx=SHRINK, fy=SHRINK, interpolation=cv2.INTER_AREA)
        frame = background.copy()
        h, w = small.shape[:2]
        frame[FULL[1] - h - 60 : FULL[1] - 60, FULL[0] - w - 200 : FULL[0] - 200] = small
        out.append(av.VideoFrame.from_ndarray(frame, format="bgr24").reformat(format="yuv420p"))
    return out


def test_a_distant_visitor_is_found_in_full_resolution_crops() -> None:
    detector = WatchedDetector()
    analyzer = FrameAnalyzer(CameraConfig(source="test"), ObjectsConfig(track=["person"]), detector, DETECT)
    started = []
    for index, frame in enumerate(camera_frames()):
        started += [c for c in analyzer.analyze(Sample(index / 5, frame, DETECT)) if isinstance(c, EventStarted)]
    assert [change.obj.label for change in started] == ["person"]
    # Its box comes back in detect-frame pixels: about 35 px tall, at the bottom right where it was pasted.
    x1, y1, _x2, y2 = started[0].obj.box
    assert 15 <= y2 - y1 <= 40
    assert x1 > DETECT[0] / 2
    assert y1 > DETECT[1] / 2
    # The motion crops were 240 px of the camera's frame (120 px of the 768x432 frame).
    assert (240, 240) in detector.sizes
