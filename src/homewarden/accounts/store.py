"""The account database: homes, users, sessions and API tokens, read and written in one place."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from sqlalchemy import Engine, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from homewarden.accounts import passwords, totp
from homewarden.accounts.names import UserNameError, canonical_name, new_user_name
from homewarden.i18n import LANGUAGES, _
from homewarden.store.account_models import (
    ApiToken,
    Home,
    HomeCamera,
    PasswordLink,
    UserAccount,
    UserCamera,
    WebSession,
)
from homewarden.store.account_secrets import AccountSecretError, AccountSecretKeyFile, is_sealed
from homewarden.store.errors import StoreError
from homewarden.store.transactions import transaction
from homewarden.store.utc import as_utc

Role = Literal["owner", "member"]
HOUSEHOLD_ROLES: tuple[Role, ...] = ("owner", "member")
SCOPES = ("events:read", "media:read", "live:read", "arming:write", "doorbell:press", "voice")

SESSION_LIFETIME = timedelta(days=14)
SESSION_IDLE = timedelta(hours=12)
# Writing last_seen on every request would turn each page view into a database write; a minute is precise enough
# for a 12-hour idle limit.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
TOKEN_PREFIX = "hw_"
# One-time links on which a member sets a password: an invitation waits a week, a reset a day.
LINK_LIFETIMES = {"invite": timedelta(days=7), "reset": timedelta(hours=24)}
LinkPurpose = Literal["invite", "reset"]
# The password hash of an account whose password is not set (an invited member, a reset one): it matches no
# password, since it is no Argon2 hash.
NO_PASSWORD = "!"


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why, for the user."""


class WrongCredentialsError(AccountError):
    """A password or two-factor code given to confirm a change was wrong (it counts as a failed sign-in)."""


@dataclass(frozen=True)
class PasswordChanged:
    """What a password change ended, and the session that replaces the caller's own (None without one)."""

    sessions_ended: int
    tokens_revoked: int
    session: tuple[str, str] | None


@dataclass(frozen=True)
class UserRecord:
    """A user as the rest of the hub sees them: who, which role, which home and which cameras."""

    id: int
    username: str
    role: Role
    home_id: int | None
    cameras: tuple[str, ...]
    totp_enabled: bool
    password_set: bool = True
    # The language chosen for pages and notifications ("en", "de"); None follows the browser.
    language: str | None = None

    @property
    def shown_as(self) -> str:
        """Return how the user appears in logs owners read: their household name."""
        return self.username


@dataclass(frozen=True)
class PasswordLinkRecord:
    """A one-time link as the page that opens it sees it (never its token)."""

    user: UserRecord
    purpose: LinkPurpose
    created_by: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    """An API token as its owner sees it (never its value)."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class HomeRecord:
    """A home and its arming state as stored."""

    id: int
    name: str
    cameras: tuple[str, ...]
    manual_mode: str | None
    manual_set_at: datetime | None
    manual_set_by: str | None
    schedule: list[dict[str, object]] | None
    timezone: str | None


def digest(token: str) -> str:
    """Return the SHA-256 hex digest a token is stored under."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Creates and checks accounts, sessions and tokens on the hub's database."""

    def __init__(self, engine: Engine, secret_key: AccountSecretKeyFile | None = None) -> None:
        """Use ``engine``, whose database the event store has already migrated.

        ``secret_key`` seals two-factor seeds; a store without one refuses every two-factor operation.
        """
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._secret_key = secret_key

    # homes

    def ensure_home(self, name: str, cameras: Sequence[str]) -> int:
        """Return the first home, created if needed, after giving it every camera that belongs to no home yet."""
        with self._session("set up the home") as session:
            home = session.scalars(select(Home).order_by(Home.id).limit(1)).first()
            if home is None:
                home = Home(name=name)
                session.add(home)
                session.flush()
            taken = set(session.scalars(select(HomeCamera.camera)))
            session.add_all(HomeCamera(camera=camera, home_id=home.id) for camera in cameras if camera not in taken)
            return home.id

    def create_home(self, name: str, cameras: Sequence[str]) -> int:
        """Create another home owning ``cameras`` (a hub that serves several households)."""
        with self._session("create a home") as session:
            home = Home(name=name)
            session.add(home)
            session.flush()
            session.add_all(HomeCamera(camera=camera, home_id=home.id) for camera in cameras)
            return home.id

    def home(self, home_id: int) -> HomeRecord | None:
        """Return a home and its arming state."""
        with self._session("read the home") as session:
            home = session.get(Home, home_id)
            if home is None:
                return None
            return HomeRecord(
                home.id,
                home.name,
                tuple(sorted(camera.camera for camera in home.cameras)),
                home.manual_mode,
                as_utc(home.manual_set_at) if home.manual_set_at else None,
                home.manual_set_by,
                home.schedule,
                home.timezone,
            )

    def first_home_id(self) -> int | None:
        """Return the hub's own home (the first one made), None before set-up."""
        with self._session("find the home") as session:
            return session.scalars(select(Home.id).order_by(Home.id).limit(1)).first()

    def home_of_camera(self, camera: str) -> int | None:
        """Return the home a camera belongs to."""
        with self._session("read the camera's home") as session:
            row = session.get(HomeCamera, camera)
            return None if row is None else row.home_id

    def save_manual_mode(self, home_id: int, mode: str | None, by: str | None, at: datetime | None) -> None:
        """Store the arming mode chosen by hand (None clears it)."""
        with self._session("save the arming mode") as session:
            home = self._get_home(session, home_id)
            home.manual_mode, home.manual_set_by, home.manual_set_at = mode, by, at

    def save_schedule(self, home_id: int, schedule: list[dict[str, object]], timezone: str | None) -> None:
        """Store the weekly arming schedule edited in the web app (a time zone of None keeps the home's)."""
        with self._session("save the arming schedule") as session:
            home = self._get_home(session, home_id)
            home.schedule = schedule
            if timezone is not None:
                home.timezone = timezone

    def save_timezone(self, home_id: int, timezone: str) -> None:
        """Store the home's time zone (an IANA name the caller has checked)."""
        with self._session("save the home's time zone") as session:
            self._get_home(session, home_id).timezone = timezone

    # users

    def has_owner(self) -> bool:
        """Tell whether any home has an owner yet (before that, the hub waits for its first-run setup)."""
        with self._session("look for an owner") as session:
            return (
                session.scalars(select(UserAccount.id).where(UserAccount.role == "owner").limit(1)).first() is not None
            )

    def create_user(
        self, username: str, password: str | None, role: Role, home_id: int | None, cameras: Sequence[str] = ()
    ) -> UserRecord:
        """Create an account of a home (every account is a household member's).

        ``password`` None: the account cannot sign in until a password link (invite_member) sets one.
        """
        try:
            name = new_user_name(username, household=role in HOUSEHOLD_ROLES)
        except UserNameError as exc:
            raise AccountError(str(exc)) from None
        if password is not None:
            passwords.check_new_password(password)
        if home_id is None:
            raise AccountError(_("an owner needs a home") if role == "owner" else _("a member needs a home"))
        username = name.shown
        try:
            with self._session(f"create user {username!r}") as session:
                if home_id is not None:
                    self._check_cameras(session, home_id, cameras)
                taken = select(UserAccount.id).where(UserAccount.canonical_name == name.canonical)
                if session.scalars(taken).first() is not None:
                    raise AccountError(_("the user name {name!r} is taken").format(name=username))
                user = UserAccount(
                    username=username,
                    canonical_name=name.canonical,
                    role=role,
                    home_id=home_id,
                    password_hash=NO_PASSWORD if password is None else passwords.hash_password(password),
                )
                session.add(user)
                session.flush()
                if role == "member":
                    session.add_all(UserCamera(user_id=user.id, camera=camera) for camera in set(cameras))
                session.flush()
                return self._record(session, user)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise AccountError(_("the user name {name!r} is taken").format(name=username)) from None
            raise

    def user(self, user_id: int) -> UserRecord | None:
        """Return the user with this id."""
        with self._session("read a user") as session:
            user = session.get(UserAccount, user_id)
            return None if user is None else self._record(session, user)

    def set_language(self, user_id: int, language: str | None) -> UserRecord:
        """Store the language a user chose (None: follow the browser)."""
        if language is not None and language not in LANGUAGES:
            # The API's schema refuses other values first; this guards the other callers.
            raise AccountError(
                _("unknown language {code}: choose one of {languages}").format(
                    code=repr(language), languages=", ".join(LANGUAGES)
                )
            )
        with self._session("save the language") as session:
            user = self._get_user(session, user_id)
            user.language = language
            return self._record(session, user)

    def language_of(self, user_id: int) -> str | None:
        """Return the language a user chose for what the hub tells them (None: none chosen, or no such user)."""
        with self._session("read a user's language") as session:
            return session.scalars(select(UserAccount.language).where(UserAccount.id == user_id)).first()

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """Return the user whose name and password these are, or None (a wrong name costs a wrong password's time)."""
        with self._session("check a password") as session:
            user = session.scalars(
                select(UserAccount).where(UserAccount.canonical_name == canonical_name(username))
            ).first()
            if not passwords.verify_password(user.password_hash if user else None, password) or user is None:
                return None
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            return self._record(session, user)

    def change_password(
        self, user_id: int, current: str, new: str, *, session_token: str | None = None, revoke_tokens: bool = False
    ) -> PasswordChanged:
        """Set a new password after checking the current one, and sign the user out everywhere else.

        The session ``session_token`` (the caller's) goes on under a new token, returned with its CSRF token: a
        token someone may have copied before the change stops working too. ``revoke_tokens`` deletes the user's API
        tokens as well.
        """
        passwords.check_new_password(new)
        with self._session("change a password") as session:
            user = self._get_user(session, user_id)
            if not passwords.verify_password(user.password_hash, current):
                raise WrongCredentialsError(_("the current password is wrong"))
            user.password_hash = passwords.hash_password(new)
            return self._end_sessions_after_new_password(session, user, session_token, revoke_tokens)

    def reset_password(self, user_id: int, new: str, *, revoke_tokens: bool = False) -> PasswordChanged:
        """Set a new password without the current one (the owner's recovery key did it) and end every session."""
        passwords.check_new_password(new)
        with self._session("reset a password") as session:
            user = self._get_user(session, user_id)
            user.password_hash = passwords.hash_password(new)
            return self._end_sessions_after_new_password(session, user, None, revoke_tokens)

    def _end_sessions_after_new_password(
        self, session: Session, user: UserAccount, session_token: str | None, revoke_tokens: bool
    ) -> PasswordChanged:
        kept = session.get(WebSession, digest(session_token)) if session_token else None
        ended = session.scalars(
            delete(WebSession).where(WebSession.user_id == user.id).returning(WebSession.token_hash)
        ).all()
        revoked = (
            session.scalars(delete(ApiToken).where(ApiToken.user_id == user.id).returning(ApiToken.id)).all()
            if revoke_tokens
            else []
        )
        replacement = None
        if kept is not None and kept.user_id == user.id:
            replacement = self._add_session(session, user.id, datetime.now(UTC))
        return PasswordChanged(len(ended) - (replacement is not None), len(revoked), replacement)

    def members(self, home_id: int) -> list[UserRecord]:
        """Return the home's people, owners first."""
        with self._session("list members") as session:
            users = session.scalars(
                select(UserAccount)
                .where(UserAccount.home_id == home_id)
                .order_by(UserAccount.role.desc(), UserAccount.id)
            )
            return [self._record(session, user) for user in users]

    def set_cameras(self, user_id: int, cameras: Sequence[str]) -> UserRecord:
        """Replace the cameras a member may watch."""
        with self._session("change a member's cameras") as session:
            user = self._get_user(session, user_id)
            if user.role != "member" or user.home_id is None:
                raise AccountError(_("only members have per-camera permissions (owners see every camera)"))
            self._check_cameras(session, user.home_id, cameras)
            session.execute(delete(UserCamera).where(UserCamera.user_id == user_id))
            session.add_all(UserCamera(user_id=user_id, camera=camera) for camera in set(cameras))
            session.flush()
            return self._record(session, user)

    def hub_owners(self) -> list[UserRecord]:
        """Return the owners of the hub's own home (the first), whose password is the home passphrase."""
        with self._session("list the owners") as session:
            home_id = session.scalars(select(Home.id).order_by(Home.id).limit(1)).first()
            owners = session.scalars(
                select(UserAccount)
                .where(UserAccount.home_id == home_id, UserAccount.role == "owner")
                .order_by(UserAccount.id)
            )
            return [self._record(session, user) for user in owners]

    def all_users(self) -> list[UserRecord]:
        """Return every account: household members by home, then the review program's."""
        with self._session("list users") as session:
            users = session.scalars(
                select(UserAccount).order_by(UserAccount.home_id.is_(None), UserAccount.home_id, UserAccount.id)
            )
            return [self._record(session, user) for user in users]

    def user_named(self, username: str) -> UserRecord | None:
        """Return the user with this name (compared as sign-in compares it), or None."""
        with self._session("find a user") as session:
            user = session.scalars(
                select(UserAccount).where(UserAccount.canonical_name == canonical_name(username))
            ).first()
            return None if user is None else self._record(session, user)

    def users_with_role(self, role: Role) -> list[UserRecord]:
        """Return every account of a role."""
        with self._session("list users") as session:
            users = session.scalars(select(UserAccount).where(UserAccount.role == role).order_by(UserAccount.id))
            return [self._record(session, user) for user in users]

    def delete_user(self, user_id: int) -> bool:
        """Delete an account with its sessions and tokens."""
        with self._session("delete a user") as session:
            return (
                session.scalar(delete(UserAccount).where(UserAccount.id == user_id).returning(UserAccount.id))
                is not None
            )

    # one-time password links

    def invite_member(
        self, username: str, home_id: int, cameras: Sequence[str], by: str, now: datetime | None = None
    ) -> tuple[UserRecord, str, datetime]:
        """Create a member without a password and a link on which they choose one; return it with its expiry."""
        user = self.create_user(username, None, "member", home_id, cameras)
        token, expires_at = self.new_password_link(user.id, "invite", by, now)
        return user, token, expires_at

    def new_password_link(
        self, user_id: int, purpose: LinkPurpose, by: str, now: datetime | None = None
    ) -> tuple[str, datetime]:
        """Make a one-time link for a user to set a password; it replaces any older one. Return it and its expiry.

        A reset also ends the user's sessions and their old password at once: whoever knew it (the reason for a
        reset, often) is out from now, not from when the member uses the link.
        """
        moment = now or datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        expires_at = moment + LINK_LIFETIMES[purpose]
        with self._session("make a password link") as session:
            user = self._get_user(session, user_id)
            session.execute(delete(PasswordLink).where(PasswordLink.user_id == user_id))
            if purpose == "reset":
                user.password_hash = NO_PASSWORD
                session.execute(delete(WebSession).where(WebSession.user_id == user_id))
            session.add(
                PasswordLink(
                    token_hash=digest(token),
                    user_id=user_id,
                    purpose=purpose,
                    created_by=by,
                    created_at=moment,
                    expires_at=expires_at,
                )
            )
        return token, expires_at

    def password_link(self, token: str, now: datetime | None = None) -> PasswordLinkRecord | None:
        """Return what a link is for, or None if it was used, replaced, or has expired (it is not used up here)."""
        moment = now or datetime.now(UTC)
        with self._session("read a password link") as session:
            link = session.get(PasswordLink, digest(token))
            if link is None or as_utc(link.expires_at) <= moment:
                return None
            user = self._record(session, self._get_user(session, link.user_id))
            return PasswordLinkRecord(user, cast(LinkPurpose, link.purpose), link.created_by, as_utc(link.expires_at))

    def use_password_link(self, token: str, password: str, now: datetime | None = None) -> UserRecord:
        """Set the password of a link's user and use the link up; every session of the user ends."""
        passwords.check_new_password(password)  # before the link is used up: a weak password keeps it valid
        moment = now or datetime.now(UTC)
        with self._session("use a password link") as session:
            # One DELETE decides: of two requests racing with the same link, only one gets the row back.
            link = session.execute(
                delete(PasswordLink)
                .where(PasswordLink.token_hash == digest(token))
                .returning(PasswordLink.user_id, PasswordLink.expires_at)
            ).first()
            if link is None or as_utc(link.expires_at) <= moment:
                raise AccountError(_("this link is not valid: it was used, replaced by a newer one, or has expired"))
            user = self._get_user(session, link.user_id)
            user.password_hash = passwords.hash_password(password)
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            return self._record(session, user)

    # two-factor sign-in

    def start_totp(self, user_id: int, password: str, code: str | None = None) -> str:
        """Make a new pending TOTP secret (it counts once a code from it is confirmed).

        Only the user may: ``password`` is checked, and replacing a secret in use needs a current ``code`` from it
        (then spent, so it cannot be replayed), so a stolen session cannot move two-factor sign-in to a new phone.
        """
        with self._session("start two-factor enrolment") as session:
            user = self._get_user(session, user_id)
            self._reauthenticate(user, password, code)
            secret = totp.new_secret()
            user.totp_pending_secret = self._seal_totp(user.id, secret)
            return secret

    def confirm_totp(self, user_id: int, code: str) -> None:
        """Turn on two-factor sign-in once ``code`` proves the authenticator holds the pending secret."""
        with self._session("confirm two-factor enrolment") as session:
            user = self._get_user(session, user_id)
            if user.totp_pending_secret is None:
                raise AccountError(_("start two-factor enrolment first"))
            step = totp.accepted_step(self._open_totp(user.id, user.totp_pending_secret), code, None)
            if step is None:
                raise AccountError(_("that code is not right: check the authenticator app's clock"))
            user.totp_secret, user.totp_pending_secret, user.totp_last_step = user.totp_pending_secret, None, step

    def disable_totp(self, user_id: int, password: str, code: str) -> None:
        """Turn off two-factor sign-in with the password and a current code."""
        with self._session("turn off two-factor sign-in") as session:
            user = self._get_user(session, user_id)
            if user.totp_secret is None:
                raise AccountError(_("two-factor sign-in is not on"))
            self._reauthenticate(user, password, code)
            user.totp_secret = None
            user.totp_pending_secret = None
            user.totp_last_step = None

    def check_totp(self, user_id: int, code: str) -> bool:
        """Accept a sign-in code once (a code seen by someone else cannot be replayed in its 30 s)."""
        with self._session("check a sign-in code") as session:
            user = self._get_user(session, user_id)
            if user.totp_secret is None:
                return False
            step = totp.accepted_step(self._open_totp(user.id, user.totp_secret), code, user.totp_last_step)
            if step is None:
                return False
            user.totp_last_step = step
            return True

    def set_totp_secret(self, user_id: int, secret: str) -> None:
        """Turn on two-factor sign-in with a secret made elsewhere (accounts created on the command line)."""
        with self._session("set a two-factor secret") as session:
            self._get_user(session, user_id).totp_secret = self._seal_totp(user_id, secret)

    def seal_clear_secrets(self) -> int:
        """Seal the two-factor seeds an older hub stored in clear; return how many (none the second time)."""
        if self._secret_key is None:
            raise AccountError(_("this account store has no key to seal two-factor secrets with"))
        sealed = 0
        with self._session("seal two-factor secrets") as session:
            users = session.scalars(
                select(UserAccount).where(
                    or_(UserAccount.totp_secret.is_not(None), UserAccount.totp_pending_secret.is_not(None))
                )
            )
            for user in users:
                for field in ("totp_secret", "totp_pending_secret"):
                    value = getattr(user, field)
                    if value is not None and not is_sealed(value):
                        setattr(user, field, self._seal_totp(user.id, value))
                        sealed += 1
        return sealed

    def _reauthenticate(self, user: UserAccount, password: str, code: str | None) -> None:
        if not passwords.verify_password(user.password_hash, password):
            raise WrongCredentialsError(_("the password is wrong"))
        if user.totp_secret is None:
            return
        step = totp.accepted_step(self._open_totp(user.id, user.totp_secret), code or "", user.totp_last_step)
        if step is None:
            raise WrongCredentialsError(_("enter a current code from your authenticator app (each code works once)"))
        user.totp_last_step = step

    def _seal_totp(self, user_id: int, secret: str) -> str:
        if self._secret_key is None:
            raise AccountError(_("this account store has no key to seal two-factor secrets with"))
        try:
            return self._secret_key.key().seal(secret, f"totp:{user_id}")
        except AccountSecretError as exc:
            raise AccountError(_("cannot seal the two-factor secret: {problem}").format(problem=exc)) from None

    def _open_totp(self, user_id: int, sealed: str) -> str:
        if self._secret_key is None:
            raise AccountError(_("this account store has no key to open two-factor secrets with"))
        try:
            return self._secret_key.key().open(sealed, f"totp:{user_id}")
        except AccountSecretError as exc:
            raise AccountError(
                _("the two-factor secret of this account cannot be read: {problem}").format(problem=exc)
            ) from None

    # sessions

    def create_session(self, user_id: int, now: datetime | None = None) -> tuple[str, str]:
        """Start a browser session; return its cookie token and CSRF token."""
        with self._session("start a session") as session:
            return self._add_session(session, user_id, now or datetime.now(UTC))

    def _add_session(self, session: Session, user_id: int, moment: datetime) -> tuple[str, str]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session.add(
            WebSession(
                token_hash=digest(token),
                user_id=user_id,
                csrf_token=csrf,
                created_at=moment,
                last_seen_at=moment,
                expires_at=moment + SESSION_LIFETIME,
            )
        )
        return token, csrf

    def session_user(self, token: str, now: datetime | None = None) -> tuple[UserRecord, str] | None:
        """Return the user and CSRF token of a live session, or None (unknown, expired or idle too long)."""
        moment = now or datetime.now(UTC)
        with self._session("read a session") as session:
            row = session.get(WebSession, digest(token))
            if row is None:
                return None
            last_seen = as_utc(row.last_seen_at)
            if as_utc(row.expires_at) <= moment or last_seen + SESSION_IDLE <= moment:
                session.delete(row)
                return None
            if moment - last_seen >= SESSION_TOUCH_INTERVAL:
                row.last_seen_at = moment
            return self._record(session, self._get_user(session, row.user_id)), row.csrf_token

    def end_session(self, token: str) -> None:
        """Sign one browser out."""
        with self._session("end a session") as session:
            session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))

    def end_all_sessions(self, user_id: int) -> int:
        """Sign a user out everywhere; return how many sessions ended."""
        with self._session("end every session") as session:
            return len(
                session.scalars(
                    delete(WebSession).where(WebSession.user_id == user_id).returning(WebSession.token_hash)
                ).all()
            )

    # API tokens

    def create_token(self, user_id: int, name: str, scopes: Sequence[str]) -> tuple[TokenRecord, str]:
        """Make a scoped token; return it with its value, which is shown once and never stored."""
        name = name.strip()
        if not name or len(name) > 64:
            raise AccountError(_("a token needs a name of 1 to 64 characters"))
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise AccountError(
                _("scopes must be some of {scopes}").format(scopes=", ".join(SCOPES))
                + (_("; unknown: {unknown}").format(unknown=unknown) if unknown else "")
            )
        value = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._session("create a token") as session:
            user = self._get_user(session, user_id)
            if user.role not in HOUSEHOLD_ROLES:
                raise AccountError(_("API tokens are for household integrations"))
            row = ApiToken(
                user_id=user_id,
                name=name,
                token_hash=digest(value),
                prefix=value[:10],
                scopes=sorted(set(scopes)),
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            return _token_record(row), value

    def tokens(self, user_id: int) -> list[TokenRecord]:
        """Return a user's tokens."""
        with self._session("list tokens") as session:
            rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
            return [_token_record(row) for row in rows]

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        """Delete one of the user's tokens; return whether there was one."""
        with self._session("revoke a token") as session:
            deleted = session.scalar(
                delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id).returning(ApiToken.id)
            )
            return deleted is not None

    def token_user(self, value: str) -> tuple[UserRecord, tuple[str, ...]] | None:
        """Return the user and scopes of a token, or None."""
        if not value.startswith(TOKEN_PREFIX):
            return None
        with self._session("check a token") as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(value))).first()
            if row is None:
                return None
            now = datetime.now(UTC)
            if row.last_used_at is None or now - as_utc(row.last_used_at) >= SESSION_TOUCH_INTERVAL:
                row.last_used_at = now
            return self._record(session, self._get_user(session, row.user_id)), tuple(row.scopes)

    # inside

    def _record(self, session: Session, user: UserAccount) -> UserRecord:
        if user.role == "owner" and user.home_id is not None:
            cameras = session.scalars(select(HomeCamera.camera).where(HomeCamera.home_id == user.home_id))
        elif user.role == "member":
            cameras = session.scalars(
                select(UserCamera.camera)
                .join(HomeCamera, HomeCamera.camera == UserCamera.camera)
                .where(UserCamera.user_id == user.id, HomeCamera.home_id == user.home_id)
            )
        else:
            cameras = session.scalars(select(HomeCamera.camera).where(HomeCamera.camera.is_(None)))
        return UserRecord(
            user.id,
            user.username,
            cast(Role, user.role),
            user.home_id,
            tuple(sorted(cameras)),
            user.totp_secret is not None,
            user.password_hash != NO_PASSWORD,
            user.language,
        )

    def _check_cameras(self, session: Session, home_id: int, cameras: Sequence[str]) -> None:
        home_cameras = set(session.scalars(select(HomeCamera.camera).where(HomeCamera.home_id == home_id)))
        unknown = sorted(set(cameras) - home_cameras)
        if unknown:
            raise AccountError(_("no such camera in this home: {cameras}").format(cameras=", ".join(unknown)))

    def _get_user(self, session: Session, user_id: int) -> UserAccount:
        user = session.get(UserAccount, user_id)
        if user is None:
            raise AccountError(_("no user {user_id}").format(user_id=user_id))
        return user

    def _get_home(self, session: Session, home_id: int) -> Home:
        home = session.get(Home, home_id)
        if home is None:
            raise AccountError(_("no home {home_id}").format(home_id=home_id))
        return home

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)


def _token_record(row: ApiToken) -> TokenRecord:
    return TokenRecord(
        row.id,
        row.name,
        row.prefix,
        tuple(row.scopes),
        as_utc(row.created_at),
        as_utc(row.last_used_at) if row.last_used_at else None,
    )
