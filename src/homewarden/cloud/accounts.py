"""Household accounts of the cloud: sign-up (open or by invitation), sign-in sessions, pairing codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from homewarden.accounts.passwords import WeakPasswordError, check_new_password, hash_password, verify_password
from homewarden.cloud.config import CloudConfig
from homewarden.cloud.database import CloudDatabase, rows_affected
from homewarden.cloud.errors import ForbiddenError, NotAuthenticatedError, TooManyAttemptsError
from homewarden.cloud.identifiers import digest, new_code, new_home_id, new_token, normalise_code
from homewarden.cloud.models import Account, AccountSession, Home, Invitation, PairingCode
from homewarden.cloud.throttle import SharedSignInThrottle
from homewarden.errors import Refusal, RefusedError

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")
PAIRING_CODE_GROUPS = 3
INVITATION_CODE_GROUPS = 4


@dataclass(frozen=True)
class AccountView:
    """A signed-in account: who, and which home."""

    id: int
    username: str
    home_id: str


@dataclass(frozen=True)
class IssuedCode:
    """A one-time code as shown once to whoever asked for it."""

    code: str
    expires_at: datetime


def utc_now() -> datetime:
    """Return the time now, UTC-aware."""
    return datetime.now(UTC)


class CloudAccounts:
    """Sign-up, sign-in and the codes an account or an operator hands out."""

    def __init__(self, database: CloudDatabase, config: CloudConfig) -> None:
        """Work on ``database`` with the config's sign-up mode, home defaults and lifetimes."""
        self._database = database
        self._config = config
        # In the database: every API process counts the same attempts.
        self._throttle = SharedSignInThrottle(database)

    def sign_up(self, username: str, password: str, invitation: str | None) -> AccountView:
        """Make an account and its home; with ``signup: invitation`` an unused invitation code is needed."""
        if not USERNAME.fullmatch(username):
            raise RefusedError(
                "a user name has 3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit",
                Refusal.INVALID,
            )
        try:
            check_new_password(password)
        except WeakPasswordError as error:
            raise RefusedError(str(error), Refusal.INVALID) from None
        now = utc_now()
        password_hash = hash_password(password)
        home_id = new_home_id()
        try:
            with self._database.session() as session:
                if self._config.signup == "invitation":
                    if not invitation:
                        raise ForbiddenError("sign-up needs an invitation code from the operator")
                    used = session.execute(
                        update(Invitation)
                        .where(
                            Invitation.code_digest == digest(normalise_code(invitation)),
                            Invitation.used_at.is_(None),
                            Invitation.expires_at > now,
                        )
                        .values(used_at=now)
                    )
                    if rows_affected(used) != 1:
                        raise ForbiddenError("this invitation code is wrong, used or expired")
                session.add(
                    Home(
                        id=home_id,
                        quota_bytes=self._config.homes.quota_bytes,
                        retention_days=self._config.homes.retention_days,
                        created_at=now,
                    )
                )
                session.flush()
                account = Account(
                    username=username,
                    username_key=username.lower(),
                    password_hash=password_hash,
                    home_id=home_id,
                    created_at=now,
                )
                session.add(account)
                session.flush()
                return AccountView(id=account.id, username=username, home_id=home_id)
        except IntegrityError:
            # The invitation's use is rolled back with the account, so the code still works for another name.
            raise RefusedError(f"the user name {username!r} is taken", Refusal.CONFLICT) from None

    def sign_in(self, username: str, password: str, address: str) -> str:
        """Check a password and return a new session token; failures are throttled per name and address."""
        attempt = self._throttle.begin(username, address)
        if attempt.retry_after > 0:
            raise TooManyAttemptsError("too many failed sign-ins; try again later", retry_after=attempt.retry_after)
        with self._database.session() as session:
            account = session.scalar(select(Account).where(Account.username_key == username.lower()))
        if not verify_password(account.password_hash if account else None, password) or account is None:
            # The attempt's rows stay: they are the failure, counted for the window.
            raise NotAuthenticatedError("wrong user name or password")
        self._throttle.succeeded(attempt, username)
        token = new_token()
        now = utc_now()
        with self._database.session() as session:
            session.add(
                AccountSession(
                    token_digest=digest(token),
                    account_id=account.id,
                    created_at=now,
                    expires_at=now + timedelta(days=self._config.limits.session_days),
                )
            )
        return token

    def account_for_token(self, token: str) -> AccountView:
        """Return the account a bearer token signs in, or refuse it."""
        with self._database.session() as session:
            found = session.execute(
                select(Account.id, Account.username, Account.home_id)
                .join(AccountSession, AccountSession.account_id == Account.id)
                .where(AccountSession.token_digest == digest(token), AccountSession.expires_at > utc_now())
            ).first()
        if found is None:
            raise NotAuthenticatedError("not signed in")
        return AccountView(id=found.id, username=found.username, home_id=found.home_id)

    def sign_out(self, token: str) -> None:
        """End the session of ``token``."""
        with self._database.session() as session:
            session.execute(delete(AccountSession).where(AccountSession.token_digest == digest(token)))

    def new_pairing_code(self, home_id: str) -> IssuedCode:
        """Make a one-time pairing code for ``home_id``."""
        code = new_code(PAIRING_CODE_GROUPS)
        now = utc_now()
        expires_at = now + timedelta(minutes=self._config.limits.pairing_code_minutes)
        with self._database.session() as session:
            session.add(
                PairingCode(
                    code_digest=digest(normalise_code(code)), home_id=home_id, created_at=now, expires_at=expires_at
                )
            )
        return IssuedCode(code=code, expires_at=expires_at)

    def new_invitation(self) -> IssuedCode:
        """Make a one-time invitation code (the operator's ``cloud invite``)."""
        code = new_code(INVITATION_CODE_GROUPS)
        now = utc_now()
        expires_at = now + timedelta(days=self._config.limits.invitation_days)
        with self._database.session() as session:
            session.add(Invitation(code_digest=digest(normalise_code(code)), created_at=now, expires_at=expires_at))
        return IssuedCode(code=code, expires_at=expires_at)

    def prune_expired(self) -> int:
        """Delete expired sessions and codes, and sign-in attempts past the window; return how many rows went."""
        now = utc_now()
        removed = self._throttle.prune()
        with self._database.session() as session:
            for table in (AccountSession, PairingCode, Invitation):
                removed += rows_affected(session.execute(delete(table).where(table.expires_at <= now)))
        return removed
