"""Reviewers and admins of the review program: cloud accounts apart from households, two-factor sign-in always.

A staff account is made by the operator's command line (``homewarden cloud reviewer create`` / ``admin create``),
which shows the TOTP secret once; the secret is kept sealed (SecretBox) under a key held in the program's key folder,
apart from the database, so a copy of the database alone signs nobody in. Sign-in needs the password and a fresh
code, and is throttled by the same shared counts as households' sign-ins. The audit chain and the household's
receipts name a reviewer by a stable pseudonym (``r_`` and 8 hex digits), never by the name.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from homewarden.accounts import totp
from homewarden.accounts.passwords import WeakPasswordError, check_new_password, hash_password, verify_password
from homewarden.cloud.accounts import utc_now
from homewarden.cloud.database import CloudDatabase, rows_affected
from homewarden.cloud.errors import NotAuthenticatedError, TooManyAttemptsError
from homewarden.cloud.identifiers import digest, new_token
from homewarden.cloud.models import ReviewStaff, ReviewStaffSession
from homewarden.cloud.review.assignments import release_open_assignment
from homewarden.cloud.throttle import SharedSignInThrottle
from homewarden.errors import Refusal, RefusedError
from homewarden.store.durable_files import create_once, make_private_folder

Role = Literal["reviewer", "admin"]
STAFF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")
SEED_KEY_FILE = "staff-seeds.key"


@dataclass(frozen=True)
class StaffView:
    """A reviewer or admin as the workbench and the admin pages know them."""

    id: int
    username: str
    role: Role
    pseudonym: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def actor(self) -> str:
        """Return how the audit chain names this reviewer."""
        return f"reviewer:{self.pseudonym}"


@dataclass(frozen=True)
class NewStaff:
    """A new account with its two-factor secret, shown once."""

    staff: StaffView
    totp_secret: str
    otpauth_uri: str


class StaffSeedKey:
    """The key that seals staff TOTP secrets: a 32-byte file (0600) in the program's key folder (0700)."""

    def __init__(self, folder: Path) -> None:
        """Use ``folder`` (the file is made on first use)."""
        self.path = folder.expanduser().resolve() / SEED_KEY_FILE
        self._box: SecretBox | None = None
        self._lock = threading.Lock()

    def seal(self, secret: str, username_key: str) -> bytes:
        """Return ``secret`` sealed; the account's name is part of the plaintext so a seed cannot change accounts."""
        return bytes(self._secret_box(create=True).encrypt(f"{username_key}\n{secret}".encode()))

    def open(self, sealed: bytes, username_key: str) -> str:
        """Return the secret sealed for ``username_key``, or refuse it."""
        try:
            owner, _, secret = self._secret_box(create=False).decrypt(sealed).decode().partition("\n")
        except (CryptoError, UnicodeDecodeError):
            raise RefusedError("this account's two-factor secret cannot be opened", Refusal.UNAVAILABLE) from None
        if owner != username_key:
            raise RefusedError("this account's two-factor secret belongs to another account", Refusal.UNAVAILABLE)
        return secret

    def _secret_box(self, *, create: bool) -> SecretBox:
        with self._lock:
            if self._box is None:
                if create and not self.path.exists():
                    self._create_once()
                try:
                    key = self.path.read_bytes()
                except FileNotFoundError:
                    raise RefusedError(
                        f"{self.path} is missing: restore it from a backup (staff secrets cannot be opened)",
                        Refusal.UNAVAILABLE,
                    ) from None
                if len(key) != SecretBox.KEY_SIZE:
                    raise RefusedError(f"{self.path} is damaged: restore it from a backup", Refusal.UNAVAILABLE)
                self._box = SecretBox(key)
            return self._box

    def _create_once(self) -> None:
        """Make the key file; of processes racing to make it, the first one's wins."""
        make_private_folder(self.path.parent)
        create_once(self.path, secrets.token_bytes(SecretBox.KEY_SIZE))


class ReviewStaffAccounts:
    """Make, disable, list and sign in reviewers and admins."""

    def __init__(self, database: CloudDatabase, seed_key: StaffSeedKey, session_hours: int) -> None:
        """Work on ``database``; seal TOTP secrets with ``seed_key``; sessions last ``session_hours``."""
        self._database = database
        self._seed_key = seed_key
        self._session_lifetime = timedelta(hours=session_hours)
        self._throttle = SharedSignInThrottle(database)

    def create(self, username: str, password: str, role: Role) -> NewStaff:
        """Make an account with its two-factor secret from the start (there is no account without one)."""
        if not STAFF_NAME.fullmatch(username):
            raise RefusedError(
                "a user name has 3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit",
                Refusal.INVALID,
            )
        try:
            check_new_password(password)
        except WeakPasswordError as error:
            raise RefusedError(str(error), Refusal.INVALID) from None
        secret = totp.new_secret()
        now = utc_now()
        try:
            with self._database.session() as session:
                row = ReviewStaff(
                    username=username,
                    username_key=username.lower(),
                    role=role,
                    pseudonym="r_" + secrets.token_hex(4),
                    password_hash=hash_password(password),
                    totp_seed=self._seed_key.seal(secret, username.lower()),
                    created_at=now,
                )
                session.add(row)
                session.flush()
                view = staff_view(row)
        except IntegrityError:
            raise RefusedError(f"the user name {username!r} is taken", Refusal.CONFLICT) from None
        return NewStaff(staff=view, totp_secret=secret, otpauth_uri=totp.provisioning_uri(secret, username))

    def disable(self, username: str, role: Role | None = None) -> StaffView:
        """Disable an account (of ``role``) at once: its sessions end and its open assignment goes back to the queue."""
        now = utc_now()
        with self._database.session() as session:
            row = session.scalar(
                select(ReviewStaff).where(ReviewStaff.username_key == username.lower()).with_for_update()
            )
            if row is None or (role is not None and row.role != role):
                raise RefusedError(f"there is no {role or 'reviewer or admin'} {username!r}", Refusal.NOT_FOUND)
            row.disabled_at = row.disabled_at or now
            session.execute(delete(ReviewStaffSession).where(ReviewStaffSession.staff_id == row.id))
            release_open_assignment(session, row.id, now)
            return staff_view(row)

    def list(self, role: Role | None = None) -> list[StaffView]:
        """Return every account (of ``role``), by name."""
        with self._database.session() as session:
            query = select(ReviewStaff).order_by(ReviewStaff.username_key)
            if role is not None:
                query = query.where(ReviewStaff.role == role)
            return [staff_view(row) for row in session.scalars(query)]

    def sign_in(self, username: str, password: str, code: str, address: str) -> str:
        """Check the password and a fresh TOTP code; return a session token. Failures are throttled."""
        attempt = self._throttle.begin(f"staff:{username}", address)
        if attempt.retry_after > 0:
            raise TooManyAttemptsError("too many failed sign-ins; try again later", retry_after=attempt.retry_after)
        with self._database.session() as session:
            row = session.scalar(select(ReviewStaff).where(ReviewStaff.username_key == username.lower()))
        if not verify_password(row.password_hash if row else None, password) or row is None:
            raise NotAuthenticatedError("wrong user name, password or code")
        step = totp.accepted_step(self._seed_key.open(row.totp_seed, row.username_key), code, row.totp_step)
        if step is None or row.disabled_at is not None:
            raise NotAuthenticatedError("wrong user name, password or code")
        token = new_token()
        now = utc_now()
        with self._database.session() as session:
            # A code is used once: of two sign-ins racing with the same code, one moves the step and one does not.
            used = session.execute(
                update(ReviewStaff)
                .where(
                    ReviewStaff.id == row.id,
                    (ReviewStaff.totp_step.is_(None)) | (ReviewStaff.totp_step < step),
                )
                .values(totp_step=step)
            )
            if rows_affected(used) != 1:
                raise NotAuthenticatedError("wrong user name, password or code")
            session.add(
                ReviewStaffSession(
                    token_digest=digest(token),
                    staff_id=row.id,
                    created_at=now,
                    expires_at=now + self._session_lifetime,
                )
            )
        self._throttle.succeeded(attempt, f"staff:{username}")
        return token

    def staff_for_token(self, token: str) -> StaffView:
        """Return the enabled account a bearer token signs in, or refuse it."""
        with self._database.session() as session:
            row = session.scalar(
                select(ReviewStaff)
                .join(ReviewStaffSession, ReviewStaffSession.staff_id == ReviewStaff.id)
                .where(
                    ReviewStaffSession.token_digest == digest(token),
                    ReviewStaffSession.expires_at > utc_now(),
                    ReviewStaff.disabled_at.is_(None),
                )
            )
            if row is None:
                raise NotAuthenticatedError("not signed in")
            return staff_view(row)

    def sign_out(self, token: str) -> None:
        """End the session of ``token``."""
        with self._database.session() as session:
            session.execute(delete(ReviewStaffSession).where(ReviewStaffSession.token_digest == digest(token)))

    def prune_expired(self) -> int:
        """Delete expired sessions; return how many went."""
        with self._database.session() as session:
            return rows_affected(
                session.execute(delete(ReviewStaffSession).where(ReviewStaffSession.expires_at <= utc_now()))
            )


def staff_view(row: ReviewStaff) -> StaffView:
    """Return a stored account as the services see it."""
    role: Role = "admin" if row.role == "admin" else "reviewer"
    return StaffView(
        id=row.id,
        username=row.username,
        role=role,
        pseudonym=row.pseudonym,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )
