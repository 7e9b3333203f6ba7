"""The enrolled household: in the hub's database, apart from the events, its embeddings under the gallery key."""

from __future__ import annotations

import logging
import sqlite3
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, create_engine, delete, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from homewarden.config.model import HomewardenConfig
from homewarden.errors import UserError
from homewarden.faces.dlib_models import EMBEDDING_MODEL, Embedding
from homewarden.faces.gallery import (
    Gallery,
    check_member_name,
    gallery_from_folder,
    vector_bytes,
    vector_from_bytes,
)
from homewarden.i18n import _, ngettext
from homewarden.store.database import create_private_sqlite_file, migrate_to_head
from homewarden.store.face_models import FaceEmbedding, FaceMember
from homewarden.store.gallery_key import (
    GalleryDecryptionError,
    GalleryKey,
    GalleryKeyError,
    GalleryKeyFile,
    MissingGalleryKeyError,
)
from homewarden.store.keys import HomeKeyError, NoHomeKeyError

log = logging.getLogger(__name__)

_EMBEDDING_AAD = b"homewarden face embedding v1\x00"
_ROW_IDS = struct.Struct(">QQ")  # member id, embedding id


class TamperedEmbeddingError(UserError):
    """A stored embedding failed authentication: changed, damaged, or moved to another row or member."""


@dataclass(frozen=True)
class MemberSummary:
    """What `faces list` shows of a member: never the embeddings themselves."""

    name: str
    photos: tuple[str, ...]
    enrolled_at: datetime


class FaceLibrary:
    """Enrol, list and remove household members; hand out the gallery the pipeline matches against."""

    def __init__(self, engine: Engine, gallery_key: GalleryKeyFile, config_option: str = "") -> None:
        """Wrap an engine whose database is already migrated; use ``FaceLibrary.open`` instead."""
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.gallery_key = gallery_key
        self._config_option = config_option

    @classmethod
    def open(cls, database_url: str, gallery_key: GalleryKeyFile, config_option: str = "") -> FaceLibrary:
        """Connect to the hub's database and bring its schema up to date; embeddings use ``gallery_key``.

        ``config_option`` (`` --config FILE``) is added to the commands that error messages suggest.
        """
        url = make_url(database_url)
        shown = url.render_as_string(hide_password=True)
        try:
            create_private_sqlite_file(url)
            engine = create_engine(url)
            if url.get_backend_name() == "sqlite":
                event.listen(engine, "connect", _sqlite_foreign_keys)
            with engine.begin() as connection:
                migrate_to_head(connection)
        except (SQLAlchemyError, OSError) as exc:
            raise UserError(
                _("cannot open the face library in {database}: {problem}").format(
                    database=shown, problem=_one_line(exc, url.password)
                )
            ) from None
        return cls(engine, gallery_key, config_option)

    def enroll(self, name: str, faces: list[tuple[str, Embedding]]) -> int:
        """Add photos' embeddings to a member (created if new); return how many the member now has."""
        name = check_member_name(name)
        with self._session(_("enrol {name}").format(name=name)) as session:
            key = self._key_for_enrolment(session)
            member = session.scalar(select(FaceMember).where(FaceMember.name == name))
            if member is None:
                member = FaceMember(name=name)
                session.add(member)
            added = [
                FaceEmbedding(model=EMBEDDING_MODEL, key_id=key.key_id, nonce=b"", ciphertext=b"", photo=photo)
                for photo, _embedding in faces
            ]
            member.embeddings.extend(added)
            # The associated data binds each row's id, known only once the row is inserted.
            session.flush()
            for row, (_photo, embedding) in zip(added, faces, strict=True):
                row.nonce, row.ciphertext = key.encrypt(vector_bytes(embedding), _associated_data(member, row))
            session.flush()
            return len(member.embeddings)

    def members(self) -> list[MemberSummary]:
        """Return every member, by name."""
        query = select(FaceMember).options(selectinload(FaceMember.embeddings)).order_by(FaceMember.name)
        with self._session(_("list members")) as session:
            return [
                MemberSummary(
                    member.name,
                    tuple(e.photo for e in member.embeddings),
                    # SQLite hands back naive datetimes; they were written in UTC.
                    member.created_at if member.created_at.tzinfo else member.created_at.replace(tzinfo=UTC),
                )
                for member in session.scalars(query)
            ]

    def remove(self, name: str) -> int | None:
        """Delete a member and every embedding of theirs; return how many embeddings went, or None if unknown."""
        with self._session(_("remove {name}").format(name=name)) as session:
            member = session.scalar(
                select(FaceMember).where(FaceMember.name == name.strip()).options(selectinload(FaceMember.embeddings))
            )
            if member is None:
                return None
            count = len(member.embeddings)
            session.delete(member)
            return count

    def remove_everyone(self) -> int:
        """Delete every member and every embedding; return how many members went."""
        with self._session(_("remove every member")) as session:
            count = session.scalar(select(func.count()).select_from(FaceMember)) or 0
            # Embeddings explicitly too: the cascade needs foreign keys, which another client may have off.
            session.execute(delete(FaceEmbedding))
            session.execute(delete(FaceMember))
            return count

    def gallery(self, threshold: float) -> Gallery:
        """Return every member's embeddings (from the current model only), decrypted, as a gallery to match against.

        Any embedding that fails authentication stops the loading: a changed row must not silently drop a member.
        """
        query = select(FaceMember).options(selectinload(FaceMember.embeddings)).order_by(FaceMember.name)
        with self._session(_("read the household")) as session:
            members = list(session.scalars(query))
            rows = [(member, row) for member in members for row in member.embeddings if row.model == EMBEDDING_MODEL]
            if not rows:
                return Gallery({}, threshold)
            key = self._key_for_reading(len(rows))
            vectors: dict[str, list[Embedding]] = {member.name: [] for member in members}
            for member, row in rows:
                vectors[member.name].append(vector_from_bytes(self._decrypt(key, member, row)))
            return Gallery(vectors, threshold)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> FaceLibrary:
        """Use the library as a context manager that closes it on exit."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Close the library."""
        self.close()

    def _key_for_enrolment(self, session: Session) -> GalleryKey:
        """Return the gallery key, creating it (with its sealed copy) if nothing was encrypted yet."""
        try:
            if self.gallery_key.exists():
                key = self._key_for_reading(None)
                self.gallery_key.ensure_sealed_copy(key)
                return key
            stored = session.scalar(select(func.count()).select_from(FaceEmbedding)) or 0
            if stored:
                return self._key_for_reading(stored)
            return self.gallery_key.create()
        except NoHomeKeyError:
            raise UserError(
                _(
                    "no home key in {folder} yet, and face embeddings are stored only encrypted: "
                    "run `homewarden keys init{option}` first (you choose the passphrase)"
                ).format(folder=self.gallery_key.path.parent, option=self._config_option)
            ) from None
        except (HomeKeyError, GalleryKeyError, OSError) as exc:
            raise UserError(_("cannot use the face gallery key: {problem}").format(problem=exc)) from None

    def _key_for_reading(self, stored: int | None) -> GalleryKey:
        try:
            return self.gallery_key.load()
        except MissingGalleryKeyError:
            if stored:
                count = ngettext("{count} face embedding is", "{count} face embeddings are", stored).format(
                    count=stored
                )
            else:
                count = _("face embeddings are")
            raise UserError(
                _(
                    "the face gallery key {path} is missing, but {count} encrypted with it: restore it "
                    "with `homewarden keys unlock{option}` (needs the passphrase), or remove the members "
                    "and enrol them again"
                ).format(path=self.gallery_key.path, count=count, option=self._config_option)
            ) from None
        except GalleryKeyError as exc:
            raise UserError(str(exc)) from None

    def _decrypt(self, key: GalleryKey, member: FaceMember, row: FaceEmbedding) -> bytes:
        if row.key_id != key.key_id:
            raise TamperedEmbeddingError(
                _(
                    "face embedding {id} of {name} was encrypted with gallery key {key}, but the hub "
                    "holds {held} ({path}): restore the right key, or remove {name} and enrol them again"
                ).format(id=row.id, name=member.name, key=row.key_id, held=key.key_id, path=self.gallery_key.path)
            )
        try:
            return key.decrypt(row.nonce, row.ciphertext, _associated_data(member, row))
        except GalleryDecryptionError:
            log.warning("refused face embedding %s of member %s: it failed authentication", row.id, member.name)
            raise TamperedEmbeddingError(
                _(
                    "face embedding {id} of {name} failed authentication: the database was changed or "
                    "damaged; remove {name} and enrol them again"
                ).format(id=row.id, name=member.name)
            ) from None

    @contextmanager
    def _session(self, action: str) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise UserError(
                _("cannot {action}: {problem}").format(action=action, problem=_one_line(exc, self._engine.url.password))
            ) from None


def _associated_data(member: FaceMember, row: FaceEmbedding) -> bytes:
    """Bind a ciphertext to its row, its member and its model: a row moved or copied anywhere else fails to open."""
    return _EMBEDDING_AAD + _ROW_IDS.pack(member.id, row.id) + row.model.encode() + b"\x00" + member.name.encode()


def open_household(config: HomewardenConfig, config_path: Path | None = None) -> FaceLibrary:
    """Open the enrolled household of a config: its database, and the gallery key in its storage folder."""
    return FaceLibrary.open(
        config.storage.resolved_database_url(),
        GalleryKeyFile.in_folder(config.storage.folder.resolve()),
        f" --config {config_path}" if config_path else "",
    )


def household_gallery(config: HomewardenConfig, config_path: Path | None = None) -> Gallery:
    """Return the gallery a run matches against: the one-run folder if configured, else the enrolled household."""
    threshold = config.faces.match_threshold
    if config.faces.gallery_folder is not None:
        return gallery_from_folder(config.faces.gallery_folder, threshold)
    url = make_url(config.storage.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).expanduser().exists():
        # Nobody was ever enrolled here; do not create a database just to find it empty.
        return Gallery({}, threshold)
    with open_household(config, config_path) as library:
        return library.gallery(threshold)


def household_loader(
    config: HomewardenConfig, engine: Engine, config_path: Path | None = None
) -> Callable[[], Gallery]:
    """Return how a running hub reads its household: through its own, already migrated, database engine."""
    threshold = config.faces.match_threshold
    if config.faces.gallery_folder is not None:
        folder = config.faces.gallery_folder
        return lambda: gallery_from_folder(folder, threshold)
    key = GalleryKeyFile.in_folder(config.storage.folder.resolve())
    option = f" --config {config_path}" if config_path else ""
    return lambda: FaceLibrary(engine, key, option).gallery(threshold)


def _sqlite_foreign_keys(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Turn on foreign keys, off by default in SQLite, so embeddings cannot outlive their member."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _one_line(exc: Exception, password: str | object | None) -> str:
    """Describe a database error on one line, without SQL text or the URL's password."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
    return text.replace(str(password), "***") if password else text
