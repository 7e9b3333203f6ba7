"""Read a YAML file whose top level is a mapping: the one reading both the hub's and the cloud's config share.

Each caller words the failure itself (the hub in the user's language, the cloud in its operators' English), so the
error carries why it failed and where, not a sentence.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import yaml


class Unreadable(Enum):
    """Why a YAML file could not be read as a mapping."""

    MISSING = "missing"
    CANNOT_READ = "cannot_read"
    NOT_YAML = "not_yaml"
    NOT_A_MAPPING = "not_a_mapping"


class YamlFileError(Exception):
    """A YAML file that is missing, unreadable, not YAML or not a mapping at its top level."""

    def __init__(
        self, path: Path, why: Unreadable, problem: str = "", line: int | None = None, column: int | None = None
    ) -> None:
        """Keep where and why (a line and column, counted from 1, when the YAML parser gave them)."""
        super().__init__(f"{path}: {why.value}")
        self.path = path
        self.why = why
        self.problem = problem
        self.line = line
        self.column = column


def read_mapping(path: Path) -> dict[str, Any]:
    """Return the mapping at the top of a YAML file ({} for an empty file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError(path, Unreadable.MISSING) from None
    except (OSError, UnicodeDecodeError) as error:
        raise YamlFileError(path, Unreadable.CANNOT_READ, str(error)) from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise YamlFileError(path, Unreadable.NOT_YAML, line=line, column=column) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise YamlFileError(path, Unreadable.NOT_A_MAPPING)
    return data
