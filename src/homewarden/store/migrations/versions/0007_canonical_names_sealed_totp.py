"""User names unique by their canonical form; room for sealed two-factor seeds.

Every account gets ``canonical_name`` (NFKC, case folded; the same rule as accounts/names.py, copied here so this
revision keeps meaning what it meant when it was written) under a unique constraint. Names that clash are renamed,
deterministically, rather than refusing to start: the oldest account (lowest id) keeps its name, each later one
becomes ``<name>-<id>`` (``-<id>-2``, ... should that be taken too); a household name in the review program's
``review.`` space becomes ``<role>-<id>``. Each rename is logged as a warning naming the old and new name, so the
owner can tell the people concerned. Sessions and tokens are kept (they belong to the account, not the name).

The seed columns widen for sealed values; the hub seals seeds an older hub stored in clear when it starts
(``AccountStore.seal_clear_secrets``: the key lives in the storage folder, which a migration does not know).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00.000000
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("homewarden.store.migrations")

MAX_NAME_LENGTH = 64
PROGRAM_PREFIX = "review."
HOUSEHOLD_ROLES = ("owner", "member")
SEALED_PREFIX = "v1."

_users = sa.table(
    "user_account",
    sa.column("id", sa.Integer()),
    sa.column("username", sa.String()),
    sa.column("canonical_name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("totp_secret", sa.String()),
    sa.column("totp_pending_secret", sa.String()),
)


def _canonical(name: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def _free_name(base: str, user_id: int, unavailable: set[str]) -> tuple[str, str]:
    attempt = 1
    while True:
        suffix = f"-{user_id}" if attempt == 1 else f"-{user_id}-{attempt}"
        name = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        canonical = _canonical(name)
        if canonical not in unavailable and len(canonical) <= MAX_NAME_LENGTH:
            return name, canonical
        attempt += 1


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("canonical_name", sa.String(length=64), nullable=True))
        for column in ("totp_secret", "totp_pending_secret"):
            batch.alter_column(
                column, type_=sa.String(length=128), existing_type=sa.String(length=64), existing_nullable=True
            )
    connection = op.get_bind()
    rows = connection.execute(sa.select(_users.c.id, _users.c.username, _users.c.role).order_by(_users.c.id)).all()
    # A new name must clash with no name there is, kept or not, so no update meets the unique username either.
    unavailable = {_canonical(username) for _, username, _ in rows}
    kept: set[str] = set()
    for user_id, username, role in rows:
        canonical = _canonical(username)
        name = username
        if role in HOUSEHOLD_ROLES and canonical.startswith(PROGRAM_PREFIX):
            name, canonical = _free_name(role, user_id, unavailable)
        elif canonical in kept or len(canonical) > MAX_NAME_LENGTH:
            name, canonical = _free_name(username, user_id, unavailable)
        if name != username:
            log.warning("user name %r (account %d) clashes with another account: renamed %r", username, user_id, name)
        unavailable.add(canonical)
        kept.add(canonical)
        connection.execute(
            sa.update(_users).where(_users.c.id == user_id).values(username=name, canonical_name=canonical)
        )
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("canonical_name", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_user_account_canonical_name"), ["canonical_name"])


def downgrade() -> None:
    """Revert this revision (refused while sealed seeds exist: an older hub could not read them)."""
    sealed_values = [_users.c[column].like(f"{SEALED_PREFIX}%") for column in ("totp_secret", "totp_pending_secret")]
    sealed = op.get_bind().scalar(sa.select(sa.func.count()).select_from(_users).where(sa.or_(*sealed_values)))
    if sealed:
        raise RuntimeError(
            f"cannot go back below revision 0007: {sealed} account(s) hold a sealed two-factor seed that an older hub "
            "cannot read; turn two-factor sign-in off for them first"
        )
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("uq_user_account_canonical_name"), type_="unique")
        batch.drop_column("canonical_name")
        for column in ("totp_secret", "totp_pending_secret"):
            batch.alter_column(
                column, type_=sa.String(length=64), existing_type=sa.String(length=128), existing_nullable=True
            )
