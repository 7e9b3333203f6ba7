"""The lock (constraints.txt) pins every package pyproject.toml asks for, at a release its range allows."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _locked() -> dict[str, Version]:
    locked: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        locked[canonicalize_name(name)] = Version(version)
    return locked


def _asked_for() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(line) for line in [*project["dependencies"], *(r for group in extras.values() for r in group)]]


def test_every_requirement_is_locked_at_a_release_its_range_allows() -> None:
    locked = _locked()
    wrong = []
    for requirement in _asked_for():
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            wrong.append(f"{requirement.name}: not in constraints.txt (run `make lock`)")
        elif not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{requirement.name}: locked {version}, pyproject.toml asks for {requirement.specifier}")
    assert not wrong, "\n".join(wrong)


def test_the_lock_names_each_package_once() -> None:
    lines = [
        line for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    ]
    names = [canonicalize_name(line.partition("==")[0]) for line in lines]
    assert len(names) == len(set(names))
