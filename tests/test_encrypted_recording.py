"""End to end: what the hub records is sealed as it is written, only the owner can export it, deletion shreds it."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from conftest import TEST_PASSPHRASE, error_lines, media_file, read_sealed, write_config
from homewarden.cli import main
from homewarden.config.model import RecordConfig
from homewarden.store.blobs import LocalFolderBlobStore
from homewarden.store.keys import HomeKeyFile
from homewarden.store.sealed_media import SealedMediaFolder, open_hub_storage
from homewarden.store.vault import Vault
from homewarden.video.recorder import ClipRecorder
from homewarden.video.source import VideoSource
from video.synthetic import write_video

WINDOW = 48  # bytes of known content searched for; random ciphertext matches 48 given bytes with odds of 2^-384


def first_visit(folder: Path) -> Path:
    """Copy the first 20 s of the one-by-one footage (one person walks in at about 6.6 s), H.264 untouched."""
    source = media_file("video/one-by-one-person-detection.mp4")
    target = folder / "first-visit.mp4"
    with av.open(str(source)) as original, av.open(str(target), mode="w") as output:
        stream = original.streams.video[0]
        copy = output.add_stream_from_template(stream)
        for packet in original.demux(stream):
            if packet.dts is None:
                continue
            if float(packet.pts * stream.time_base) >= 20.0:
                break
            packet.stream = copy
            output.mux(packet)
    return target


def packet_windows(video: Path, start: float, end: float) -> list[bytes]:
    """Return a window from the middle of every sizeable H.264 packet between two times: the frames' own bytes."""
    windows = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is None or not start <= float(packet.pts * stream.time_base) < end:
                continue
            data = bytes(packet)
            if len(data) > 4 * WINDOW:
                windows.append(data[len(data) // 2 : len(data) // 2 + WINDOW])
    return windows


def stored_files(folder: Path) -> dict[Path, bytes]:
    """Return every file under the storage folder: media, data keys, key file, database and its journal."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, "".join(f"{line}\n" for line in error_lines(captured.err))


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOMEWARDEN_PASSPHRASE", TEST_PASSPHRASE)
    return TEST_PASSPHRASE


def test_run_refuses_to_record_before_the_home_has_a_key(tmp_path: Path) -> None:
    video = write_video(tmp_path / "short.mp4", seconds=2)
    config = write_config(tmp_path, f"cameras:\n  hall:\n    source: {video}\n")

    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert error_lines(result.stderr)[0].startswith("homewarden: error: no home key in")
    assert f"run `homewarden keys init --config {config}` first" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "media").exists()

    (tmp_path / "data" / "home-key.json").write_text('{"format": "homewarden-home-key", "version": 1}')
    damaged = subprocess.run(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert damaged.returncode == 2
    key_path = tmp_path / "data" / "home-key.json"
    expected = f"homewarden: error: home key file {key_path} is corrupt (top level: missing 'home_id')"
    assert error_lines(damaged.stderr) == [expected]


def test_keys_init_asks_for_no_default_and_reads_scripts_from_stdin(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    command = [sys.executable, "-m", "homewarden", "keys", "init", "--config", str(config)]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HOMEWARDEN_")}

    no_terminal = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=environment)
    assert no_terminal.returncode == 2
    assert "set HOMEWARDEN_PASSPHRASE or pass --passphrase-stdin" in no_terminal.stderr
    assert not (tmp_path / "data" / "home-key.json").exists()

    created = subprocess.run(
        [*command, "--passphrase-stdin"],
        input=f"{TEST_PASSPHRASE}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )
    assert created.returncode == 0, created.stderr
    assert "Recovery key (shown only this once" in created.stdout
    assert TEST_PASSPHRASE not in created.stdout + created.stderr
    unlock = subprocess.run(
        [sys.executable, "-m", "homewarden", "keys", "unlock", "--config", str(config), "--passphrase-stdin"],
        input="not the passphrase\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )
    assert (unlock.returncode, error_lines(unlock.stderr)) == (2, ["homewarden: error: wrong passphrase"])


@pytest.mark.slow
def test_analyze_keeps_only_sealed_footage_that_the_owner_exports_as_a_playable_mp4(
    tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    video = first_visit(tmp_path)
    config = write_config(tmp_path)
    code, out, _ = run_cli(["keys", "init", "--config", str(config)], capsys)
    assert code == 0
    recovery_key = out.split("\n\n    ")[1].split("\n")[0]

    code, out, err = run_cli(["analyze", str(video), "--json", "--quiet", "--config", str(config)], capsys)

    assert code == 0, err
    [event] = [json.loads(line) for line in out.splitlines()]
    assert event["label"] == "person"
    assert event["clip_error"] is None
    assert all(path.endswith(".mp4.sealed") for path in event["clips"])
    assert event["snapshot"].endswith(".jpg.sealed")

    code, out, err = run_cli(
        ["events", "export", event["id"], "--out", str(tmp_path / "export"), "--config", str(config)], capsys
    )
    assert code == 0, err
    exported = sorted((tmp_path / "export").iterdir())
    assert [path.name for path in exported] == [f"{event['id']}-1.mp4", f"{event['id']}.jpg"]
    clip, snapshot = (path.read_bytes() for path in exported)
    with av.open(io.BytesIO(clip)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in container.decode(video=0)) > 50
    assert snapshot.startswith(b"\xff\xd8\xff")
    assert clip[4:8] == b"ftyp"

    # Known content: the source's own H.264 packets (remuxed verbatim into the clip), the snapshot's JPEG bytes,
    # and the markers every plain MP4 and JPEG starts with.
    frames = packet_windows(video, 2.0, 20.0)
    present_in_export = [window for window in frames if window in clip]
    assert len(present_in_export) > 50  # the search finds plaintext where there is plaintext
    snapshot_windows = [snapshot[offset : offset + WINDOW] for offset in range(200, len(snapshot) - WINDOW, 997)]
    known = [*present_in_export, *snapshot_windows, clip[:WINDOW], snapshot[:WINDOW], b"ftypisom", b"JFIF\x00"]
    files = stored_files(tmp_path / "data")
    assert any(path.name == "homewarden.db" for path in files)
    for path, data in files.items():
        found = [window for window in known if window in data]
        assert not found, f"{path} holds plaintext"

    # The recovery key opens the same footage when the passphrase is forgotten.
    storage = open_hub_storage(tmp_path / "data")
    name = storage.media.object_name(Path(event["clips"][0]))
    assert name is not None
    assert storage.vault.read(name, storage.key_file.unlock_with_recovery_key(recovery_key)) == clip


@pytest.mark.slow
def test_deleting_an_event_shreds_it_and_deleting_everything_leaves_nothing(
    tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    video = media_file("video/face-demographics-walking.gif")
    config = write_config(tmp_path)
    assert run_cli(["keys", "init", "--config", str(config)], capsys)[0] == 0
    code, out, err = run_cli(["analyze", str(video), "--json", "--quiet", "--config", str(config)], capsys)
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) >= 2
    first, *others = events
    kept_copy = Path(first["clips"][0]).read_bytes()

    code, out, err = run_cli(["events", "delete", first["id"], "--config", str(config)], capsys)

    assert code == 0, err
    assert out.startswith(f"deleted event {first['id']}: 2 objects shredded")
    assert not Path(first["clips"][0]).exists()
    assert not Path(first["snapshot"]).exists()
    # Even the ciphertext put back from a backup cannot be opened: its sealed data key is gone.
    Path(first["clips"][0]).parent.mkdir(parents=True, exist_ok=True)
    Path(first["clips"][0]).write_bytes(kept_copy)
    with pytest.raises(Exception, match="deleted"):
        read_sealed(tmp_path, first["clips"][0])
    code, _, err = run_cli(
        ["events", "export", first["id"], "--out", str(tmp_path / "x"), "--config", str(config)], capsys
    )
    assert (code, err.strip()) == (2, f"homewarden: error: no event {first['id']}")
    assert read_sealed(tmp_path, others[0]["clips"][0])[4:8] == b"ftyp"

    code, out, err = run_cli(["storage", "delete", "--everything", "--yes", "--config", str(config)], capsys)

    assert code == 0, err
    assert "the home key is destroyed" in out
    leftovers = {path.name for path in (tmp_path / "data").rglob("*") if path.is_file()}
    # The audit log (in the database) and its checkpoint stay: they record the deletion itself and hold no footage.
    assert leftovers <= {
        "homewarden.db",
        "homewarden.db-wal",
        "homewarden.db-shm",
        "homewarden.db.migrate.lock",  # empty: only its flock matters (store/migration_lock.py)
        "home-key.lock",
        "audit-checkpoint.json",
    }
    code, out, _ = run_cli(["storage", "plan", "--config", str(config)], capsys)
    assert (code, out.count("  nothing")) == (0, 2)


class FullDiskBlobStore(LocalFolderBlobStore):
    """A local folder whose disk fills up once a blob passes ``room`` bytes."""

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        return super().put(name, self._until_full(chunks))

    def _until_full(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        written = 0
        for chunk in chunks:
            written += len(chunk)
            if written > self.room:
                raise OSError(errno.ENOSPC, "No space left on device")
            yield chunk


def record_one_event(media: SealedMediaFolder, video: Path) -> Any:
    """Play a file through a recorder and record one event from 1 s to 3 s."""
    source = VideoSource(str(video))
    info = source.open()
    recorder = ClipRecorder("front", RecordConfig(pre_roll=1, post_roll=1, max_clip=30), media, info, source.stream)
    started = False
    try:
        for packet, raw in source.packets():
            recorder.add(packet)
            for frame in source.decode(raw):
                at = source.frame_time(frame)
                if at >= 1.0 and not started:
                    recorder.start("event1", 1.0)
                    started = True
                if at >= 3.0:
                    recorder.stop("event1", 3.0)
        recorder.finish_all()
    finally:
        source.close()
    [finished] = recorder.take_finished()
    return finished


def test_a_disk_filling_up_while_a_clip_is_sealed_leaves_nothing_and_records_the_clip_error(
    tmp_path: Path,
) -> None:
    video = write_video(tmp_path / "source.mp4", seconds=6)
    key_file = HomeKeyFile(tmp_path / "data" / "home-key.json")
    key_file.create(TEST_PASSPHRASE)
    vault = Vault(
        FullDiskBlobStore(tmp_path / "data" / "media", room=4_000),
        LocalFolderBlobStore(tmp_path / "data" / "data-keys"),
        key_file,
    )
    media = SealedMediaFolder(tmp_path / "data" / "media", vault)

    finished = record_one_event(media, video)

    assert finished.clips == []
    assert finished.error is not None
    assert "No space left on device" in finished.error
    assert not [
        path
        for path in (tmp_path / "data").rglob("*")
        if path.is_file() and path.suffix in {".sealed", ".key", ".partial"}
    ]

    vault.objects = LocalFolderBlobStore(tmp_path / "data" / "media")
    recorded = record_one_event(media, video)
    assert recorded.error is None
    [clip] = recorded.clips
    name = media.object_name(Path(clip.path))
    assert name is not None
    with av.open(io.BytesIO(vault.read(name, key_file.unlock(TEST_PASSPHRASE)))) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 20


def test_analyze_before_the_home_has_a_key_is_a_plain_export_beside_the_user(tmp_path: Path) -> None:
    video = media_file("video/people-detection.gif")
    config = write_config(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "analyze", str(video), "--json", "--quiet", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "no home key yet, so clips and snapshots are written as plain files to homewarden-analysis/" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["label"] for event in events] == ["person"]
    clip = tmp_path / events[0]["clip"]
    assert clip.is_relative_to(tmp_path / "homewarden-analysis")
    assert clip.read_bytes()[4:8] == b"ftyp"  # an ordinary MP4 the user can open
    # The hub's own storage got no footage, plain or sealed.
    assert not (tmp_path / "data" / "media").exists()
