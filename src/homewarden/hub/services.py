"""What the hub shares between cameras, integrations and the web app: stores, key, live frames, arming."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from homewarden.accounts.store import AccountStore, HomeRecord
from homewarden.accounts.throttle import SignInThrottle
from homewarden.camera.health import CameraHealthBoard
from homewarden.camera.live import LiveFrames
from homewarden.camera.runner import CameraRunner
from homewarden.camera.supervisor import CameraSupervisor
from homewarden.config.model import ArmingMode, HomewardenConfig, ScheduleEntry, known_timezone
from homewarden.detect.verifier import VerifierSlot
from homewarden.events.arming import ArmingState, ManualMode, schedule_timezone
from homewarden.events.wording import camera_names
from homewarden.faces.household import HouseholdHandle
from homewarden.hub.disk_space import DiskSpaceWatch
from homewarden.hub.household_corrections import HouseholdCorrections
from homewarden.notify.bus import ArmingChanged, HubBus
from homewarden.offsite.sync import OffsiteSync
from homewarden.offsite.verifier_models import VerifierModels
from homewarden.privacy.audit import AuditLog
from homewarden.privacy.donations import Donations
from homewarden.store.crypto import Keyring
from homewarden.store.database import EventStore
from homewarden.store.retention import FootageKeeper
from homewarden.store.sealed_media import HubStorage
from homewarden.video.transcode import H264Copies


class HomeKeyHolder:
    """The home's private keys, held in memory from the owner's unlock until the hub stops or the owner locks it."""

    def __init__(self) -> None:
        """Start locked."""
        self._keyring: Keyring | None = None
        self._lock = threading.Lock()
        self._when_held: list[Callable[[], None]] = []

    def hold(self, keyring: Keyring) -> None:
        """Keep ``keyring`` for playing footage, and tell whoever waits for the recordings to open."""
        with self._lock:
            self._keyring = keyring
            waiting = list(self._when_held)
        for callback in waiting:
            callback()

    def when_held(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every unlock (it must return quickly: it runs in the unlocking request)."""
        with self._lock:
            self._when_held.append(callback)

    def release(self) -> None:
        """Forget the keys (footage cannot be played until the next unlock)."""
        with self._lock:
            self._keyring = None

    @property
    def keyring(self) -> Keyring | None:
        """Return the keys, or None while locked."""
        with self._lock:
            return self._keyring


class SetupGate:
    """The one-time first-run setup token, and the moment setup is done (the cameras wait for it)."""

    def __init__(self, needed: bool) -> None:
        """Make a token when the hub has no owner yet."""
        self.token: str | None = secrets.token_urlsafe(24) if needed else None
        self.done = threading.Event()
        if not needed:
            self.done.set()
        self._lock = threading.Lock()

    def redeem(self, token: str) -> bool:
        """Use the token up; return whether it was the right one (it works once)."""
        with self._lock:
            if self.token is None or not secrets.compare_digest(self.token.encode(), token.encode()):
                return False
            self.token = None
            return True

    def reopen_with(self, token: str) -> None:
        """Put the token back after a setup that was refused (nothing was kept), so the owner can correct it."""
        with self._lock:
            if not self.done.is_set():
                self.token = token


@dataclass
class HubServices:
    """Everything a request handler may use, built once by `serve` (or a test) and shared by every request."""

    config: HomewardenConfig
    events: EventStore
    accounts: AccountStore
    storage: HubStorage
    hub_home_id: int
    config_path: Path | None = None
    keys: HomeKeyHolder = field(default_factory=HomeKeyHolder)
    setup: SetupGate = field(default_factory=lambda: SetupGate(needed=False))
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    keeper: FootageKeeper | None = None
    live: LiveFrames = field(default_factory=LiveFrames)
    household: HouseholdHandle | None = None
    # Every home's arming state; the hub's own home's is the one its cameras decide with.
    arming: dict[int, ArmingState] = field(default_factory=dict)
    # The review program's hub side (issues 6, 14): built by init_services; None only in hubs made by hand in tests.
    audit: AuditLog | None = None
    donations: Donations | None = None
    # Integrations (issue 7): the message bus every camera publishes to, and the running cameras by name.
    bus: HubBus = field(default_factory=HubBus)
    runners: dict[str, CameraRunner] = field(default_factory=dict)
    # The running cameras' supervisor (None until they start): a camera's saved settings apply by restarting it.
    supervisor: CameraSupervisor | None = None
    # Every camera's state and rates (issue 11), kept by the camera supervisor, read by the API and `status`.
    health: CameraHealthBoard = field(default_factory=lambda: CameraHealthBoard([]))
    # The storage disk's free space and whether clips fail for want of it (None in hubs made by hand in tests).
    disk_space: DiskSpaceWatch | None = None
    # Cookies are Secure by default; browsers accept Secure cookies from http://localhost and 127.0.0.1.
    secure_cookies: bool = True
    # Off-site copies to a paired cloud (issue 13): the outbox and its worker (None in hubs made by hand in tests).
    offsite: OffsiteSync | None = None
    # The false-alarm verifier's model, shared by every camera and swapped while they run (issue 15): the off-site
    # worker fills it with the review program's promoted model once the hub is paired.
    verifier: VerifierSlot = field(default_factory=VerifierSlot)
    verifier_models: VerifierModels | None = None
    # H.264 copies of H.265 clips made for browsers that cannot play H.265 (issue 11), the latest few in memory.
    h264_copies: H264Copies = field(default_factory=H264Copies)
    # The verifier's per-home calibration from the household's corrections (None: the detector cannot score crops).
    household_corrections: HouseholdCorrections | None = None
    _arming_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def camera_names(self) -> dict[str, str]:
        """Return the cameras' display names by id ("front_door" -> "Front door" unless the config names it)."""
        return camera_names(self.config)

    def live_camera_names(self) -> Mapping[str, str]:
        """Return a view of the display names that follows every later rename (for channels built once at start)."""
        return LiveCameraNames(self)

    def set_mode(self, home_id: int, mode: ArmingMode, by: str) -> ManualMode:
        """Choose a home's arming mode by hand (web app, MQTT, voice): in force at once, stored, announced."""
        manual = self.arming_for(home_id).set_manual(mode, by)
        self.accounts.save_manual_mode(home_id, manual.mode, manual.set_by, manual.set_at)
        self.bus.publish(ArmingChanged(home_id, manual.mode, by))
        return manual

    def home_timezone(self, home_id: int) -> ZoneInfo:
        """Return the home's time zone: chosen at set-up or by the owner, else the config's, else the machine's."""
        return schedule_timezone(self.arming_for(home_id).alarm)

    def set_home_timezone(self, home_id: int, name: str) -> None:
        """Make ``name`` the home's time zone for its schedule and every time shown; raise ValueError if unknown."""
        known_timezone(name)
        state = self.arming_for(home_id)
        state.replace_schedule(state.alarm.schedule, name)
        self.accounts.save_timezone(home_id, name)

    def arming_for(self, home_id: int) -> ArmingState:
        """Return a home's arming state, restored from the database the first time it is asked for."""
        with self._arming_lock:
            state = self.arming.get(home_id)
            if state is None:
                state = ArmingState(self.config.alarm)
                restore_arming(state, self.accounts.home(home_id))
                self.arming[home_id] = state
            return state


class LiveCameraNames(Mapping[str, str]):
    """The cameras' display names as the hub's settings say at each lookup."""

    def __init__(self, services: HubServices) -> None:
        """Read the names from ``services`` at each lookup."""
        self._services = services

    def __getitem__(self, camera: str) -> str:
        """Return one camera's display name."""
        return self._services.camera_names[camera]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the camera ids."""
        return iter(self._services.camera_names)

    def __len__(self) -> int:
        """Return how many cameras there are."""
        return len(self._services.camera_names)


def restore_arming(state: ArmingState, home: HomeRecord | None) -> None:
    """Put a home's stored schedule, time zone and manual choice into force."""
    if home is None:
        return
    if home.schedule is not None or home.timezone is not None:
        schedule = (
            state.alarm.schedule
            if home.schedule is None
            else [ScheduleEntry.model_validate(entry) for entry in home.schedule]
        )
        state.replace_schedule(schedule, home.timezone or state.alarm.timezone)
    if home.manual_mode is not None and home.manual_set_at is not None:
        state.set_manual(cast(ArmingMode, home.manual_mode), home.manual_set_by or "", home.manual_set_at)
