"""tests/data holds exactly the media its README lists, byte for byte, each with its licence notice."""

from __future__ import annotations

import hashlib
import re

from conftest import TEST_DATA

LISTED = re.compile(r"^\| `(?P<path>[^`]+)` \|.*\| (?P<size>[\d,]+) \| `(?P<sha256>[0-9a-f]{64})` \|$", re.MULTILINE)
NOTES = {"README.md", "LICENSE"}


def listed_files() -> dict[str, tuple[int, str]]:
    """Return each file tests/data/README.md lists, with its size and SHA-256."""
    readme = (TEST_DATA / "README.md").read_text(encoding="utf-8")
    return {match["path"]: (int(match["size"].replace(",", "")), match["sha256"]) for match in LISTED.finditer(readme)}


def test_every_media_file_is_listed_with_its_checksum() -> None:
    listed = listed_files()
    present = sorted(
        str(path.relative_to(TEST_DATA)) for path in TEST_DATA.rglob("*") if path.is_file() and path.name not in NOTES
    )

    assert sorted(listed) == present
    for relative, (size, sha256) in listed.items():
        content = (TEST_DATA / relative).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (size, sha256), relative


def test_the_mit_notice_sits_beside_the_photos() -> None:
    notice = (TEST_DATA / "faces" / "LICENSE").read_text(encoding="utf-8")

    assert "MIT License" in notice
    assert "Copyright (c) 2021, Adam Geitgey" in notice


def test_the_apache_licence_sits_beside_the_excerpt() -> None:
    notice = (TEST_DATA / "real" / "LICENSE").read_text(encoding="utf-8")

    assert "Apache License" in notice
    assert "Version 2.0, January 2004" in notice


def test_the_apache_notice_sits_beside_the_aquarium() -> None:
    notice = (TEST_DATA / "aquarium" / "LICENSE").read_text(encoding="utf-8")

    assert "Apache License" in notice
    assert "Version 2.0, January 2004" in notice
    assert "awslabs/amazon-kinesis-video-streams-producer-c" in notice
