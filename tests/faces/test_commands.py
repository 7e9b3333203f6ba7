"""`homewarden faces ...` as a user runs it, on the shared photos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_config
from faces.conftest import PROBES
from homewarden.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_enrol_list_identify_remove(tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(write_config(tmp_path))
    enroll = faces_folder / "enroll"
    for member in ("obama", "biden"):
        photos = [str(photo) for photo in sorted((enroll / member).glob("*.jpg"))]
        code, out, _ = run(capsys, "faces", "enroll", member, *photos, "--config", config)
        assert (code, out) == (0, f"enrolled {member}: 2 photo(s) added, 2 in all\n")

    code, out, _ = run(capsys, "faces", "list", "--config", config)
    assert out.splitlines() == [
        "biden: 2 photo(s) (biden.jpg, biden2.jpg)",
        "obama: 2 photo(s) (obama.jpg, obama2.jpg)",
    ]

    code, out, _ = run(
        capsys, "faces", "identify", str(faces_folder / "probe" / "obama_and_biden.jpg"), "--json", "--config", config
    )
    faces = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [face["name"] for face in faces] == ["biden", "obama", "unknown"]  # left to right
    for face in faces:
        assert set(face) == {"photo", "box", "name", "distance"}
        assert face["photo"].endswith("obama_and_biden.jpg")
        assert len(face["box"]) == 4
    assert faces[0]["distance"] < 0.55 < faces[2]["distance"]

    code, out, _ = run(capsys, "faces", "remove", "obama", "--config", config)
    assert (code, out) == (0, "removed obama and 2 face embedding(s)\n")
    code, out, _ = run(capsys, "faces", "list", "--json", "--config", config)
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["biden"]
    code, out, _ = run(
        capsys, "faces", "identify", str(faces_folder / "probe" / "obama1.jpg"), "--json", "--config", config
    )
    assert json.loads(out)["name"] == "unknown"


def test_identify_with_a_one_run_household(faces_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probes = [str(faces_folder / "probe" / name) for name in sorted(PROBES)]

    code, out, _ = run(capsys, "faces", "identify", *probes, "--faces", str(faces_folder / "enroll"), "--json")

    assert code == 0
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        face = json.loads(line)
        found.setdefault(Path(face["photo"]).name, []).append(face["name"])
    assert {name: sorted(names) for name, names in found.items()} == PROBES


def test_enrolment_refusals_name_the_photo_and_store_nothing(
    tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    good = str(faces_folder / "enroll" / "obama" / "obama.jpg")
    group = str(faces_folder / "probe" / "obama_and_biden.jpg")

    code, out, err = run(capsys, "faces", "enroll", "obama", good, group, "--config", config)

    assert (code, out) == (2, "")
    assert err == f"homewarden: error: {group}: 3 faces found; use a photo that shows only this member\n"
    code, out, _ = run(capsys, "faces", "list", "--config", config)
    assert out == "no members enrolled\n"


def test_removing_a_stranger_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "faces", "remove", "nobody", "--config", str(write_config(tmp_path)))

    assert (code, err) == (2, "homewarden: error: no member named 'nobody'; nothing was removed\n")
