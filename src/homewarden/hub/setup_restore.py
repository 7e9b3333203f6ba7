"""First-run setup by restore: a new hub takes its home back from Homewarden Cloud, and its owner is created after.

The restore is the one of `homewarden cloud restore` (``offsite.restore.restore_hub``), run on a thread of its own
because it downloads every clip; the setup page polls its state. The rule of normal setup holds: the home passphrase
is the owner's password. Unlocked with the passphrase, that passphrase becomes the owner's password; unlocked with the
recovery key, the owner's new password becomes the new passphrase (the key file is re-wrapped, as `keys recover` does).
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field

from homewarden.accounts.passwords import WeakPasswordError, check_new_password
from homewarden.accounts.store import AccountError
from homewarden.hub.services import HubServices
from homewarden.i18n import _
from homewarden.offsite.client import CloudError
from homewarden.offsite.identity import PairingError
from homewarden.offsite.pairing import hub_name
from homewarden.offsite.restore import RestoreError, RestoreReport, restore_hub
from homewarden.store.crypto import Keyring, SealedObjectError
from homewarden.store.errors import StoreError
from homewarden.store.keys import HomeKeyError, HomeKeyFile, WrongPassphraseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestoreRequest:
    """What the setup form sends: where the home is, how to unlock it, and the owner to create."""

    cloud_url: str
    pairing_code: str
    username: str
    password: str
    # With a recovery key, ``password`` is the new passphrase; without, it is the restored home's passphrase.
    recovery_key: str | None = None


@dataclass
class RestoreProgress:
    """Where a setup restore is: running (with its last step), done (with what came back), or failed (why)."""

    state: str = "running"
    step: str = "pairing with the cloud"
    error: str | None = None
    report: RestoreReport | None = None
    lines: list[str] = field(default_factory=list)


class SetupRestore:
    """Run at most one restore in place of first-run setup, and keep its progress for the page."""

    def __init__(self, hub: HubServices) -> None:
        """Restore into ``hub`` (its storage folder, database and accounts)."""
        self._hub = hub
        self._lock = threading.Lock()
        self._jobs: dict[str, RestoreProgress] = {}

    def start(self, token: str, request: RestoreRequest) -> str:
        """Redeem the setup token, check the form, start the restore; return the id its progress is read with.

        Raises ``PermissionError`` for a wrong or used token and ``ValueError`` for a form to correct (the token
        then works again).
        """
        hub = self._hub
        if hub.setup.done.is_set() or not hub.setup.redeem(token):
            raise PermissionError(_("this setup link is not valid (it works once)"))
        try:
            check_new_password(request.password)
            username = request.username.strip()
            if not username or len(username) > 64 or any(ch.isspace() for ch in username):
                raise ValueError(_("a user name has 1 to 64 characters and no spaces"))
            if not request.cloud_url.strip() or not request.pairing_code.strip():
                raise ValueError(_("enter the cloud's address and a pairing code from the cloud account"))
        except (WeakPasswordError, ValueError) as exc:
            hub.setup.reopen_with(token)
            raise ValueError(str(exc)) from None
        job_id = secrets.token_urlsafe(18)
        progress = RestoreProgress()
        with self._lock:
            self._jobs[job_id] = progress
        threading.Thread(target=self._run, args=(token, request, progress), name="setup-restore", daemon=True).start()
        return job_id

    def progress(self, job_id: str) -> RestoreProgress | None:
        """Return the progress of a restore started here (None for an unknown id)."""
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, token: str, request: RestoreRequest, progress: RestoreProgress) -> None:
        hub = self._hub
        offsite = hub.offsite
        # The off-site worker would see the new pairing mid-restore and send back what is being restored.
        if offsite is not None:
            offsite.stop()
        try:
            progress.report = self._restore(request, progress)
            progress.step = "creating the owner account"
            self._create_owner(request)
        except Exception as exc:
            progress.error = _in_plain_words(exc)
            progress.state = "failed"
            log.warning("restore at setup failed: %s", progress.error)
            hub.setup.reopen_with(token)
            return
        finally:
            if offsite is not None:
                offsite.start()
        progress.state = "done"
        progress.step = "done"
        hub.setup.done.set()
        log.info("first-run setup done by restore: owner %s created", request.username)

    def _restore(self, request: RestoreRequest, progress: RestoreProgress) -> RestoreReport:
        def unlock(key_file: HomeKeyFile) -> Keyring:
            if request.recovery_key:
                return key_file.unlock_with_recovery_key(request.recovery_key)
            return key_file.unlock(request.password)

        def step(line: str) -> None:
            progress.step = line
            progress.lines.append(line)

        hub = self._hub
        return restore_hub(
            hub.config.storage.folder,
            hub.events,
            request.cloud_url,
            request.pairing_code,
            hub_name(hub.config.offsite),
            unlock,
            progress=step,
        )

    def _create_owner(self, request: RestoreRequest) -> None:
        """Make the owner whose password is the home passphrase, hold the home key, and make the gallery key."""
        from homewarden.store.gallery_key import GalleryKeyFile

        hub = self._hub
        key_file = hub.storage.key_file
        if request.recovery_key:
            key_file.recover(request.recovery_key, request.password)
        hub.keys.hold(key_file.unlock(request.password))
        hub.accounts.create_user(request.username, request.password, "owner", hub.hub_home_id)
        gallery_key = GalleryKeyFile.in_folder(hub.config.storage.folder.resolve())
        if gallery_key.exists():
            gallery_key.ensure_sealed_copy(gallery_key.load())
        else:
            gallery_key.create()


def _in_plain_words(exc: Exception) -> str:
    """Say why a restore failed, for the owner (no traceback)."""
    # A pairing code works once, and the failed attempt used it.
    again = "; get a new pairing code from the cloud account to try again"
    if isinstance(exc, WrongPassphraseError):
        return (
            "the passphrase does not open this home's key (the old hub's owner password, or the recovery key)" + again
        )
    if isinstance(exc, HomeKeyError):
        return f"the home key could not be opened: {exc}{again}"
    if isinstance(exc, (RestoreError, CloudError, PairingError, SealedObjectError, StoreError, AccountError)):
        return str(exc)
    log.exception("restore at setup failed unexpectedly")
    return f"the restore stopped unexpectedly ({type(exc).__name__}); the hub's log says more"
