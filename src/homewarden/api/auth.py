"""Setup, sign-in and the caller's own account: password, two-factor sign-in, sessions and API tokens."""

from __future__ import annotations

import logging
from typing import cast

from fastapi import APIRouter, HTTPException, Request, Response, status

from homewarden.accounts import totp
from homewarden.accounts.passwords import WeakPasswordError, check_new_password
from homewarden.accounts.store import AccountError, TokenRecord, UserRecord, WrongCredentialsError
from homewarden.api.deps import (
    ANYONE_SIGNED_IN,
    HOUSEHOLD,
    SESSION_COOKIE,
    Caller,
    MaybeCaller,
    RowId,
    Services,
    allow,
    public,
)
from homewarden.api.language import LANGUAGE_COOKIE
from homewarden.api.schemas import (
    AccountUpdate,
    Done,
    Language,
    LoginRequest,
    Me,
    PasswordChange,
    PasswordChanged,
    SetupDone,
    SetupRequest,
    SetupStatus,
    SignedIn,
    TokenCreated,
    TokenPublic,
    TokenRequest,
    TotpCode,
    TotpEnrolment,
    TotpRemoval,
    TotpStart,
    UserPublic,
)
from homewarden.config.model import known_timezone
from homewarden.hub.services import HubServices
from homewarden.i18n import _, counted
from homewarden.privacy.audit import Actor
from homewarden.store.keys import HomeKeyError, WrongPassphraseError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["account"])
TOTP_REQUIRED = "totp_required"
# The language cookie lasts a year: the choice is the account's, re-sent at every sign-in.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def user_public(user: UserRecord) -> UserPublic:
    """Show a user."""
    return UserPublic(
        id=user.id,
        username=user.username,
        role=user.role,
        home_id=user.home_id,
        totp_enabled=user.totp_enabled,
        cameras=list(user.cameras),
        password_set=user.password_set,
    )


def _start_session(hub: HubServices, response: Response, user: UserRecord) -> str:
    token, csrf = hub.accounts.create_session(user.id)
    _set_session_cookie(hub, response, token)
    return csrf


def _set_session_cookie(hub: HubServices, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=hub.secure_cookies,
        samesite="strict",
        max_age=14 * 24 * 3600,
        path="/",
    )


def _set_language_cookie(hub: HubServices, response: Response, language: str | None) -> None:
    """Carry the account's language to every page of this browser, or forget it so the browser's language counts."""
    if language is None:
        response.delete_cookie(LANGUAGE_COOKIE, path="/", secure=hub.secure_cookies, samesite="lax")
        return
    # Not HttpOnly: nothing secret, and it must outlive the session so the sign-in page speaks it too.
    response.set_cookie(
        LANGUAGE_COOKIE, language, secure=hub.secure_cookies, samesite="lax", max_age=LANGUAGE_COOKIE_AGE, path="/"
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refuse_if_throttled(hub: HubServices, username: str, address: str) -> None:
    wait = hub.throttle.retry_after(username, address)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            _("too many failed sign-ins: try again in {seconds} s").format(seconds=round(wait)),
            headers={"Retry-After": str(max(1, round(wait)))},
        )


def _unlock_home(hub: HubServices, passphrase: str) -> bool:
    """Hold the home key if ``passphrase`` opens it (the owner's password is the home passphrase)."""
    if not hub.storage.key_file.exists():
        return False
    try:
        hub.keys.hold(hub.storage.key_file.unlock(passphrase))
    except HomeKeyError:
        return False
    return True


@router.get("/health")
@public
def health() -> Done:
    """Answer that the hub is up (for monitoring)."""
    return Done()


@router.get("/setup/status")
@public
def setup_status(hub: Services) -> SetupStatus:
    """Tell whether the hub still waits for its first owner."""
    return SetupStatus(needs_setup=not hub.setup.done.is_set())


@router.post("/setup")
@public
def setup(body: SetupRequest, hub: Services, response: Response) -> SetupDone:
    """Create the first owner from the one-time setup link; their password becomes the home passphrase."""
    if hub.setup.done.is_set() or not hub.setup.redeem(body.token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, _("this setup link is not valid (it works once)"))
    if body.timezone:
        try:
            known_timezone(body.timezone)
        except ValueError as exc:
            hub.setup.reopen_with(body.token)
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    try:
        check_new_password(body.password)
        recovery_key = None
        key_file = hub.storage.key_file
        if key_file.exists():
            # The home key was made on the command line: only its passphrase may become the owner's password.
            hub.keys.hold(key_file.unlock(body.password))
        user = hub.accounts.create_user(body.username, body.password, "owner", hub.hub_home_id)
        if not key_file.exists():
            recovery_key = key_file.create(body.password)
            from homewarden.store.gallery_key import GalleryKeyFile

            gallery_key = GalleryKeyFile.in_folder(hub.config.storage.folder.resolve())
            if gallery_key.exists():
                gallery_key.ensure_sealed_copy(gallery_key.load())
            else:
                gallery_key.create()
            hub.keys.hold(key_file.unlock(body.password))
    except (WeakPasswordError, AccountError) as exc:
        hub.setup.reopen_with(body.token)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except WrongPassphraseError:
        hub.setup.reopen_with(body.token)
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, _("this home already has a key: use its passphrase as the password")
        ) from None
    except HomeKeyError as exc:
        hub.setup.reopen_with(body.token)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if body.timezone:
        hub.set_home_timezone(hub.hub_home_id, body.timezone)
    hub.setup.done.set()
    log.info("first-run setup done: owner %s created", user.username)
    csrf = _start_session(hub, response, user)
    return SetupDone(user=user_public(user), csrf_token=csrf, recovery_key=recovery_key)


@router.post("/auth/login", responses={401: {}, 429: {}})
@public
def login(body: LoginRequest, request: Request, hub: Services, response: Response) -> SignedIn:
    """Sign in with a password (and a TOTP code when the account has two-factor sign-in)."""
    address = _client_address(request)
    _refuse_if_throttled(hub, body.username, address)
    user = hub.accounts.authenticate(body.username, body.password)
    if user is None:
        hub.throttle.failed(body.username, address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _("wrong user name or password"))
    if user.totp_enabled:
        if not body.totp_code:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, TOTP_REQUIRED)
        if not hub.accounts.check_totp(user.id, body.totp_code):
            hub.throttle.failed(body.username, address)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, _("wrong or already used two-factor code"))
    hub.throttle.succeeded(body.username)
    owns_hub_key = user.role == "owner" and user.home_id == hub.hub_home_id and hub.keys.keyring is None
    if owns_hub_key and _unlock_home(hub, body.password) and hub.audit is not None:
        hub.audit.record(
            Actor("owner", user.username), "key_unlocked", "home key", home_id=user.home_id, detail="sign-in"
        )
    csrf = _start_session(hub, response, user)
    _set_language_cookie(hub, response, user.language)
    return SignedIn(user=user_public(user), csrf_token=csrf)


@router.post("/auth/logout")
@public
def logout(caller: MaybeCaller, hub: Services, response: Response) -> Done:
    """Sign this browser out."""
    if caller is not None and caller.session_token is not None:
        hub.accounts.end_session(caller.session_token)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=hub.secure_cookies, httponly=True, samesite="strict")
    return Done()


@router.post("/auth/logout-everywhere")
@allow(*ANYONE_SIGNED_IN)
def logout_everywhere(caller: Caller, hub: Services, response: Response) -> Done:
    """Sign the caller out of every browser."""
    ended = hub.accounts.end_all_sessions(caller.id)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=hub.secure_cookies, httponly=True, samesite="strict")
    return Done(detail=counted("{count} session ended", "{count} sessions ended", ended))


@router.get("/me")
@allow(*ANYONE_SIGNED_IN, token_scope="events:read")
def me(caller: Caller, hub: Services) -> Me:
    """Return the caller."""
    return Me(
        id=caller.id,
        username=caller.username,
        role=caller.role,
        home_id=caller.home_id,
        totp_enabled=caller.totp_enabled,
        cameras=list(caller.cameras),
        csrf_token=caller.csrf_token,
        language=cast(Language | None, hub.accounts.language_of(caller.id)),
    )


@router.patch("/me")
@allow(*ANYONE_SIGNED_IN)
def update_me(body: AccountUpdate, caller: Caller, hub: Services, response: Response) -> Me:
    """Change the caller's own account: the language of pages and notifications (null follows the browser)."""
    user = hub.accounts.set_language(caller.id, body.language)
    _set_language_cookie(hub, response, user.language)
    language = cast(Language | None, user.language)
    return Me(**user_public(user).model_dump(), csrf_token=caller.csrf_token, language=language)


@router.post("/me/password", responses={429: {}})
@allow(*ANYONE_SIGNED_IN)
def change_password(
    body: PasswordChange, caller: Caller, hub: Services, request: Request, response: Response
) -> PasswordChanged:
    """Change the caller's password and end every other session (API tokens too if asked); this one gets a new token.

    An owner's home passphrase changes with it. A wrong current password counts as a failed sign-in, so a stolen
    session cannot guess it faster than the sign-in page can.
    """
    address = _client_address(request)
    _refuse_if_throttled(hub, caller.username, address)
    try:
        check_new_password(body.new_password)
        owns_key = caller.role == "owner" and caller.home_id == hub.hub_home_id and hub.storage.key_file.exists()
        if owns_key:
            try:
                hub.storage.key_file.change_passphrase(body.current_password, body.new_password)
            except WrongPassphraseError:
                raise WrongCredentialsError(_("the current password is wrong")) from None
        changed = hub.accounts.change_password(
            caller.id,
            body.current_password,
            body.new_password,
            session_token=caller.session_token,
            revoke_tokens=body.revoke_tokens,
        )
    except WrongCredentialsError as exc:
        hub.throttle.failed(caller.username, address)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except (WeakPasswordError, AccountError, HomeKeyError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if changed.session is None:
        # Only a session reaches this route; one that ended meanwhile (signed out elsewhere) gets no new one.
        response.delete_cookie(SESSION_COOKIE, path="/", secure=hub.secure_cookies, httponly=True, samesite="strict")
        csrf = ""
    else:
        token, csrf = changed.session
        _set_session_cookie(hub, response, token)
    said = [_("password changed")]
    if owns_key:
        said.append(_("; it is also the new home passphrase"))
    said.append(
        counted("; {count} other session signed out", "; {count} other sessions signed out", changed.sessions_ended)
    )
    if body.revoke_tokens:
        said.append(counted(", {count} API token revoked", ", {count} API tokens revoked", changed.tokens_revoked))
    return PasswordChanged(
        detail="".join(said),
        csrf_token=csrf,
        sessions_ended=changed.sessions_ended,
        tokens_revoked=changed.tokens_revoked,
    )


@router.post("/me/totp", responses={429: {}})
@allow(*ANYONE_SIGNED_IN)
def start_totp(body: TotpStart, caller: Caller, hub: Services, request: Request) -> TotpEnrolment:
    """Start two-factor enrolment with the password (and a current code to replace a secret in use)."""
    address = _client_address(request)
    _refuse_if_throttled(hub, caller.username, address)
    try:
        secret = hub.accounts.start_totp(caller.id, body.password, body.code)
    except WrongCredentialsError as exc:
        hub.throttle.failed(caller.username, address)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    uri = totp.provisioning_uri(secret, caller.username)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


@router.post("/me/totp/confirm")
@allow(*ANYONE_SIGNED_IN)
def confirm_totp(body: TotpCode, caller: Caller, hub: Services) -> Done:
    """Turn two-factor sign-in on with a first code from the secret just started."""
    try:
        hub.accounts.confirm_totp(caller.id, body.code)
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return Done(detail=_("two-factor sign-in is on"))


@router.delete("/me/totp", responses={429: {}})
@allow(*HOUSEHOLD)
def disable_totp(body: TotpRemoval, caller: Caller, hub: Services, request: Request) -> Done:
    """Turn two-factor sign-in off with the password and a current code."""
    address = _client_address(request)
    _refuse_if_throttled(hub, caller.username, address)
    try:
        hub.accounts.disable_totp(caller.id, body.password, body.code)
    except WrongCredentialsError as exc:
        hub.throttle.failed(caller.username, address)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return Done(detail=_("two-factor sign-in is off"))


def _token_public(token: TokenRecord) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=list(token.scopes),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
    )


@router.get("/tokens")
@allow(*HOUSEHOLD)
def list_tokens(caller: Caller, hub: Services) -> list[TokenPublic]:
    """List the caller's API tokens."""
    return [_token_public(token) for token in hub.accounts.tokens(caller.id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
@allow(*HOUSEHOLD)
def create_token(body: TokenRequest, caller: Caller, hub: Services) -> TokenCreated:
    """Create a scoped API token; its value is shown this once."""
    try:
        record, value = hub.accounts.create_token(caller.id, body.name, body.scopes)
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return TokenCreated(**_token_public(record).model_dump(), token=value)


@router.delete("/tokens/{token_id}")
@allow(*HOUSEHOLD)
def revoke_token(token_id: RowId, caller: Caller, hub: Services) -> Done:
    """Revoke one of the caller's tokens."""
    if not hub.accounts.revoke_token(caller.id, token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no token {token_id}").format(token_id=token_id))
    return Done(detail=_("token revoked"))
