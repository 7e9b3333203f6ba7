"""The review program's key: one Ed25519 key pair that only the cloud holds, in a folder apart from the database.

The folder (``review.key_folder``, 0700) holds one file per private key (``<key_id>.key``, the 32-byte seed, 0600)
and ``program.json``, the public record every hub may check: the first key's program object and every rotation, each
signed by the key it replaces. Copies are sealed to the X25519 form of the current key; after a rotation the old
private keys stay, so copies sealed to them still open, until no copy uses them (``forget``).

Every API process and worker reads the same folder; creating and rotating take a file lock, and a process notices a
rotation made elsewhere when ``program.json`` changes.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.review.signatures import canonical_json, decode_signature, encode_signature, iso
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, Keyring, SealedObjectError, SealedObjectReader
from homewarden.store.durable_files import fsync_folder, make_private_folder, write_durably

STATEMENT_FILE = "program.json"
LOCK_FILE = ".lock"
KEY_SUFFIX = ".key"
KEY_ID = re.compile(r"^pk_[0-9a-f]{16}$")
SEED_SIZE = 32


class ProgramKeyError(Exception):
    """The key folder cannot be used: missing key, damaged file, loose permissions; the message says which."""


class UnknownProgramKeyError(ProgramKeyError):
    """A copy sealed to a key the cloud does not hold (never had, or forgot)."""


def key_id_of(verify_key: bytes) -> str:
    """Return a key's id: ``pk_`` and the first 16 hex digits of the SHA-256 of its raw 32-byte verify key."""
    return "pk_" + hashlib.sha256(verify_key).hexdigest()[:16]


@dataclass(frozen=True)
class ProgramKey:
    """One program key pair; the private half never leaves the key folder and this process's memory."""

    key_id: str
    created_at: datetime
    signing_key: SigningKey = field(repr=False)

    @property
    def verify_key(self) -> bytes:
        """Return the raw 32-byte public key."""
        return bytes(self.signing_key.verify_key)

    def program(self) -> dict[str, Any]:
        """Return the program object hubs pin (docs/cloud-protocol.md, "The program key")."""
        return {
            "key_id": self.key_id,
            "verify_key": base64.b64encode(self.verify_key).decode("ascii"),
            "created_at": iso(self.created_at),
        }

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        return bytes(self.signing_key.sign(message).signature)


def rotation_statement(previous: ProgramKey, new: ProgramKey, at: datetime) -> dict[str, Any]:
    """Return the rotation from ``previous`` to ``new``, signed by ``previous``."""
    unsigned = {"previous_key_id": previous.key_id, "program": new.program(), "at": iso(at)}
    return {**unsigned, "signature": encode_signature(previous.sign(canonical_json(unsigned)))}


def verify_rotations(pinned: dict[str, Any], rotations: list[dict[str, Any]]) -> dict[str, Any]:
    """Follow the rotations from the ``pinned`` program object; return the last program reached, or raise.

    What a hub does before it accepts a new key; the cloud runs it too, so `program-key show` proves its own record.
    """
    current = pinned
    for rotation in rotations:
        if rotation.get("previous_key_id") != current["key_id"]:
            # A rotation from an older key than the pinned one is history the hub already passed.
            continue
        unsigned = {key: rotation[key] for key in ("previous_key_id", "program", "at")}
        try:
            VerifyKey(base64.b64decode(current["verify_key"])).verify(
                canonical_json(unsigned), decode_signature(str(rotation["signature"]))
            )
        except (BadSignatureError, ValueError, KeyError) as error:
            raise ProgramKeyError(f"the rotation from {current['key_id']} is not signed by it ({error})") from None
        program = rotation["program"]
        if key_id_of(base64.b64decode(program["verify_key"])) != program["key_id"]:
            raise ProgramKeyError(f"the rotation to {program['key_id']} names a key of another id")
        current = program
    return current


class ProgramKeys:
    """The program's keys in ``folder``: the current one signs, every held one opens copies."""

    def __init__(self, folder: Path) -> None:
        """Use ``folder`` (nothing is read or created until first use)."""
        self.folder = folder.expanduser().resolve()
        self._lock = threading.Lock()
        self._statement: dict[str, Any] | None = None
        self._statement_stamp: tuple[int, int, int] | None = None
        self._keys: dict[str, ProgramKey] = {}

    def __repr__(self) -> str:
        """Name the folder only."""
        return f"ProgramKeys({self.folder})"

    # What every process reads.

    def current(self) -> ProgramKey:
        """Return the current key, creating the first one when the folder has none."""
        statement = self._read_statement()
        if statement is None:
            self.create(exist_ok=True)
            statement = self._read_statement()
            assert statement is not None  # create() wrote it
        return self.key(current_key_id(statement))

    def program(self) -> dict[str, Any]:
        """Return the current program object."""
        return self.current().program()

    def rotations(self) -> list[dict[str, Any]]:
        """Return every rotation ever made, oldest first."""
        self.current()
        statement = self._read_statement()
        assert statement is not None
        return list(statement["rotations"])

    def first_program(self) -> dict[str, Any]:
        """Return the first key's program object (where every rotation chain starts)."""
        self.current()
        statement = self._read_statement()
        assert statement is not None
        return dict(statement["first"])

    def held_key_ids(self) -> list[str]:
        """Return the ids of every private key in the folder."""
        self._check_folder()
        return sorted(path.name.removesuffix(KEY_SUFFIX) for path in self.folder.glob(f"pk_*{KEY_SUFFIX}"))

    def holds(self, key_id: str) -> bool:
        """Tell whether copies sealed to ``key_id`` can be opened here."""
        return bool(KEY_ID.fullmatch(key_id)) and key_id in self.held_key_ids()

    def key(self, key_id: str) -> ProgramKey:
        """Return a held key by its id."""
        with self._lock:
            if key_id in self._keys:
                return self._keys[key_id]
        if not KEY_ID.fullmatch(key_id):
            raise UnknownProgramKeyError(f"{key_id!r} is not a program key id")
        path = self.folder / f"{key_id}{KEY_SUFFIX}"
        try:
            seed = path.read_bytes()
        except FileNotFoundError:
            raise UnknownProgramKeyError(f"the review program key {key_id} is not held in {self.folder}") from None
        except OSError as error:
            raise ProgramKeyError(f"cannot read {path}: {error.strerror}") from None
        _check_private(path)
        if len(seed) != SEED_SIZE:
            raise ProgramKeyError(f"{path} is damaged: {len(seed)} bytes, not {SEED_SIZE}")
        signing_key = SigningKey(seed)
        if key_id_of(bytes(signing_key.verify_key)) != key_id:
            raise ProgramKeyError(f"{path} holds another key than its name says")
        created_at = self._created_at(key_id)
        made = ProgramKey(key_id=key_id, created_at=created_at, signing_key=signing_key)
        with self._lock:
            self._keys[key_id] = made
        return made

    def keyring(self) -> Keyring:
        """Return every held key's X25519 form (the current one first): what opens sealed copies."""
        current = self.current()
        others = [self.key(key_id) for key_id in self.held_key_ids() if key_id != current.key_id]
        return Keyring([key.signing_key.to_curve25519_private_key() for key in (current, *others)])

    def open_copy(self, donation_id: str, blob: bytes) -> bytes:
        """Return the plaintext of a donated copy (hub vault format, the donation id bound in), in memory only."""
        if len(blob) < SEALED_DATA_KEY_SIZE:
            raise SealedObjectError(f"the copy has {len(blob)} bytes: too short to hold a sealed data key")
        data_key = self.keyring().open_data_key(blob[:SEALED_DATA_KEY_SIZE])
        body = memoryview(blob)[SEALED_DATA_KEY_SIZE:]
        reader = SealedObjectReader(data_key, donation_id, len(body), lambda start, end: bytes(body[start:end]))
        return b"".join(reader.iter_chunks())

    # What the operator's commands do.

    def create(self, *, exist_ok: bool = False) -> ProgramKey:
        """Make the first key; refuse when there is one (unless ``exist_ok``: then return the current key)."""
        with self._folder_locked():
            statement = self._read_statement()
            if statement is not None:
                if not exist_ok:
                    raise ProgramKeyError(
                        f"{self.folder} already holds the review program key {current_key_id(statement)}"
                        " (rotate it with `homewarden cloud program-key rotate`)"
                    )
            else:
                if self.held_key_ids():
                    raise ProgramKeyError(
                        f"{self.folder} holds private keys but no {STATEMENT_FILE}: restore it from a backup"
                    )
                key = self._new_key()
                self._write_statement({"first": key.program(), "rotations": []})
        return self.current()

    def rotate(self) -> dict[str, Any]:
        """Make a new current key, signed over by the current one; return the rotation statement."""
        with self._folder_locked():
            previous = self.current()
            statement = self._read_statement()
            assert statement is not None
            new = self._new_key()
            rotation = rotation_statement(previous, new, utc_now())
            self._write_statement({**statement, "rotations": [*statement["rotations"], rotation]})
        return rotation

    def forget(self, key_id: str) -> None:
        """Delete an old private key no copy uses any more (the current one is never forgotten)."""
        with self._folder_locked():
            statement = self._read_statement()
            if statement is None or key_id == current_key_id(statement):
                raise ProgramKeyError(f"{key_id} is the current review program key; rotate first")
            path = self.folder / f"{key_id}{KEY_SUFFIX}"
            if KEY_ID.fullmatch(key_id) and path.exists():
                # Overwrite in place before unlinking, so the seed does not linger in the file's blocks (on a
                # file system that writes in place; a copy-on-write one keeps old blocks until they are reused).
                with path.open("r+b") as file:
                    file.write(os.urandom(SEED_SIZE))
                    file.flush()
                    os.fsync(file.fileno())
                path.unlink()
                fsync_folder(self.folder)
            with self._lock:
                self._keys.pop(key_id, None)

    # The folder.

    def _new_key(self) -> ProgramKey:
        signing_key = SigningKey.generate()
        key_id = key_id_of(bytes(signing_key.verify_key))
        path = self.folder / f"{key_id}{KEY_SUFFIX}"
        write_durably(path, [bytes(signing_key)])
        made = ProgramKey(key_id=key_id, created_at=utc_now(), signing_key=signing_key)
        with self._lock:
            self._keys[key_id] = made
        return made

    def _created_at(self, key_id: str) -> datetime:
        statement = self._read_statement()
        programs = [] if statement is None else [statement["first"], *(r["program"] for r in statement["rotations"])]
        for program in programs:
            if program["key_id"] == key_id:
                return datetime.fromisoformat(program["created_at"])
        with self._lock:
            if key_id in self._keys:
                return self._keys[key_id].created_at
        raise ProgramKeyError(f"{self.folder / STATEMENT_FILE} does not name the key {key_id}")

    def _read_statement(self) -> dict[str, Any] | None:
        """Return ``program.json`` (read again only when the file changed), or None before the first key."""
        self._check_folder()
        path = self.folder / STATEMENT_FILE
        try:
            status = path.stat()
        except FileNotFoundError:
            return None
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        with self._lock:
            if self._statement is not None and self._statement_stamp == stamp:
                return self._statement
        try:
            statement = json.loads(path.read_text(encoding="utf-8"))
            current_key_id(statement)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ProgramKeyError(f"{path} is damaged ({error}): restore it from a backup") from None
        with self._lock:
            self._statement, self._statement_stamp = statement, stamp
        return dict(statement)

    def _write_statement(self, statement: dict[str, Any]) -> None:
        text = json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_durably(self.folder / STATEMENT_FILE, [text.encode("utf-8")])

    def _check_folder(self) -> None:
        if self.folder.exists():
            _check_private(self.folder)

    @contextmanager
    def _folder_locked(self) -> Iterator[None]:
        """Hold the folder's lock file: one creation or rotation at a time, across processes."""
        try:
            make_private_folder(self.folder)
            descriptor = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise ProgramKeyError(f"cannot use the review key folder {self.folder}: {error.strerror}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


def current_key_id(statement: dict[str, Any]) -> str:
    """Return the key id a ``program.json`` names as current: the last rotation's, else the first key's."""
    rotations = statement["rotations"]
    key_id = rotations[-1]["program"]["key_id"] if rotations else statement["first"]["key_id"]
    return str(key_id)


def _check_private(path: Path) -> None:
    """Refuse a key file or folder others may read: its keys would be everyone's."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        wanted = "700" if path.is_dir() else "600"
        raise ProgramKeyError(f"{path} may be read by other users (mode {mode:o}): run `chmod {wanted} {path}`")
