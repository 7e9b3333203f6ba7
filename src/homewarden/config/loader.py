"""Read a config file and turn validation failures into messages that name the key."""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from homewarden.config.model import CameraConfig, HomewardenConfig
from homewarden.config.wording import validation_message
from homewarden.config.yaml_file import Unreadable, YamlFileError, read_mapping
from homewarden.i18n import _


class ConfigError(Exception):
    """A config file that cannot be read or does not validate; the message is for the user."""


def load_config(path: Path) -> HomewardenConfig:
    """Read and validate a YAML config file."""
    try:
        data = read_mapping(path)
    except YamlFileError as error:
        raise ConfigError(unreadable_message(error)) from None
    return validate_config(data, origin=str(path))


def unreadable_message(error: YamlFileError) -> str:
    """Say in the user's language why a config file could not be read."""
    path = error.path
    if error.why is Unreadable.MISSING:
        return _("{path}: no such config file").format(path=path)
    if error.why is Unreadable.CANNOT_READ:
        return _("{path}: cannot read config file ({problem})").format(path=path, problem=error.problem)
    if error.why is Unreadable.NOT_YAML:
        if error.line is not None:
            where = _("{path}: not valid YAML at line {line}, column {column}")
            return where.format(path=path, line=error.line, column=error.column)
        return _("{path}: not valid YAML").format(path=path)
    return _("{path}: the top level must be a mapping of sections").format(path=path)


def validate_config(data: dict[str, Any], origin: str = "config") -> HomewardenConfig:
    """Validate a config mapping, reporting every problem with its key path."""
    try:
        return HomewardenConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: " + "; ".join(describe_errors(exc))) from None


def describe_errors(exc: ValidationError) -> list[str]:
    """Turn pydantic errors into 'path.to.key: message' lines."""
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        message = validation_message(error)
        if error["type"] == "extra_forbidden":
            message = _("unknown key") + did_you_mean(error["loc"])
        lines.append(f"{path}: {message}" if path else message)
    return lines


def did_you_mean(location: Sequence[int | str]) -> str:
    """Return ' (did you mean 'x'?)' for an unknown key close to one its level allows, else ''."""
    key = str(location[-1])
    allowed = allowed_keys(HomewardenConfig, location[:-1])
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return _(" (did you mean {key!r}?)").format(key=close[0]) if close else ""


def allowed_keys(model: type[BaseModel], location: Sequence[int | str]) -> list[str]:
    """Return the keys the mapping at ``location`` (a validation error's path, tags included) accepts."""
    candidates: list[Any] = [model]
    for part in location:
        candidates = [inner for candidate in candidates for inner in _step(candidate, part)]
    return sorted({name for candidate in candidates if _is_model(candidate) for name in candidate.model_fields})


def _step(annotation: Any, part: int | str) -> list[Any]:
    """Return the types found one step below ``annotation`` at ``part`` of an error's path."""
    if _is_model(annotation):
        field = annotation.model_fields.get(str(part))
        if field is not None:
            return _unwrap(field.annotation)
        # A discriminated union's errors name the tag (detector.nanodet.x): the step picks the tagged model.
        tag = annotation.model_fields.get("type")
        return [annotation] if tag is not None and part in get_args(tag.annotation) else []
    origin = get_origin(annotation)
    if origin in (list, tuple, set):
        return [inner for argument in get_args(annotation) for inner in _unwrap(argument)]
    if origin is dict:
        return _unwrap(get_args(annotation)[1])
    return []


def _unwrap(annotation: Any) -> list[Any]:
    """Return the alternatives of an annotation, without None or Annotated wrappers."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [inner for argument in get_args(annotation) for inner in _unwrap(argument)]
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    return [] if annotation is type(None) else [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def single_source_config(source: str, base: HomewardenConfig | None = None) -> tuple[HomewardenConfig, str]:
    """Return a config that analyses one source, and the camera name it uses."""
    config = base or HomewardenConfig()
    if config.cameras:
        name = next(iter(config.cameras))
        camera = config.cameras[name].model_copy(update={"source": source})
    else:
        name = "camera"
        camera = CameraConfig(source=source)
    return config.model_copy(update={"cameras": {name: camera}}), name
