"""One database transaction per operation, its failures reported as StoreError: shared by every store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from homewarden.store.errors import StoreError


@contextmanager
def transaction(sessions: sessionmaker[Session], action: str) -> Iterator[Session]:
    """Run a session in one transaction, committed on success; report a database error as "cannot <action>: ..."."""
    try:
        with sessions.begin() as session:
            yield session
    except SQLAlchemyError as error:
        raise StoreError(f"cannot {action}: {' '.join(str(error).split())[:300]}") from error
