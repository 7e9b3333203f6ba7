"""The cloud's database tables (its own schema and migrations, apart from the hub's).

What the cloud knows of a home is here: an account name and password hash, hub public keys, object ids chosen by the
hub (opaque keyed hashes), sizes, hashes of sealed bytes and upload times. Nothing in it names a camera or an event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so migrations can drop them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The longest object id the contract admits, and the other ids' lengths.
OBJECT_ID_LENGTH = 64
ID_LENGTH = 32
DIGEST_LENGTH = 64


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware time, read back as UTC on every backend (SQLite hands back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse a naive time: it would mean local time on one machine and UTC on another."""
        if value is not None and value.tzinfo is None:
            raise ValueError("the cloud stores timezone-aware times only")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the time as UTC-aware."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CloudBase(DeclarativeBase):
    """Base of the cloud's tables."""

    metadata = MetaData(naming_convention=NAMING)


class Home(CloudBase):
    """One household's space: its quota and retention."""

    __tablename__ = "cloud_home"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
    retention_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Account(CloudBase):
    """A household's sign-in: one account, one home."""

    __tablename__ = "cloud_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Stored as typed; compared lower-cased through username_key.
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    home_id: Mapped[str] = mapped_column(ForeignKey("cloud_home.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AccountSession(CloudBase):
    """A signed-in account; the token itself is never stored, only its SHA-256."""

    __tablename__ = "cloud_session"

    token_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("cloud_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Invitation(CloudBase):
    """An operator's one-time invitation to make an account (SHA-256 of the code)."""

    __tablename__ = "cloud_invitation"

    code_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class PairingCode(CloudBase):
    """A one-time code that pairs a hub with a home (SHA-256 of the code)."""

    __tablename__ = "cloud_pairing_code"

    code_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("cloud_home.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class Hub(CloudBase):
    """A paired hub: its Ed25519 public key; a revoked hub's requests are refused."""

    __tablename__ = "cloud_hub"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("cloud_home.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    paired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class HubNonce(CloudBase):
    """A nonce a hub has used: the unique row is what refuses a replayed request."""

    __tablename__ = "cloud_hub_nonce"
    __table_args__ = (UniqueConstraint("hub_id", "nonce", name="uq_cloud_hub_nonce_hub_id_nonce"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("cloud_hub.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class StoredObject(CloudBase):
    """A sealed object of a home. ``stored`` is false while its bytes are being written (then it is not served)."""

    __tablename__ = "cloud_object"
    __table_args__ = (
        CheckConstraint("size >= 0", name="size_not_negative"),
        Index("ix_cloud_object_home_uploaded", "home_id", "uploaded_at"),
    )

    home_id: Mapped[str] = mapped_column(ForeignKey("cloud_home.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    stored: Mapped[bool] = mapped_column(Boolean, default=False)


class MultipartUpload(CloudBase):
    """A multipart upload in progress: the store's own upload id stays here, the hub sees ours."""

    __tablename__ = "cloud_multipart_upload"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("cloud_home.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH))
    store_upload_id: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class BlobDeletion(CloudBase):
    """A blob whose row is gone and which is still to be deleted from the object store (retried until it is)."""

    __tablename__ = "cloud_blob_deletion"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class SignInAttempt(CloudBase):
    """A sign-in attempt still counted against a user name or an address: shared by every API process.

    ``key_digest`` is the SHA-256 of ``user:<name>`` or ``addr:<address>``, so the table lists no names or addresses
    in clear (a guessable digest, kept only for the throttle's window).
    """

    __tablename__ = "cloud_sign_in_attempt"
    __table_args__ = (Index("ix_cloud_sign_in_attempt_key_at", "key_digest", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    key_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


# "pk_" and 16 hex digits of the program key's SHA-256 (docs/cloud-protocol.md, "Review program").
KEY_ID_LENGTH = 19


class ReviewDonation(CloudBase):
    """A copy a household donated to the review program, sealed to the program key.

    A row outlives its bytes: a withdrawn, expired, refused or flagged donation keeps its row (without bytes or
    labels) so a late upload of the same id is not taken again and a withdrawal stays on record for trained models.
    A hub may withdraw before its upload arrived: that row is a tombstone with no key, size or hash.
    """

    __tablename__ = "review_donations"
    __table_args__ = (
        CheckConstraint("size IS NULL OR size >= 0", name="size_not_negative"),
        Index("ix_review_donations_state_expires_at", "state", "expires_at"),
    )

    donation_id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("cloud_home.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str | None] = mapped_column(String(KEY_ID_LENGTH), index=True)
    object_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(DIGEST_LENGTH))
    # What the workbench may show (label, duration, size, consent version); "metadata" is taken by SQLAlchemy.
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    state: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class ReviewAuditEntry(CloudBase):
    """One link of the review program's hash chain (all homes in one chain, appended by ``review.audit.record``).

    ``home_id`` is not a foreign key: the chain must never lose a link, whatever happens to a home.
    """

    __tablename__ = "review_audit"
    __table_args__ = (Index("ix_review_audit_home_id_seq", "home_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    home_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    donation_id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    entry_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)


class ReviewCheckpoint(CloudBase):
    """A signed statement of the chain's head at ``seq`` (one per head reached)."""

    __tablename__ = "review_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH))
    signature: Mapped[str] = mapped_column(String(100))


class ReviewStaff(CloudBase):
    """A reviewer or an admin of the review program: a cloud account apart from households, two-factor always.

    ``totp_seed`` is the TOTP secret sealed (SecretBox) under the staff seed key kept beside the program key, never
    in clear; ``pseudonym`` (``r_`` and 8 hex digits) is what the audit chain and receipts name, never the name.
    """

    __tablename__ = "review_staff"
    __table_args__ = (CheckConstraint("role IN ('reviewer', 'admin')", name="role_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    pseudonym: Mapped[str] = mapped_column(String(10), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_seed: Mapped[bytes] = mapped_column(LargeBinary(200))
    # The last TOTP step accepted: a code works once.
    totp_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class ReviewStaffSession(CloudBase):
    """A signed-in reviewer or admin (SHA-256 of the token only)."""

    __tablename__ = "review_staff_sessions"

    token_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("review_staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ReviewAssignment(CloudBase):
    """A donated copy handed to one reviewer; open until labelled (or the copy ends). One open per reviewer."""

    __tablename__ = "review_assignments"
    __table_args__ = (
        Index(
            "uq_review_assignments_open_reviewer",
            "reviewer_id",
            unique=True,
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
        Index("ix_review_assignments_home_assigned", "home_id", "assigned_at"),
        Index("ix_review_assignments_reviewer_assigned", "reviewer_id", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    donation_id: Mapped[str] = mapped_column(ForeignKey("review_donations.donation_id", ondelete="CASCADE"), index=True)
    # Copied from the donation: fair turns between homes are counted from here.
    home_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("review_staff.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class ReviewLabel(CloudBase):
    """A reviewer's verdict on a copy (deleted with the copy's bytes when it is withdrawn, expired or flagged)."""

    __tablename__ = "review_labels"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    donation_id: Mapped[str] = mapped_column(ForeignKey("review_donations.donation_id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id", ondelete="CASCADE"), unique=True)
    verdict: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(String(32), default=None)
    label: Mapped[str] = mapped_column(String(64))
    boxes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReviewMediaLink(CloudBase):
    """A single-use link to an assignment's watermarked copy (SHA-256 of the token only).

    The watermarked copy is kept in the object store sealed (SecretBox) under ``media_key`` until the link is used or
    expires; then key and bytes go. ``ready_at`` is set by the worker that burned the watermark in.
    """

    __tablename__ = "review_media_links"

    token_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("review_staff.id", ondelete="CASCADE"))
    object_key: Mapped[str] = mapped_column(String(200))
    media_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    failed: Mapped[str | None] = mapped_column(String(200), default=None)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class TrainedModel(CloudBase):
    """A version of the false-alarm verifier: its dataset, code, metrics, signature and where it stands.

    ``state`` is candidate (trained, not better than the promoted one), promoted (the one hubs run; at most one),
    tainted (it learned from a donation that has since ended: replaced and its file deleted) or retired (replaced by
    a better model). Which donations it learned from is ``TrainedModelDonation``, one query away.
    """

    __tablename__ = "training_models"
    __table_args__ = (
        CheckConstraint("state IN ('candidate', 'promoted', 'tainted', 'retired')", name="state_known"),
        Index(
            "uq_training_models_promoted",
            "state",
            unique=True,
            sqlite_where=text("state = 'promoted'"),
            postgresql_where=text("state = 'promoted'"),
        ),
    )

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), index=True)
    dataset_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    # The reviewers' label rows it was built from: a run with the same rows has nothing new to learn.
    labels_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    manifest_key: Mapped[str] = mapped_column(String(200))
    code_version: Mapped[str] = mapped_column(String(32))
    features: Mapped[str] = mapped_column(String(64))
    # Each shard's sample digest, size and weights, so a retraining reuses the shards a withdrawal did not touch (a
    # tainted shard's weights are erased with the taint).
    shards: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    clips: Mapped[int] = mapped_column(Integer)
    homes: Mapped[int] = mapped_column(Integer)
    samples: Mapped[int] = mapped_column(Integer)
    object_key: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    promoted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    tainted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    replaced_by: Mapped[int | None] = mapped_column(Integer, default=None)


class TrainedModelDonation(CloudBase):
    """One donation a model learned from: "which models learned from donation X" is one query."""

    __tablename__ = "training_model_donations"

    model_version: Mapped[int] = mapped_column(
        ForeignKey("training_models.version", ondelete="CASCADE"), primary_key=True
    )
    # The donation row outlives its copy (a tombstone once withdrawn), so the link stays to say what was tainted.
    donation_id: Mapped[str] = mapped_column(
        ForeignKey("review_donations.donation_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    home_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    consent: Mapped[str] = mapped_column(String(64))
    samples: Mapped[int] = mapped_column(Integer)


class TrainingLabelItems(CloudBase):
    """The labelled items one label row gave (features included), so a run reads each copy once, not every time.

    Derived from the donated copy: erased with the donation (``erase_donation``) like the label row it came from.
    """

    __tablename__ = "training_label_items"

    label_id: Mapped[int] = mapped_column(
        ForeignKey("review_labels.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    donation_id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH), index=True)
    # The feature set the rows were computed with: another one (a new feature code) computes them again.
    features: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
