"""The home's key file: its X25519 key pair, the private half readable only with the passphrase or the recovery key.

Layout (JSON, readable by its owner only): the home key pairs, each private key encrypted (AES-256-GCM) with a
random key-wrapping key; that key-wrapping key is itself encrypted twice, once with a key derived from the owner's
passphrase (Argon2id) and once with a key derived from the recovery key (HKDF-SHA256). Changing the passphrase
re-wraps only the key-wrapping key; recovering sets a new passphrase with the recovery key.

The first home key in the file is the current one: recorders seal new data keys to it. During a rotation the
previous keys stay until every data key has been re-sealed to the new one, so an interrupted rotation resumes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl.public import PrivateKey, PublicKey

from homewarden.i18n import _
from homewarden.store.crypto import HomePublicKey, Keyring, key_id_for
from homewarden.store.durable_files import write_durably

log = logging.getLogger(__name__)

KEY_FILE_NAME = "home-key.json"
KEY_FILE_FORMAT = "homewarden-home-key"
KEY_FILE_VERSION = 1
WRAPPING_KEY_SIZE = 32
NONCE_SIZE = 12
SALT_SIZE = 16
MIN_PASSPHRASE_LENGTH = 8

RECOVERY_SECRET_SIZE = 32
RECOVERY_CHECK_SIZE = 3  # 35 bytes are exactly 56 base32 characters, shown as 14 groups of 4
RECOVERY_GROUP = 4
# People copy keys by hand: digits that look like base32 letters are read as those letters.
_RECOVERY_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})

# Wrong guesses allowed before each further attempt has to wait, and how long the waits grow.
FREE_ATTEMPTS = 5
FIRST_WAIT_SECONDS = 30.0
LONGEST_WAIT_SECONDS = 3600.0


@dataclass(frozen=True)
class Argon2Parameters:
    """Argon2id cost parameters; the defaults are RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes)."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4

    def check(self) -> None:
        """Refuse parameters Argon2 cannot run, or so large that they can only come from a damaged file."""
        lanes_ok = 1 <= self.parallelism <= 64
        # Argon2 itself needs at least 8 KiB per lane; 4 GiB is far beyond any hub and marks a damaged file.
        memory_ok = 8 * self.parallelism <= self.memory_cost_kib <= 4 * 1024 * 1024
        if not (lanes_ok and memory_ok and 1 <= self.time_cost <= 64):
            raise ValueError("Argon2 parameters out of range")


DEFAULT_ARGON2 = Argon2Parameters()


class HomeKeyError(Exception):
    """A home key operation that cannot be done; the message names no secret."""


class NoHomeKeyError(HomeKeyError):
    """The home has no key file yet."""


class HomeKeyExistsError(HomeKeyError):
    """A key file exists already and would be overwritten."""


class CorruptKeyFileError(HomeKeyError):
    """The key file is unreadable, incomplete, or was changed."""


class WrongPassphraseError(HomeKeyError):
    """The passphrase does not open the key file."""


class WrongRecoveryKeyError(HomeKeyError):
    """The recovery key does not open the key file."""


class MistypedRecoveryKeyError(HomeKeyError):
    """The text is not a recovery key (wrong length, letters, or checksum)."""


class WeakPassphraseError(HomeKeyError):
    """A new passphrase too short to protect the home's footage."""


class TooManyAttemptsError(HomeKeyError):
    """Too many wrong passphrases or recovery keys; the next attempt must wait."""

    def __init__(self, retry_after: float) -> None:
        """Say how many seconds remain before the next attempt is accepted."""
        self.retry_after = retry_after
        super().__init__(
            _("too many wrong attempts: try again in {seconds} s").format(seconds=max(1, round(retry_after)))
        )


def check_new_passphrase(passphrase: str) -> None:
    """Refuse a passphrase that is too short to be a passphrase."""
    if len(_normalise(passphrase).strip()) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphraseError(
            _("a passphrase needs at least {count} characters").format(count=MIN_PASSPHRASE_LENGTH)
        )


def format_recovery_key(secret: bytes) -> str:
    """Write a recovery secret as 14 groups of 4 base32 characters, the last 5 characters a checksum."""
    raw = secret + _recovery_checksum(secret)
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[index : index + RECOVERY_GROUP] for index in range(0, len(text), RECOVERY_GROUP))


def parse_recovery_key(text: str) -> bytes:
    """Read a recovery key as typed (any case, spaces or dashes) and return its secret."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(_RECOVERY_LOOKALIKES)
    try:
        raw = base64.b32decode(cleaned)
    except (binascii.Error, ValueError):
        raise MistypedRecoveryKeyError(_("that is not a recovery key: check for typing mistakes")) from None
    secret, check = raw[:RECOVERY_SECRET_SIZE], raw[RECOVERY_SECRET_SIZE:]
    if len(raw) != RECOVERY_SECRET_SIZE + RECOVERY_CHECK_SIZE or check != _recovery_checksum(secret):
        raise MistypedRecoveryKeyError(_("that is not a recovery key: check for typing mistakes"))
    return secret


def _recovery_checksum(secret: bytes) -> bytes:
    return hashlib.sha256(b"homewarden recovery key check\x00" + secret).digest()[:RECOVERY_CHECK_SIZE]


def _normalise(passphrase: str) -> str:
    # The same passphrase typed on another keyboard or system may arrive in another Unicode form.
    return unicodedata.normalize("NFC", passphrase)


def derive_passphrase_key(passphrase: str, salt: bytes, parameters: Argon2Parameters) -> bytes:
    """Derive a 32-byte key from a passphrase with Argon2id."""
    return hash_secret_raw(
        _normalise(passphrase).encode("utf-8"),
        salt,
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_cost_kib,
        parallelism=parameters.parallelism,
        hash_len=WRAPPING_KEY_SIZE,
        type=Type.ID,
    )


def derive_recovery_key(secret: bytes, salt: bytes) -> bytes:
    """Derive a 32-byte key from the recovery secret (already 256 random bits, so HKDF suffices)."""
    return HKDF(algorithm=hashes.SHA256(), length=WRAPPING_KEY_SIZE, salt=salt, info=b"homewarden recovery v1").derive(
        secret
    )


@dataclass(frozen=True)
class _Wrap:
    """A key-wrapping key encrypted under a derived key."""

    salt: bytes
    nonce: bytes
    ciphertext: bytes
    argon2: Argon2Parameters | None = None


@dataclass(frozen=True)
class _StoredHomeKey:
    """One home key pair, the private half encrypted under the key-wrapping key."""

    public: HomePublicKey
    created_at: str
    nonce: bytes
    encrypted_private_key: bytes


@dataclass(frozen=True)
class _KeyFileContents:
    home_id: bytes
    passphrase: _Wrap
    recovery: _Wrap
    home_keys: tuple[_StoredHomeKey, ...]


class DataKeyResealer(Protocol):
    """What a rotation needs from the media store: re-seal data keys, and count those not yet re-sealed."""

    def reseal(self, keyring: Keyring, recipient: HomePublicKey) -> int:
        """Re-seal every data key not sealed to ``recipient``; return how many were re-sealed."""

    def count_sealed_to(self, key_ids: set[str]) -> int:
        """Return how many data keys are sealed to one of ``key_ids``."""


@dataclass
class RotationReport:
    """What a rotation did."""

    new_key_id: str
    retired_key_ids: list[str]
    resealed: int
    resumed: bool


class AttemptLimiter:
    """Count wrong secrets in a file beside the key file, so restarting a process does not reset the count."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        """Keep the count in ``path``; ``clock`` returns Unix seconds."""
        self.path = path
        self._clock = clock

    def begin_attempt(self) -> None:
        """Refuse an attempt during a wait; otherwise count it as failed until ``succeeded`` is called.

        Counting before the slow key derivation means killing the process mid-attempt does not skip the count.
        """
        failures, last = self._read()
        wait = self.wait_after(failures) - (self._clock() - last)
        if wait > 0:
            raise TooManyAttemptsError(wait)
        self._write(failures + 1, self._clock())

    def succeeded(self) -> None:
        """Clear the count after a right secret."""
        self.path.unlink(missing_ok=True)

    @staticmethod
    def wait_after(failures: int) -> float:
        """Return how long to wait after ``failures`` wrong attempts in a row."""
        if failures < FREE_ATTEMPTS:
            return 0.0
        return min(FIRST_WAIT_SECONDS * 2.0 ** (failures - FREE_ATTEMPTS), LONGEST_WAIT_SECONDS)

    def _read(self) -> tuple[int, float]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
            return int(state["failures"]), float(state["last_attempt"])
        except FileNotFoundError:
            return 0, 0.0
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged count must not unlock unlimited guessing: treat it as the free attempts used up.
            log.warning("attempt count %s is unreadable; counting it as used up", self.path)
            self._write(FREE_ATTEMPTS, self._clock())
            return FREE_ATTEMPTS, self._clock()

    def _write(self, failures: int, last_attempt: float) -> None:
        write_private_file(self.path, json.dumps({"failures": failures, "last_attempt": last_attempt}).encode())


class HomeKeyFile:
    """The home's key file and the operations on it: create, unlock, change passphrase, recover, rotate."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        """Use the key file at ``path``, its attempt count and lock file beside it."""
        self.path = path
        self.attempts = AttemptLimiter(path.with_name(path.stem + ".attempts.json"), clock)
        self.lock_path = path.with_name(path.stem + ".lock")
        self._cached: tuple[tuple[int, int, int], HomePublicKey] | None = None

    @classmethod
    def in_folder(cls, folder: Path) -> HomeKeyFile:
        """Return the key file of the storage folder ``folder``."""
        return cls(folder / KEY_FILE_NAME)

    def exists(self) -> bool:
        """Tell whether the key file exists."""
        return self.path.exists()

    def create(self, passphrase: str, argon2: Argon2Parameters = DEFAULT_ARGON2) -> str:
        """Create the home's first key pair; return the recovery key, which is shown once and never stored."""
        check_new_passphrase(passphrase)
        argon2.check()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._exclusive_lock():
            if self.path.exists():
                raise HomeKeyExistsError(
                    _("{path} exists already; use `homewarden keys rotate` for a new key").format(path=self.path)
                )
            wrapping_key = os.urandom(WRAPPING_KEY_SIZE)
            home_id = os.urandom(16)
            recovery_secret = os.urandom(RECOVERY_SECRET_SIZE)
            contents = _KeyFileContents(
                home_id=home_id,
                passphrase=_wrap_with_passphrase(wrapping_key, passphrase, argon2, home_id),
                recovery=_wrap_with_recovery(wrapping_key, recovery_secret, home_id),
                home_keys=(_store_home_key(PrivateKey.generate(), wrapping_key, home_id),),
            )
            write_private_file(self.path, _serialise(contents))
        self.attempts.succeeded()
        log.info("created home key %s in %s", contents.home_keys[0].public.key_id, self.path)
        return format_recovery_key(recovery_secret)

    def public_key(self) -> HomePublicKey:
        """Return the current home public key (no secret needed), re-reading the file only when it changed."""
        try:
            status = self.path.stat()
        except FileNotFoundError:
            raise NoHomeKeyError(_("no home key in {folder}").format(folder=self.path.parent)) from None
        fingerprint = (status.st_ino, status.st_mtime_ns, status.st_size)
        if self._cached is None or self._cached[0] != fingerprint:
            self._cached = (fingerprint, self._read().home_keys[0].public)
        return self._cached[1]

    @contextlib.contextmanager
    def sealing(self) -> Iterator[HomePublicKey]:
        """Hold off a rotation's key swap while a data key is sealed to the current public key."""
        with self._lock(fcntl.LOCK_SH):
            yield self.public_key()

    def unlock(self, passphrase: str) -> Keyring:
        """Open every home private key with the passphrase; wrong guesses are counted and rate-limited."""
        contents = self._read()
        self.attempts.begin_attempt()
        wrapping_key = _unwrap_with_passphrase(contents, passphrase)
        self.attempts.succeeded()
        return _open_home_keys(contents, wrapping_key, self.path)

    def unlock_with_recovery_key(self, recovery_key: str) -> Keyring:
        """Open every home private key with the recovery key (counted like passphrases)."""
        contents = self._read()
        secret = parse_recovery_key(recovery_key)
        self.attempts.begin_attempt()
        wrapping_key = _unwrap_with_recovery(contents, secret)
        self.attempts.succeeded()
        return _open_home_keys(contents, wrapping_key, self.path)

    def change_passphrase(
        self, old_passphrase: str, new_passphrase: str, argon2: Argon2Parameters = DEFAULT_ARGON2
    ) -> None:
        """Re-wrap the key-wrapping key under a new passphrase; the recovery key keeps working."""
        check_new_passphrase(new_passphrase)
        contents = self._read()
        self.attempts.begin_attempt()
        wrapping_key = _unwrap_with_passphrase(contents, old_passphrase)
        self.attempts.succeeded()
        _open_home_keys(contents, wrapping_key, self.path)
        self._replace_passphrase(wrapping_key, new_passphrase, argon2)

    def recover(self, recovery_key: str, new_passphrase: str, argon2: Argon2Parameters = DEFAULT_ARGON2) -> None:
        """Set a new passphrase with the recovery key (the old passphrase is forgotten)."""
        check_new_passphrase(new_passphrase)
        contents = self._read()
        secret = parse_recovery_key(recovery_key)
        self.attempts.begin_attempt()
        wrapping_key = _unwrap_with_recovery(contents, secret)
        self.attempts.succeeded()
        _open_home_keys(contents, wrapping_key, self.path)
        self._replace_passphrase(wrapping_key, new_passphrase, argon2)

    def rotate(
        self,
        passphrase: str,
        resealer: DataKeyResealer,
        show_recovery_key: Callable[[str], None],
        argon2: Argon2Parameters = DEFAULT_ARGON2,
    ) -> RotationReport:
        """Make a new home key (and recovery key), re-seal every data key to it, then forget the old keys.

        Media is not re-encrypted: only the small sealed data keys change. ``show_recovery_key`` is called as
        soon as the new key file is on disk, before the re-sealing, which may take a while.
        """
        contents = self._read()
        self.attempts.begin_attempt()
        wrapping_key = _unwrap_with_passphrase(contents, passphrase)
        self.attempts.succeeded()
        keyring = _open_home_keys(contents, wrapping_key, self.path)
        resumed = len(contents.home_keys) > 1
        if not resumed:
            keyring, contents = self._start_rotation(keyring, passphrase, argon2, show_recovery_key)
        current = contents.home_keys[0].public
        retired = {stored.public.key_id for stored in contents.home_keys[1:]}
        resealed = resealer.reseal(keyring, current)
        with self._exclusive_lock():
            # New data keys are sealed to the current key under the shared lock, so once this exclusive lock is
            # held no data key can still be in flight to a retired one.
            resealed += resealer.reseal(keyring, current) if resealer.count_sealed_to(retired) else 0
            latest = self._read()
            write_private_file(self.path, _serialise(replace(latest, home_keys=latest.home_keys[:1])))
        log.info("home key rotated to %s; retired %s", current.key_id, ", ".join(sorted(retired)))
        return RotationReport(current.key_id, sorted(retired), resealed, resumed)

    def destroy(self) -> None:
        """Overwrite and delete the key file: every data key sealed to it can never be opened again."""
        with self._exclusive_lock():
            with contextlib.suppress(FileNotFoundError), self.path.open("r+b") as file:
                file.write(bytes(os.fstat(file.fileno()).st_size))
                file.flush()
                os.fsync(file.fileno())
            self.path.unlink(missing_ok=True)
        self.attempts.succeeded()
        self._cached = None

    def _start_rotation(
        self,
        keyring: Keyring,
        passphrase: str,
        argon2: Argon2Parameters,
        show_recovery_key: Callable[[str], None],
    ) -> tuple[Keyring, _KeyFileContents]:
        new_key = PrivateKey.generate()
        old_keys = keyring.private_keys()
        # A rotation replaces the key-wrapping key and the recovery key too: whoever learned the old ones
        # cannot open the new key file.
        wrapping_key = os.urandom(WRAPPING_KEY_SIZE)
        recovery_secret = os.urandom(RECOVERY_SECRET_SIZE)
        with self._exclusive_lock():
            home_id = self._read().home_id
            contents = _KeyFileContents(
                home_id=home_id,
                passphrase=_wrap_with_passphrase(wrapping_key, passphrase, argon2, home_id),
                recovery=_wrap_with_recovery(wrapping_key, recovery_secret, home_id),
                home_keys=tuple(_store_home_key(key, wrapping_key, home_id) for key in [new_key, *old_keys]),
            )
            write_private_file(self.path, _serialise(contents))
        show_recovery_key(format_recovery_key(recovery_secret))
        return Keyring([new_key, *old_keys]), contents

    def _replace_passphrase(self, wrapping_key: bytes, new_passphrase: str, argon2: Argon2Parameters) -> None:
        argon2.check()
        with self._exclusive_lock():
            latest = self._read()
            wrap = _wrap_with_passphrase(wrapping_key, new_passphrase, argon2, latest.home_id)
            write_private_file(self.path, _serialise(replace(latest, passphrase=wrap)))

    def _read(self) -> _KeyFileContents:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            raise NoHomeKeyError(_("no home key in {folder}").format(folder=self.path.parent)) from None
        except OSError as exc:
            raise CorruptKeyFileError(
                _("cannot read home key file {path}: {problem}").format(path=self.path, problem=exc.strerror or exc)
            ) from None
        return _parse(text, self.path)

    def _exclusive_lock(self) -> contextlib.AbstractContextManager[None]:
        return self._lock(fcntl.LOCK_EX)

    @contextlib.contextmanager
    def _lock(self, operation: int) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, operation)
            yield
        finally:
            os.close(descriptor)


def _wrap_aad(home_id: bytes, purpose: bytes) -> bytes:
    return b"homewarden key file v1\x00" + purpose + b"\x00" + home_id


def _wrap_with_passphrase(wrapping_key: bytes, passphrase: str, argon2: Argon2Parameters, home_id: bytes) -> _Wrap:
    salt, nonce = os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE)
    derived = derive_passphrase_key(passphrase, salt, argon2)
    ciphertext = AESGCM(derived).encrypt(nonce, wrapping_key, _wrap_aad(home_id, b"passphrase"))
    return _Wrap(salt, nonce, ciphertext, argon2)


def _wrap_with_recovery(wrapping_key: bytes, secret: bytes, home_id: bytes) -> _Wrap:
    salt, nonce = os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE)
    derived = derive_recovery_key(secret, salt)
    return _Wrap(salt, nonce, AESGCM(derived).encrypt(nonce, wrapping_key, _wrap_aad(home_id, b"recovery")))


def _unwrap_with_passphrase(contents: _KeyFileContents, passphrase: str) -> bytes:
    wrap = contents.passphrase
    assert wrap.argon2 is not None
    derived = derive_passphrase_key(passphrase, wrap.salt, wrap.argon2)
    try:
        return AESGCM(derived).decrypt(wrap.nonce, wrap.ciphertext, _wrap_aad(contents.home_id, b"passphrase"))
    except InvalidTag:
        raise WrongPassphraseError(_("wrong passphrase")) from None


def _unwrap_with_recovery(contents: _KeyFileContents, secret: bytes) -> bytes:
    wrap = contents.recovery
    derived = derive_recovery_key(secret, wrap.salt)
    try:
        return AESGCM(derived).decrypt(wrap.nonce, wrap.ciphertext, _wrap_aad(contents.home_id, b"recovery"))
    except InvalidTag:
        raise WrongRecoveryKeyError(_("that recovery key does not belong to this home key")) from None


def _home_key_aad(home_id: bytes, public: HomePublicKey) -> bytes:
    return _wrap_aad(home_id, b"home key") + public.public_key


def _store_home_key(private_key: PrivateKey, wrapping_key: bytes, home_id: bytes) -> _StoredHomeKey:
    public = HomePublicKey.from_bytes(bytes(private_key.public_key))
    nonce = os.urandom(NONCE_SIZE)
    encrypted = AESGCM(wrapping_key).encrypt(nonce, bytes(private_key), _home_key_aad(home_id, public))
    return _StoredHomeKey(public, datetime.now(UTC).isoformat(timespec="seconds"), nonce, encrypted)


def _open_home_keys(contents: _KeyFileContents, wrapping_key: bytes, path: Path) -> Keyring:
    private_keys = []
    for stored in contents.home_keys:
        try:
            raw = AESGCM(wrapping_key).decrypt(
                stored.nonce, stored.encrypted_private_key, _home_key_aad(contents.home_id, stored.public)
            )
        except InvalidTag:
            raise CorruptKeyFileError(
                _("home key file {path} was changed: key {key}").format(path=path, key=stored.public.key_id)
            ) from None
        private_key = PrivateKey(raw)
        if bytes(private_key.public_key) != stored.public.public_key:
            raise CorruptKeyFileError(
                _("home key file {path} was changed: key {key}").format(path=path, key=stored.public.key_id)
            )
        private_keys.append(private_key)
    return Keyring(private_keys)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _serialise(contents: _KeyFileContents) -> bytes:
    argon2 = contents.passphrase.argon2
    assert argon2 is not None
    document = {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "home_id": contents.home_id.hex(),
        "passphrase": {
            "kdf": "argon2id",
            "argon2_version": 19,
            "time_cost": argon2.time_cost,
            "memory_cost_kib": argon2.memory_cost_kib,
            "parallelism": argon2.parallelism,
            "salt": _b64(contents.passphrase.salt),
            "nonce": _b64(contents.passphrase.nonce),
            "wrapped_key": _b64(contents.passphrase.ciphertext),
        },
        "recovery": {
            "kdf": "hkdf-sha256",
            "salt": _b64(contents.recovery.salt),
            "nonce": _b64(contents.recovery.nonce),
            "wrapped_key": _b64(contents.recovery.ciphertext),
        },
        "home_keys": [
            {
                "key_id": stored.public.key_id,
                "public_key": _b64(stored.public.public_key),
                "created_at": stored.created_at,
                "nonce": _b64(stored.nonce),
                "private_key": _b64(stored.encrypted_private_key),
            }
            for stored in contents.home_keys
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


@dataclass
class _Reader:
    """Pull typed fields out of the parsed key file, naming the first missing or malformed one."""

    path: Path
    where: list[str] = field(default_factory=list)

    def fail(self, what: str) -> CorruptKeyFileError:
        location = ".".join(self.where) or "top level"
        return CorruptKeyFileError(
            _("home key file {path} is corrupt ({location}: {what})").format(
                path=self.path, location=location, what=what
            )
        )

    def value(self, mapping: Any, name: str, kind: type) -> Any:
        if not isinstance(mapping, dict) or name not in mapping:
            raise self.fail(f"missing {name!r}")
        found = mapping[name]
        if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
            raise self.fail(f"{name!r} has the wrong type")
        return found

    def data(self, mapping: Any, name: str, size: int | None = None) -> bytes:
        text = self.value(mapping, name, str)
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise self.fail(f"{name!r} is not base64") from None
        if size is not None and len(decoded) != size:
            raise self.fail(f"{name!r} has the wrong length")
        return decoded


def _parse(text: bytes, path: Path) -> _KeyFileContents:
    reader = _Reader(path)
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise reader.fail("not JSON") from None
    if reader.value(document, "format", str) != KEY_FILE_FORMAT:
        raise reader.fail("not a Homewarden home key file")
    if reader.value(document, "version", int) != KEY_FILE_VERSION:
        raise reader.fail("written by another version of Homewarden")
    try:
        home_id = bytes.fromhex(reader.value(document, "home_id", str))
    except ValueError:
        raise reader.fail("'home_id' is not hex") from None

    reader.where = ["passphrase"]
    passphrase = reader.value(document, "passphrase", dict)
    if reader.value(passphrase, "kdf", str) != "argon2id" or reader.value(passphrase, "argon2_version", int) != 19:
        raise reader.fail("unknown key derivation")
    argon2 = Argon2Parameters(
        reader.value(passphrase, "time_cost", int),
        reader.value(passphrase, "memory_cost_kib", int),
        reader.value(passphrase, "parallelism", int),
    )
    try:
        argon2.check()
    except ValueError:
        raise reader.fail("Argon2 parameters out of range") from None
    passphrase_wrap = _Wrap(
        reader.data(passphrase, "salt", SALT_SIZE),
        reader.data(passphrase, "nonce", NONCE_SIZE),
        reader.data(passphrase, "wrapped_key", WRAPPING_KEY_SIZE + 16),
        argon2,
    )

    reader.where = ["recovery"]
    recovery = reader.value(document, "recovery", dict)
    if reader.value(recovery, "kdf", str) != "hkdf-sha256":
        raise reader.fail("unknown key derivation")
    recovery_wrap = _Wrap(
        reader.data(recovery, "salt", SALT_SIZE),
        reader.data(recovery, "nonce", NONCE_SIZE),
        reader.data(recovery, "wrapped_key", WRAPPING_KEY_SIZE + 16),
    )

    reader.where = ["home_keys"]
    entries = reader.value(document, "home_keys", list)
    if not entries:
        raise reader.fail("no home key")
    home_keys = []
    for index, entry in enumerate(entries):
        reader.where = ["home_keys", str(index)]
        public = HomePublicKey.from_bytes(reader.data(entry, "public_key", PublicKey.SIZE))
        if reader.value(entry, "key_id", str) != key_id_for(public.public_key):
            raise reader.fail("'key_id' does not match the public key")
        home_keys.append(
            _StoredHomeKey(
                public,
                reader.value(entry, "created_at", str),
                reader.data(entry, "nonce", NONCE_SIZE),
                reader.data(entry, "private_key", PrivateKey.SIZE + 16),
            )
        )
    return _KeyFileContents(home_id, passphrase_wrap, recovery_wrap, tuple(home_keys))


def write_private_file(path: Path, data: bytes) -> None:
    """Write a small file readable by its owner only, whole or not at all."""
    write_durably(path, [data])


def init_command_hint(config_path: Path | None) -> str:
    """Return the command that creates the home key for this config."""
    return "homewarden keys init" + (f" --config {config_path}" if config_path else "")
