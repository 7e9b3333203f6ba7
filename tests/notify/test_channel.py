"""The channels' base: queue without blocking, deliver in order on its thread, tick on time, stop after the queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from homewarden.notify.bus import HubBus, Message, MotionChanged
from homewarden.notify.channel import Channel


class Recorder(Channel):
    """A channel that records what it delivers and when it ticks; a message of camera "boom" fails."""

    def __init__(self, queue_size: int = 10, wait: float | None = None) -> None:
        super().__init__("recorder", queue_size=queue_size)
        self.delivered: list[str] = []
        self.ticks = 0
        self.wait = wait
        self.threads: set[str] = set()
        self.changed = threading.Condition()

    def wants(self, message: Message) -> bool:
        return isinstance(message, MotionChanged)

    def deliver(self, message: Message) -> None:
        assert isinstance(message, MotionChanged)
        self.threads.add(threading.current_thread().name)
        if message.camera == "boom":
            raise RuntimeError("a broken message")
        with self.changed:
            self.delivered.append(message.camera)
            self.changed.notify_all()

    def next_wait(self) -> float | None:
        return self.wait

    def tick(self) -> None:
        with self.changed:
            self.ticks += 1
            self.changed.notify_all()

    def wait_for(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        with self.changed:
            assert self.changed.wait_for(done, timeout)


def motion(camera: str) -> MotionChanged:
    return MotionChanged(camera, True, time.time())


def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    channel = Recorder(queue_size=3)  # not started: nothing is taken off the queue
    for index in range(10):
        channel(motion(f"camera-{index}"))
    assert channel.dropped == 7
    channel.wake()  # a wake-up on a full queue is not needed, and never blocks


def test_messages_are_delivered_in_order_on_the_channels_thread_and_a_failure_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = Recorder()
    bus = HubBus()
    bus.subscribe("recorder", channel)
    channel.start()
    bus.start()
    try:
        for camera in ("a", "boom", "b", "c"):
            bus.publish(motion(camera))
        channel.wait_for(lambda: len(channel.delivered) == 3)
    finally:
        bus.stop()
        channel.stop()
    assert channel.delivered == ["a", "b", "c"]
    assert channel.threads == {"recorder"}
    assert any("recorder failed on MotionChanged" in record.getMessage() for record in caplog.records)


def test_tick_runs_when_the_wait_is_over_and_on_wake() -> None:
    channel = Recorder(wait=0.05)
    channel.start()
    try:
        channel.wait_for(lambda: channel.ticks >= 3)
    finally:
        channel.stop()
    patient = Recorder(wait=None)
    patient.start()
    try:
        time.sleep(0.2)
        assert patient.ticks == 0, "no timed work asked for: the worker sleeps until woken"
        patient.wake()
        patient.wait_for(lambda: patient.ticks == 1)
    finally:
        patient.stop()


def test_stop_delivers_what_is_queued_first() -> None:
    channel = Recorder(queue_size=100)
    for index in range(50):
        channel(motion(f"camera-{index}"))
    channel.start()
    channel.stop()
    assert channel.delivered == [f"camera-{index}" for index in range(50)]
