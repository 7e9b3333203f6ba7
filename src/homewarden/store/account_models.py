"""How homes, their cameras, user accounts, sessions and API tokens are laid out in the database.

Secrets are never stored as given: passwords as Argon2id hashes, session and API tokens as SHA-256 digests (they are
random 256-bit values, so a fast hash is enough), two-factor seeds sealed with a key kept outside the database
(store/account_secrets.py), and a leaked table opens no account.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homewarden.store.models import Base


def _now() -> datetime:
    return datetime.now(UTC)


class Home(Base):
    """A household: its cameras, its people and its arming state."""

    __tablename__ = "home"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, server_default=func.now())
    # The arming mode chosen by hand and who chose it; None when the configured mode or schedule applies.
    manual_mode: Mapped[str | None] = mapped_column(String(16))
    manual_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    manual_set_by: Mapped[str | None] = mapped_column(String(64))
    # A schedule edited in the web app replaces the config's: [{"days": [...], "at": "HH:MM", "mode": ...}].
    schedule: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    timezone: Mapped[str | None] = mapped_column(String(64))

    cameras: Mapped[list[HomeCamera]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class HomeCamera(Base):
    """Which home a camera (by its configured name) belongs to."""

    __tablename__ = "home_camera"

    camera: Mapped[str] = mapped_column(String(128), primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)


class UserAccount(Base):
    """Someone who signs in: a household owner or member."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The name as every lookup compares it (accounts/names.py: NFKC, case folded): one account per spelling.
    canonical_name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    home_id: Mapped[int | None] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    # Sealed (store/account_secrets.py), never the base32 seed itself.
    totp_secret: Mapped[str | None] = mapped_column(String(128))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(128))
    # The last 30-second step a code was accepted for, so an overheard code cannot be used again.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The language the account chose for pages and notifications ("en", "de"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, server_default=func.now())

    cameras: Mapped[list[UserCamera]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class UserCamera(Base):
    """A camera a member may watch (owners see every camera of their home)."""

    __tablename__ = "user_camera"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    camera: Mapped[str] = mapped_column(String(128), primary_key=True)


class PasswordLink(Base):
    """A one-time link on which a user sets their password: an invitation, or a reset the owner made.

    Only the SHA-256 of the link's token is stored; the row is deleted when the link is used, and a newer link for
    the same user replaces it.
    """

    __tablename__ = "password_link"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, and its CSRF token."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A scoped, revocable token for an integration, stored as the SHA-256 of its value."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so the owner can tell tokens apart without the database holding one.
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
