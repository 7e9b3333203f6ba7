"""Change the YAML config file in place: comments and key order kept, validated before it is written, replaced whole."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RoundTripYAMLError

from homewarden.config.loader import ConfigError, describe_errors
from homewarden.config.model import HomewardenConfig
from homewarden.i18n import _

KeyPath = tuple[str | int, ...]
BACKUP_SUFFIX = ".bak"

# One lock per file within this process; a file lock beside the config serialises other processes (a second hub,
# the CLI) as well. Threads of one process share the flock's open file, so the flock alone would not hold them apart.
_process_locks: dict[Path, threading.Lock] = {}
_process_locks_guard = threading.Lock()


class _Removed:
    """The value of a change that removes its key."""


REMOVE = _Removed()


@dataclass(frozen=True)
class ConfigChange:
    """Set ``value`` at ``path`` (e.g. ("cameras", "front", "name")), or remove the key when ``value`` is REMOVE."""

    path: KeyPath
    value: Any


class ConfigChangeError(ConfigError):
    """A change that would make the config invalid; ``problems`` pairs each dotted key with its message."""

    def __init__(self, origin: str, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        described = (f"{key}: {message}" if key else message for key, message in problems)
        super().__init__(f"{origin}: " + "; ".join(described))


def _round_trip() -> YAML:
    parser = YAML(typ="rt")
    parser.preserve_quotes = True
    # Wide lines: a long RTSP URL or comment is kept on its line rather than folded.
    parser.width = 4096
    return parser


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold this process's lock and the file lock for ``path`` while a change is read, checked and written."""
    with _process_locks_guard:
        lock = _process_locks.setdefault(path, threading.Lock())
    with lock:
        lock_path = path.with_name(f".{path.name}.lock")
        try:
            handle = open(lock_path, "a+b")  # noqa: SIM115 - held across the yield, closed in finally
        except OSError as exc:
            raise ConfigError(
                _("{path}: cannot lock the config file for writing ({problem})").format(path=path, problem=exc.strerror)
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            handle.close()


class ConfigWriter:
    """Applies changes to one YAML config file."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

    def read(self) -> HomewardenConfig:
        """Return the file's config as it is now."""
        document = self._load()
        return self._validate(self._dump(document))

    def apply(self, changes: Sequence[ConfigChange]) -> HomewardenConfig:
        """Apply ``changes`` together and return the new config; nothing is written unless the result validates."""
        with _exclusive(self.path):
            document = self._load()
            for change in changes:
                _apply_one(document, change)
            text = self._dump(document)
            config = self._validate(text)
            self._replace(text)
            return config

    def _load(self) -> Any:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                _("{path}: no such config file; the hub was started without one").format(path=self.path)
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                _("{path}: cannot read config file ({problem})").format(path=self.path, problem=exc)
            ) from None
        try:
            document = _round_trip().load(text)
        except RoundTripYAMLError:
            raise ConfigError(_("{path}: not valid YAML; fix the file by hand first").format(path=self.path)) from None
        if document is None:
            return CommentedMap()
        if not isinstance(document, CommentedMap):
            raise ConfigError(_("{path}: the top level must be a mapping of sections").format(path=self.path))
        return document

    def _dump(self, document: Any) -> str:
        stream = io.StringIO()
        _round_trip().dump(document, stream)
        return stream.getvalue()

    def _validate(self, text: str) -> HomewardenConfig:
        # The text about to be written is what is checked, read back the way the hub reads it at start-up.
        data = yaml.safe_load(text) or {}
        try:
            return HomewardenConfig.model_validate(data)
        except ValidationError as exc:
            problems = [_key_and_message(line) for line in describe_errors(exc)]
            raise ConfigChangeError(str(self.path), problems) from None

    def _replace(self, text: str) -> None:
        """Write ``text`` to a temporary file beside the config, keep a backup, then rename it over the config."""
        folder = self.path.parent
        if not os.access(self.path, os.W_OK) or _read_only(self.path):
            raise ConfigError(
                _("{path}: the config file is read-only; settings cannot be saved").format(path=self.path)
            )
        try:
            descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise ConfigError(
                _("{path}: cannot write beside the config file ({problem})").format(
                    path=self.path, problem=exc.strerror
                )
            ) from None
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            shutil.copymode(self.path, temporary)
            backup = self.path.with_name(self.path.name + BACKUP_SUFFIX)
            shutil.copy2(self.path, backup)
            os.replace(temporary, self.path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise ConfigError(
                _("{path}: cannot save the config file ({problem})").format(path=self.path, problem=exc.strerror)
            ) from None
        directory = os.open(folder, os.O_RDONLY)
        try:
            # The rename is durable only once the folder's entry is on disk.
            os.fsync(directory)
        finally:
            os.close(directory)


def _read_only(path: Path) -> bool:
    """Return whether the file carries no write bit (root passes os.access regardless)."""
    try:
        return path.stat().st_mode & 0o222 == 0
    except OSError:
        return False


def _apply_one(document: CommentedMap, change: ConfigChange) -> None:
    """Set or remove one key, creating the mappings on the way."""
    if not change.path:
        raise ValueError("a change needs a key path")
    node: Any = document
    for depth, part in enumerate(change.path[:-1]):
        child = node.get(part) if isinstance(node, dict) else _item(node, part)
        if child is None:
            if isinstance(change.value, _Removed):
                return
            child = CommentedMap()
            if not isinstance(node, dict):
                raise ConfigChangeError("config", [(_dotted(change.path[: depth + 1]), "is not a mapping")])
            node[part] = child
        node = child
    last = change.path[-1]
    if isinstance(change.value, _Removed):
        if isinstance(node, dict):
            node.pop(last, None)
        return
    if isinstance(node, dict) or (isinstance(node, CommentedSeq) and isinstance(last, int)):
        node[last] = _styled(change.value)
    else:
        raise ConfigChangeError("config", [(_dotted(change.path[:-1]), "is not a mapping")])


def _key_and_message(line: str) -> tuple[str, str]:
    """Split a 'path.to.key: message' line from ``describe_errors``."""
    key, separator, message = line.partition(": ")
    return (key, message) if separator else ("", line)


def _styled(value: Any) -> Any:
    """Return a list of scalars in flow style ([x, y], [person, cat]), as people write them; other values as given."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, inner in value.items():
            mapping[key] = _styled(inner)
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq(_styled(inner) for inner in value)
        if all(not isinstance(inner, (list, dict)) for inner in value):
            sequence.fa.set_flow_style()
        return sequence
    return value


def _item(node: Any, part: str | int) -> Any:
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _dotted(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)
