"""Keep every camera watching: one thread each, restarted with backoff when it fails, watched for stalls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from homewarden.camera.health import CameraHealth, CameraHealthBoard
from homewarden.camera.runner import BACKOFF_MAX, BACKOFF_START, STALLED_AFTER, CameraRunner, RunStats
from homewarden.i18n import N_
from homewarden.video.source import VideoSource

log = logging.getLogger(__name__)

WATCH_INTERVAL = 1.0
# A camera thread that ran this long before failing starts its backoff again from the beginning.
HEALTHY_RUN = 60.0


class CameraSupervisor:
    """Run each camera in its own thread; a failure is logged once, shown, and the camera restarted with backoff.

    The watcher thread measures each camera's rates, asks a source that is open but sends no frames to reconnect,
    and calls ``on_watch`` once a second with every camera's health (the hub writes its status file and decides the
    "camera offline" notice there).
    """

    def __init__(
        self,
        cameras: list[str],
        make_runner: Callable[[str], CameraRunner],
        health: CameraHealthBoard,
        *,
        reconnect: bool = True,
        first_sources: dict[str, VideoSource] | None = None,
        on_watch: Callable[[dict[str, CameraHealth]], None] | None = None,
    ) -> None:
        """Prepare the cameras; nothing runs before start()."""
        self.cameras = list(cameras)
        self.health = health
        # The running runner of every camera (replaced on restart); the doorbell rings through it.
        self.runners: dict[str, CameraRunner] = {}
        self.results: dict[str, RunStats] = {}
        self._make_runner = make_runner
        self._reconnect = reconnect
        self._first_sources = dict(first_sources or {})
        self._on_watch = on_watch
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watcher: threading.Thread | None = None
        # Settings changed while the hub runs: cameras to build again once their runner stops, cameras turned off.
        self._lock = threading.Lock()
        self._restarting: set[str] = set()
        self._retired: set[str] = set()
        # Set to cut a failed camera's backoff short (a restart, a retirement or the hub stopping).
        self._wake: dict[str, threading.Event] = {name: threading.Event() for name in self.cameras}

    def start(self) -> None:
        """Start every camera's thread and the watcher."""
        for name in self.cameras:
            self._start_thread(name)
        self._watcher = threading.Thread(target=self._watch, name="camera-watch", daemon=True)
        self._watcher.start()

    def restart(self, name: str) -> None:
        """Build a camera's runner again (its settings changed): stop the running one, or start a camera not running."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._retired.discard(name)
            if self._thread_of(name) is None:
                if name not in self.cameras:
                    self.cameras.append(name)
                self._start_thread(name)
                return
            self._restarting.add(name)
            runner = self.runners.get(name)
        self._wake_up(name)
        if runner is not None:
            # The runner closes its clips and events as at a stop; its thread then builds the next one.
            runner.stop_event.set()

    def retire(self, name: str) -> None:
        """Stop one camera for good (turned off in the settings); the others go on."""
        with self._lock:
            self._retired.add(name)
            self._restarting.discard(name)
            runner = self.runners.get(name)
        self._wake_up(name)
        if runner is not None:
            runner.stop_event.set()

    def running(self) -> bool:
        """Tell whether any camera is still running."""
        return any(thread.is_alive() for thread in self._threads)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every camera to finish; return whether they all have."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.running()

    def stop(self, timeout: float = 20.0) -> None:
        """Ask every camera to finish (closing its clips) and wait for them."""
        self._stopping.set()
        for name in list(self._wake):
            self._wake_up(name)
        for runner in list(self.runners.values()):
            runner.stop_event.set()
        self.wait(timeout)
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        if self.running():
            log.warning("cameras still finishing after %.0f s: %s", timeout, ", ".join(self._still_running()))

    def _still_running(self) -> list[str]:
        return [thread.name.removeprefix("camera-") for thread in self._threads if thread.is_alive()]

    def _thread_of(self, name: str) -> threading.Thread | None:
        """Return the camera's thread while it runs."""
        alive = [thread for thread in self._threads if thread.name == f"camera-{name}" and thread.is_alive()]
        return alive[0] if alive else None

    def _wake_up(self, name: str) -> None:
        self._wake.setdefault(name, threading.Event()).set()

    def _start_thread(self, name: str) -> None:
        self._wake.setdefault(name, threading.Event())
        thread = threading.Thread(target=self._keep_running, args=(name,), name=f"camera-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _goes_on(self, name: str) -> bool:
        """Tell whether the camera's thread builds another runner (the hub runs and the camera was not turned off)."""
        return not self._stopping.is_set() and name not in self._retired

    def _restart_asked(self, name: str) -> bool:
        with self._lock:
            asked = name in self._restarting
            self._restarting.discard(name)
            return asked and self._goes_on(name)

    def _keep_running(self, name: str) -> None:
        backoff = BACKOFF_START
        last_cause = ""
        while self._goes_on(name):
            with self._lock:
                # The runner built now has the newest settings: a restart asked before this point is served by it.
                self._restarting.discard(name)
                self._wake[name].clear()
            runner = self._make_runner(name)
            self.runners[name] = runner
            if not self._goes_on(name):
                runner.stop_event.set()
            started = time.monotonic()
            try:
                self.results[name] = runner.run_live(self._first_sources.pop(name, None), reconnect=self._reconnect)
                if self._restart_asked(name):
                    log.info("camera %s: restarting with its new settings", name)
                    backoff = BACKOFF_START
                    continue
                break  # stopped, turned off, or a file that is not looped has ended
            except Exception as exc:  # one camera's failure never ends the hub or touches another camera
                error = exc
            cause = f"{type(error).__name__}: {error}"
            if time.monotonic() - started >= HEALTHY_RUN:
                backoff = BACKOFF_START
            self.health.set_state(name, "failed", cause)
            self.health.count_restart(name)
            if cause != last_cause:
                log.error("camera %s failed (%s); restarting in %.0f s", name, cause, backoff, exc_info=error)
                last_cause = cause
            else:
                log.debug("camera %s failed again (%s); restarting in %.0f s", name, cause, backoff)
            # The wait ends early when the camera is restarted or turned off, or the hub stops (the loop sees which).
            wake = self._wake[name]
            wake.wait(backoff)
            wake.clear()
            backoff = min(backoff * 2, BACKOFF_MAX)
        with self._lock:
            # A restart asked for while this thread was already on its way out is served by a thread of its own.
            again = name in self._restarting and self._goes_on(name)
            self._restarting.discard(name)
            if again:
                self._start_thread(name)
        if again:
            return
        reason = N_("turned off") if name in self._retired and not self._stopping.is_set() else N_("stopped")
        current = self.health.health(name)
        if current is None or current.state != "stopped" or current.reason != reason:
            self.health.set_state(name, "stopped", reason)

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_INTERVAL):
            for name, runner in list(self.runners.items()):
                frames, calls, dropped = runner.counters()
                self.health.measure(name, frames, calls, dropped)
                current = self.health.health(name)
                if (
                    current is not None
                    and current.state == "online"
                    and current.last_frame_at is not None
                    and time.time() - current.last_frame_at > STALLED_AFTER
                ):
                    runner.request_reconnect()
            if self._on_watch is not None:
                try:
                    self._on_watch(self.health.all())
                except Exception:  # the status file or a notice failing must not stop the watching
                    log.exception("camera watch step failed")
