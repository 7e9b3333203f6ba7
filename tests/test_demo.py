"""Tests for the demo scene: a browser-playable MP4 in which the real pipeline finds a person and a cat."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import av
import pytest

from homewarden.cli import main
from homewarden.demo import HEIGHT, WIDTH, compose_demo_scene


def top_level_boxes(path: Path) -> list[str]:
    """Return the types of an MP4 file's top-level boxes, in file order."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("ascii"))
        if size == 0:
            break
        offset += size
    return boxes


def test_scene_is_h264_with_one_keyframe_a_second_and_moov_first(tmp_path: Path) -> None:
    """A short scene decodes as 768x432 H.264 of the asked length, ready to stream before it has downloaded."""
    scene = compose_demo_scene(tmp_path / "new" / "scene.mp4", seconds=4.0, fps=10)

    assert scene == tmp_path / "new" / "scene.mp4"
    assert [p.name for p in scene.parent.iterdir()] == ["scene.mp4"]
    boxes = top_level_boxes(scene)
    assert boxes.index("moov") < boxes.index("mdat")
    with av.open(str(scene)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (WIDTH, HEIGHT)
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.duration * stream.time_base) == pytest.approx(4.0)
        packets = [packet for packet in container.demux(stream) if packet.size]
        keyframes = [float(packet.pts * packet.time_base) for packet in packets if packet.is_keyframe]
        assert len(packets) == 40
        assert keyframes == pytest.approx([0.0, 1.0, 2.0, 3.0])
    with av.open(str(scene)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 40


def test_scene_is_the_same_every_run(tmp_path: Path) -> None:
    """The scene (sensor noise included) is byte for byte the same each time it is composed."""
    first = compose_demo_scene(tmp_path / "a.mp4", seconds=2.0)
    second = compose_demo_scene(tmp_path / "b.mp4", seconds=2.0)

    assert first.read_bytes() == second.read_bytes()


@pytest.mark.slow
def test_analysis_finds_one_person_and_one_cat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real detector and pipeline turn the default scene into a person event, then a cat event, with clips."""
    scene = compose_demo_scene(tmp_path / "demo-scene.mp4")
    config = tmp_path / "homewarden.yaml"
    config.write_text(f"storage:\n  folder: {json.dumps(str(tmp_path / 'data'))}\n")
    capsys.readouterr()

    code = main(["analyze", str(scene), "--json", "--out", str(tmp_path / "media"), "--quiet", "--config", str(config)])

    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [event["label"] for event in events] == ["person", "cat"]
    person, cat = events
    assert person["end"] < cat["start"]
    for event in events:
        assert event["score"] >= 0.5
        assert event["clips"]
        assert all(Path(clip).is_file() and Path(clip).stat().st_size > 0 for clip in event["clips"])
