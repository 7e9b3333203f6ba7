"""First-run setup by restore from Homewarden Cloud: start it with the one-time setup token, then read its progress."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from homewarden.api.deps import public
from homewarden.api.schemas import Incoming
from homewarden.hub.setup_restore import RestoreRequest, SetupRestore
from homewarden.i18n import _

router = APIRouter(prefix="/api/setup/restore", tags=["account"])


class SetupRestoreRequest(Incoming):
    """The setup form's restore: the token, the cloud and a pairing code, the owner, and how to unlock the home."""

    token: str = Field(max_length=128)
    cloud_url: str = Field(min_length=1, max_length=512)
    pairing_code: str = Field(min_length=1, max_length=64)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(
        max_length=1024,
        description="The restored home's passphrase; with a recovery key, the new passphrase (the owner's password).",
    )
    recovery_key: str | None = Field(default=None, max_length=256)


class SetupRestoreStarted(BaseModel):
    """Where the restore's progress is read."""

    restore_id: str


class SetupRestoreProgress(BaseModel):
    """A setup restore: running (its last step), done (what came back; the owner can sign in) or failed (why)."""

    state: str = Field(description="running, done or failed")
    step: str
    error: str | None = None
    events: int | None = None
    objects: int | None = None
    missing: int | None = None


def _restorer(request: Request) -> SetupRestore:
    restorer: SetupRestore = request.app.state.setup_restore
    return restorer


@router.post("", status_code=status.HTTP_202_ACCEPTED)
@public
def start_setup_restore(body: SetupRestoreRequest, request: Request) -> SetupRestoreStarted:
    """Set up a new hub by restoring a home from the cloud (only with the one-time setup token, before setup)."""
    form = RestoreRequest(
        cloud_url=body.cloud_url,
        pairing_code=body.pairing_code,
        username=body.username,
        password=body.password,
        recovery_key=(body.recovery_key or "").strip() or None,
    )
    try:
        return SetupRestoreStarted(restore_id=_restorer(request).start(body.token, form))
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


@router.get("/{restore_id}")
@public
def setup_restore_progress(restore_id: str, request: Request) -> SetupRestoreProgress:
    """Tell how a restore started from the setup page is going (its id is known only to whoever started it)."""
    progress = _restorer(request).progress(restore_id)
    if progress is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no such restore"))
    report = progress.report if progress.state == "done" else None
    return SetupRestoreProgress(
        state=progress.state,
        step=progress.step,
        error=progress.error,
        events=report.events if report else None,
        objects=report.objects if report else None,
        missing=len(report.missing) if report else None,
    )
