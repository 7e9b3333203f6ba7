"""`homewarden faces ...` as a user runs it, on the real photos in tests/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from conftest import TEST_PASSPHRASE, error_lines, init_home_key, media_file, write_config
from faces.conftest import PROBES
from homewarden.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, "".join(f"{line}\n" for line in error_lines(captured.err))


def test_enrol_list_identify_remove(tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(write_config(tmp_path))
    init_home_key(tmp_path)
    enroll = faces_folder / "enroll"
    for member in ("obama", "biden"):
        photos = [str(photo) for photo in sorted((enroll / member).glob("*.jpg"))]
        code, out, _ = run(capsys, "faces", "enroll", member, *photos, "--config", config)
        assert (code, out) == (0, f"enrolled {member}: 2 photos added, 2 in all\n")

    code, out, _ = run(capsys, "faces", "list", "--config", config)
    assert out.splitlines() == [
        "biden: 2 photos (biden.jpg, biden2.jpg)",
        "obama: 2 photos (obama.jpg, obama2.jpg)",
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
    assert (code, out) == (0, "removed obama and 2 face embeddings\n")
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


def enrol(capsys: pytest.CaptureFixture[str], faces_folder: Path, config: str, *members: str) -> None:
    for member in members:
        photos = [str(photo) for photo in sorted((faces_folder / "enroll" / member).glob("*.jpg"))]
        code, _, err = run(capsys, "faces", "enroll", member, *photos, "--config", config)
        assert code == 0, err


def test_enrolment_before_the_home_key_says_to_create_it(
    tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    photo = str(faces_folder / "enroll" / "obama" / "obama.jpg")

    code, _, err = run(capsys, "faces", "enroll", "obama", photo, "--config", config)

    assert code == 2
    assert err.endswith(f"run `homewarden keys init --config {config}` first (you choose the passphrase)\n")
    assert err.count("\n") == 1


def test_a_lost_gallery_key_stops_with_one_line_and_the_passphrase_restores_it(
    tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(write_config(tmp_path))
    init_home_key(tmp_path)
    enrol(capsys, faces_folder, config, "obama")
    key_path = tmp_path / "data" / "gallery-key.bin"
    key_path.unlink()
    probe = str(faces_folder / "probe" / "obama1.jpg")

    code, out, err = run(capsys, "faces", "identify", probe, "--json", "--config", config)

    assert (code, out) == (2, "")
    assert err == (
        f"homewarden: error: the face gallery key {key_path} is missing, but 2 face embeddings are encrypted with "
        f"it: restore it with `homewarden keys unlock --config {config}` (needs the passphrase), or remove the "
        "members and enrol them again\n"
    )
    video = str(media_file("video/face-demographics-walking.gif"))
    code, out, err = run(capsys, "analyze", video, "--json", "--quiet", "--config", config)
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "face gallery key" in err

    monkeypatch.setenv("HOMEWARDEN_PASSPHRASE", TEST_PASSPHRASE)
    code, out, err = run(capsys, "keys", "unlock", "--config", config)
    assert code == 0, err
    assert f"restored the face gallery key {key_path}" in out
    code, out, _ = run(capsys, "faces", "identify", probe, "--json", "--config", config)
    assert (code, json.loads(out)["name"]) == (0, "obama")


def test_rotating_the_home_key_keeps_the_gallery_restorable(
    tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(write_config(tmp_path))
    monkeypatch.setenv("HOMEWARDEN_PASSPHRASE", TEST_PASSPHRASE)
    assert run(capsys, "keys", "init", "--config", config)[0] == 0
    assert (tmp_path / "data" / "gallery-key.bin").exists()
    enrol(capsys, faces_folder, config, "obama")

    code, out, err = run(capsys, "keys", "rotate", "--config", config)
    assert code == 0, err
    assert "re-sealed 1 data key(s)" in out
    (tmp_path / "data" / "gallery-key.bin").unlink()
    assert run(capsys, "keys", "unlock", "--config", config)[0] == 0

    code, out, _ = run(
        capsys, "faces", "identify", str(faces_folder / "probe" / "obama1.jpg"), "--json", "--config", config
    )
    assert (code, json.loads(out)["name"]) == (0, "obama")


@pytest.mark.parametrize("keep_key", [False, True], ids=["everything", "keep-key"])
def test_deleting_everything_deletes_every_member_and_the_gallery_key(
    tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str], keep_key: bool
) -> None:
    config = str(write_config(tmp_path))
    init_home_key(tmp_path)
    enrol(capsys, faces_folder, config, "obama", "biden")

    code, out, err = run(
        capsys, "storage", "delete", "--everything", "--yes", *(["--keep-key"] if keep_key else []), "--config", config
    )

    assert code == 0, err
    assert "deleted 2 household members and destroyed the face gallery key" in out
    data = tmp_path / "data"
    assert not (data / "gallery-key.bin").exists()
    assert not (data / "gallery-key.sealed").exists()
    assert (data / "home-key.json").exists() == keep_key
    engine = create_engine(f"sqlite:///{data / 'homewarden.db'}")
    try:
        with engine.connect() as connection:
            for table in ("face_member", "face_embedding"):
                assert connection.execute(text(f"select count(*) from {table}")).scalar_one() == 0
    finally:
        engine.dispose()
    if keep_key:
        # The home key stays, so enrolling again makes a new gallery key.
        enrol(capsys, faces_folder, config, "obama")
        assert (data / "gallery-key.bin").exists()


def test_a_one_run_household_writes_nothing(
    tmp_path: Path, faces_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path))
    before = sorted(tmp_path.rglob("*"))

    code, out, _ = run(
        capsys,
        "faces",
        "identify",
        str(faces_folder / "probe" / "obama1.jpg"),
        "--faces",
        str(faces_folder / "enroll"),
        "--json",
        "--config",
        config,
    )

    assert (code, json.loads(out)["name"]) == (0, "obama")
    assert sorted(tmp_path.rglob("*")) == before
    assert not (tmp_path / "data").exists()
