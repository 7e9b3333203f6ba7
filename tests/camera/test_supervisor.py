"""Supervision: a camera whose analysis fails is shown failed and restarted; the others never notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from homewarden.camera import runner as runner_module
from homewarden.camera import supervisor as supervisor_module
from homewarden.camera.health import CameraHealth, CameraHealthBoard
from homewarden.camera.pipeline import CameraPipeline
from homewarden.camera.reader import Sample
from homewarden.camera.runner import CameraRunner
from homewarden.camera.supervisor import CameraSupervisor
from homewarden.config import HomewardenConfig
from homewarden.detect import create_detector
from homewarden.store.media import MediaFolder
from video.synthetic import write_video
from waiting import wait_for

pytestmark = pytest.mark.slow


def looping_cameras(tmp_path: Path, names: list[str], video: Path) -> HomewardenConfig:
    """Return a config whose cameras each replay ``video`` like a live camera."""
    return HomewardenConfig.model_validate(
        {"cameras": {name: {"source": str(video), "loop": True} for name in names}, "storage": {"folder": tmp_path}}
    )


def supervise(config: HomewardenConfig, tmp_path: Path, board: CameraHealthBoard) -> CameraSupervisor:
    """Build a supervisor of every camera of ``config`` with the real detector and a plain media folder."""
    detector = create_detector(config.detector)
    media = MediaFolder(tmp_path / "media")

    def make_runner(name: str) -> CameraRunner:
        return CameraRunner(name, config, detector, media, lambda _record: None, wall_clock=True, health=board)

    return CameraSupervisor(list(config.cameras), make_runner, board)


def test_a_failing_camera_is_shown_failed_and_restarted_while_the_other_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = write_video(tmp_path / "room.mp4", seconds=3)
    config = looping_cameras(tmp_path, ["kitchen", "garage"], video)
    # Long enough for the garage to analyse a few frames meanwhile on a loaded machine (1.5 s was not, once).
    monkeypatch.setattr(supervisor_module, "BACKOFF_START", 6.0)
    # A bug in the analysis of one camera, hit once on its 10th frame: the boundary this test forces.
    original = CameraPipeline.process
    calls = {"kitchen": 0}

    def process_failing_once(pipeline: CameraPipeline, sample: Sample) -> None:
        if pipeline.name == "kitchen":
            calls["kitchen"] += 1
            if calls["kitchen"] == 10:
                raise KeyError("forced failure")
        original(pipeline, sample)

    monkeypatch.setattr(CameraPipeline, "process", process_failing_once)
    states: list[tuple[str, str]] = []
    board = CameraHealthBoard(list(config.cameras), lambda h: states.append((h.camera, h.state)))
    supervisor = supervise(config, tmp_path, board)
    supervisor.start()
    try:
        wait_for(lambda: board.all()["kitchen"].state == "failed", 30, "the kitchen camera to fail")
        failed = board.all()["kitchen"]
        assert failed.reason == "KeyError: 'forced failure'"
        assert failed.restarts == 1
        garage_frames = board.all()["garage"].frames_analysed
        # While the kitchen waits to restart, the garage goes on analysing.
        wait_for(lambda: board.all()["garage"].frames_analysed > garage_frames + 3, 10, "the garage to go on")
        assert board.all()["kitchen"].state == "failed"
        wait_for(lambda: board.all()["kitchen"].state == "online", 30, "the kitchen camera to come back")
        kitchen_runner = supervisor.runners["kitchen"]
        wait_for(lambda: kitchen_runner.counters()[0] > 5, 30, "the restarted kitchen camera to analyse")
    finally:
        supervisor.stop()
    assert ("garage", "failed") not in states
    assert [state for camera, state in states if camera == "kitchen"][:3] == ["online", "failed", "online"]
    assert {health.state for health in board.all().values()} == {"stopped"}


def test_a_source_that_sends_no_frames_counts_as_down_and_is_opened_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Frames stop for 4 s in the middle of the file (a camera that stalls while its connection stays up).
    video = write_video(tmp_path / "stall.mp4", seconds=2)
    stalled = tmp_path / "stalled.mp4"
    _concatenate_with_gap(video, stalled, gap=4.0)
    monkeypatch.setattr(supervisor_module, "STALLED_AFTER", 1.5)
    monkeypatch.setattr(runner_module, "STALLED_AFTER", 1.5)
    seen: list[CameraHealth] = []
    board = CameraHealthBoard(["porch"], seen.append)
    supervisor = supervise(looping_cameras(tmp_path, ["porch"], stalled), tmp_path, board)
    supervisor.start()
    try:
        wait_for(lambda: any(h.state == "reconnecting" for h in seen), 30, "the stalled camera to count as down")
        wait_for(lambda: board.all()["porch"].state == "online", 30, "the camera to come back")
    finally:
        supervisor.stop()
    down = next(h for h in seen if h.state == "reconnecting")
    assert down.reason is not None
    assert down.reason.endswith("no frames for 1.5 s")
    assert board.all()["porch"].reconnects >= 1


def _concatenate_with_gap(video: Path, out: Path, gap: float) -> None:
    """Write ``video`` twice into ``out`` with ``gap`` seconds without frames between the two copies."""
    import av

    with av.open(str(video)) as source, av.open(str(out), "w") as target:
        stream_in = source.streams.video[0]
        stream_out = target.add_stream_from_template(stream_in)
        packets = [packet for packet in source.demux(stream_in) if packet.dts is not None]
        span = max(packet.pts for packet in packets) + (packets[1].pts - packets[0].pts)
        shift = span + round(gap / stream_in.time_base)
        for offset in (0, shift):
            for packet in packets:
                packet.pts += offset
                packet.dts += offset
                packet.stream = stream_out
                target.mux(packet)
                packet.pts -= offset
                packet.dts -= offset


def test_a_camera_is_restarted_with_new_settings_or_turned_off_even_while_it_waits_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = write_video(tmp_path / "room.mp4", seconds=3)
    config = looping_cameras(tmp_path, ["kitchen", "garage"], video)
    # A long backoff: without the wake-up the kitchen would wait a minute before anything changed.
    monkeypatch.setattr(supervisor_module, "BACKOFF_START", 60.0)
    original = CameraPipeline.process
    broken = {"kitchen": True}

    def process_failing_while_broken(pipeline: CameraPipeline, sample: Sample) -> None:
        if broken.get(pipeline.name):
            raise KeyError("forced failure")
        original(pipeline, sample)

    monkeypatch.setattr(CameraPipeline, "process", process_failing_while_broken)
    board = CameraHealthBoard(list(config.cameras))
    supervisor = supervise(config, tmp_path, board)
    supervisor.start()
    try:
        wait_for(lambda: board.all()["kitchen"].state == "failed", 30, "the kitchen camera to fail")
        broken["kitchen"] = False  # the owner's new settings mend it
        supervisor.restart("kitchen")
        wait_for(lambda: board.all()["kitchen"].state == "online", 15, "the kitchen camera to restart at once")
        kitchen = supervisor.runners["kitchen"]
        wait_for(lambda: kitchen.counters()[0] > 5, 30, "the restarted kitchen camera to analyse")

        broken["kitchen"] = True
        supervisor.restart("kitchen")
        wait_for(lambda: board.all()["kitchen"].state == "failed", 30, "the kitchen camera to fail again")
        supervisor.retire("kitchen")
        wait_for(lambda: board.all()["kitchen"].state == "stopped", 10, "the kitchen camera to stop at once")
        assert board.all()["kitchen"].reason == "turned off"
        garage_frames = board.all()["garage"].frames_analysed
        wait_for(lambda: board.all()["garage"].frames_analysed > garage_frames + 3, 10, "the garage to go on")
    finally:
        supervisor.stop()
    assert board.all()["kitchen"].reason == "turned off"
    assert board.all()["garage"].state == "stopped"
