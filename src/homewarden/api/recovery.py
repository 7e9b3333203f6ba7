"""Getting back in without a password: one-time password links (invitations, resets) and the owner's recovery key."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import AccountError
from homewarden.api.deps import Services, public
from homewarden.api.schemas import Done, OwnerRecovery, PasswordLinkPublic, PasswordLinkToken, PasswordLinkUse
from homewarden.hub.recovery import recover_home
from homewarden.hub.services import HubServices
from homewarden.i18n import N_, _
from homewarden.privacy.audit import Actor
from homewarden.store.keys import HomeKeyError, MistypedRecoveryKeyError, TooManyAttemptsError

router = APIRouter(prefix="/api", tags=["account"])
INVALID_LINK = N_("this link is not valid: it was used, replaced by a newer one, or has expired")
# The recovery page's failures count in the sign-in throttle under a name no account can have (names refuse control
# characters), per address as well: guessing recovery keys is slower than the key file's own attempt limit alone.
RECOVERY_THROTTLE_NAME = "\x00owner-recovery"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refuse_if_throttled(hub: HubServices, address: str) -> None:
    wait = hub.throttle.retry_after(RECOVERY_THROTTLE_NAME, address)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            _("too many failed attempts: try again in {seconds} s").format(seconds=round(wait)),
            headers={"Retry-After": str(max(1, round(wait)))},
        )


@router.post("/password-links/check", responses={404: {}})
@public
def check_password_link(body: PasswordLinkToken, hub: Services) -> PasswordLinkPublic:
    """Say whose a one-time link is and what it is for, without using it up."""
    link = hub.accounts.password_link(body.token)
    if link is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _(INVALID_LINK))
    return PasswordLinkPublic(
        username=link.user.username, purpose=link.purpose, invited_by=link.created_by, expires_at=link.expires_at
    )


@router.post("/password-links/use", responses={400: {}, 404: {}})
@public
def use_password_link(body: PasswordLinkUse, hub: Services) -> Done:
    """Set the password on a one-time link, which is then used up; the member signs in with it."""
    link = hub.accounts.password_link(body.token)
    try:
        user = hub.accounts.use_password_link(body.token, body.password)
    except WeakPasswordError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except AccountError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _(INVALID_LINK)) from None
    if hub.audit is not None and link is not None:
        action = "invite_accepted" if link.purpose == "invite" else "password_reset_used"
        hub.audit.record(Actor(user.role, user.username), action, f"user:{user.username}", home_id=user.home_id)
    return Done(detail=_("password set: sign in as {name}").format(name=user.username))


@router.post("/recover", responses={400: {}, 429: {}})
@public
def recover_owner(body: OwnerRecovery, request: Request, hub: Services) -> Done:
    """Set a new passphrase with the recovery key, as `homewarden keys recover` does; the owners sign in with it."""
    address = _address(request)
    _refuse_if_throttled(hub, address)
    key_file = hub.storage.key_file
    if not key_file.exists():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _("this hub has no home key yet: nothing to recover"))
    try:
        reset = recover_home(key_file, hub.accounts, body.recovery_key, body.new_password, revoke_tokens=False)
    except WeakPasswordError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, _("{problem}; nothing was changed").format(problem=exc)
        ) from None
    except TooManyAttemptsError as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    except MistypedRecoveryKeyError as exc:
        # Not the form of a recovery key at all: a typo, not a guess, so it does not count against the owner.
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except HomeKeyError as exc:
        hub.throttle.failed(RECOVERY_THROTTLE_NAME, address)
        _audit_recovery(hub, "refused", str(exc))
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    hub.throttle.succeeded(RECOVERY_THROTTLE_NAME)
    hub.keys.hold(key_file.unlock(body.new_password))
    ended = sum(changed.sessions_ended for _owner, changed in reset)
    _audit_recovery(hub, "ok", f"new passphrase set from {address}; {ended} session(s) ended")
    return Done(detail=_("new passphrase set: sign in with it; the recovery key still works"))


def _audit_recovery(hub: HubServices, outcome: str, detail: str) -> None:
    if hub.audit is not None:
        hub.audit.record(
            Actor("owner", "recovery page"),
            "key_recovered",
            "home key",
            home_id=hub.hub_home_id,
            outcome=outcome,
            detail=detail,
        )
