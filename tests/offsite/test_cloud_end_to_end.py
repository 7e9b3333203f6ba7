"""The hub's off-site copies against the real Homewarden Cloud (`homewarden cloud serve`, PostgreSQL, rclone's S3).

Pairing, an outage, a hub killed mid-upload, deletion, restore onto a fresh hub, and what an operator of the cloud
could read in its object store.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from conftest import TEST_PASSPHRASE
from homewarden.cli import main
from homewarden.config.model import OffsiteConfig
from homewarden.i18n import translate_stored, use_language
from homewarden.offsite.client import STORED_ERRORS, CloudClient, CloudRefusedError, NotPairedError
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.outbox import Outbox
from homewarden.offsite.sealing import KEY_FILE_OBJECT_ID, event_record_id, vault_object_body, vault_object_id
from homewarden.store.account_models import Home
from homewarden.store.crypto import DATA_KEY_MAGIC, MAGIC, SEALED_DATA_KEY_SIZE
from homewarden.store.deletion import delete_event, event_object_names
from homewarden.store.keys import HomeKeyFile
from homewarden.store.review_models import Donation
from offsite.conftest import Cloud, HubUnderTest, fake_mp4, open_hub
from waiting import wait_for

SOURCE = Path(__file__).resolve().parents[2] / "src"
TESTS = Path(__file__).resolve().parents[1]


def pair(hub: HubUnderTest, cloud: Cloud) -> str:
    """Pair the hub with a new household of the cloud; return the account's home id."""
    account = cloud.account()
    hub.sync.pair(cloud.url, account.pairing_code())
    return account.home_id


def client_of(hub: HubUnderTest) -> CloudClient:
    folder = OffsiteFolder(hub.folder)
    pairing = folder.pairing()
    assert pairing is not None
    return CloudClient(pairing, folder.device_key())


def cloud_objects(hub: HubUnderTest) -> dict[str, str]:
    """Return the home's objects in the cloud: id -> sha256."""
    client = client_of(hub)
    try:
        return {item.id: item.sha256 for item in client.all_objects()}
    finally:
        client.close()


def expected_objects(hub: HubUnderTest) -> dict[str, str]:
    """Return the cloud ids and bodies' SHA-256 of everything the hub keeps (event records: any hash)."""
    id_key = OffsiteFolder(hub.folder).object_id_key()
    assert id_key is not None
    vault = hub.storage.vault
    expected = {KEY_FILE_OBJECT_ID: hashlib.sha256(hub.storage.key_file.path.read_bytes()).hexdigest()}
    for record in hub.events.list_events(limit=1000):
        for name in event_object_names(hub.storage.media, record):
            expected[vault_object_id(id_key, name)] = hashlib.sha256(vault_object_body(vault, name)).hexdigest()
        expected[event_record_id(id_key, record.id)] = "record"
    return expected


def all_sent(hub: HubUnderTest) -> bool:
    counts = hub.sync.outbox.counts()
    return counts.waiting == 0 and counts.sent > 0


def assert_cloud_holds_exactly(hub: HubUnderTest, cloud: Cloud) -> None:
    expected = expected_objects(hub)
    held = cloud_objects(hub)
    assert set(held) == set(expected)
    for cloud_id, sha in expected.items():
        if sha != "record":
            assert held[cloud_id] == sha, f"{cloud_id} differs in the cloud"
    # Each object once in the bucket too: the cloud stores no duplicate of a retried upload.
    assert len(cloud.s3.keys(cloud.bucket)) == len(expected)


def test_pairing_on_the_command_line_then_unpairing_is_refused_by_the_cloud(hub: HubUnderTest, cloud: Cloud) -> None:
    account = cloud.account()
    config = hub.folder.parent / "hub.yaml"
    config.write_text(f"storage:\n  folder: {hub.folder}\n", encoding="utf-8")
    assert main(["cloud", "pair", cloud.url, account.pairing_code(), "--config", str(config)]) == 0
    folder = OffsiteFolder(hub.folder)
    pairing = folder.pairing()
    assert pairing is not None
    assert pairing.home_id == account.home_id
    assert oct(folder.device_key_path.stat().st_mode & 0o777) == "0o600"
    client = client_of(hub)
    assert client.home().home_id == account.home_id
    assert main(["cloud", "unpair", "--config", str(config)]) == 0
    assert folder.pairing() is None
    with pytest.raises(NotPairedError, match="not paired"):
        client.home()  # the old key is refused at once
    client.close()


def test_unpairing_on_the_command_line_with_a_withdrawal_the_cloud_cannot_take(
    hub: HubUnderTest, cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    config = hub.folder.parent / "hub.yaml"
    config.write_text(f"storage:\n  folder: {hub.folder}\n", encoding="utf-8")
    assert main(["cloud", "pair", cloud.url, cloud.account().pairing_code(), "--config", str(config)]) == 0
    # A donation the owner withdrew after it reached the cloud; its withdrawal waits in the outbox (rows as the
    # consent flow leaves them: preparing a real copy takes minutes and is tested in tests/offsite/test_review.py).
    donation_id = "d_withdrawn_while_offline"
    with Session(hub.events.engine) as session, session.begin():
        home = Home(name="home")
        session.add(home)
        session.flush()
        session.add(
            Donation(
                id=donation_id,
                home_id=home.id,
                event_id="e1",
                camera="front_door",
                label="person",
                status="withdrawn",
                mask_people=False,
                pseudonym="p_offline",
                retention_days=90,
                cloud_state="queued",
                sent_at=datetime.now(UTC),
            )
        )
    outbox = Outbox(OffsiteFolder(hub.folder).outbox_path)
    outbox.enqueue_withdrawal(donation_id)
    outbox.close()
    cloud.stop()
    capsys.readouterr()

    refused = main(["cloud", "unpair", "--config", str(config)])
    said = capsys.readouterr().err
    forced = main(["cloud", "unpair", "--force", "--config", str(config)])

    assert refused == 2
    assert f"not unpaired: 1 withdrawal of donated clips ({donation_id}) waits for the cloud" in said
    assert "homewarden cloud unpair --force" in said
    assert forced == 0
    assert "the cloud was not told" in capsys.readouterr().out
    assert OffsiteFolder(hub.folder).pairing() is None
    with Session(hub.events.engine) as session:
        row = session.get(Donation, donation_id)
        assert row is not None
        assert (row.cloud_state, row.withdrawal_confirmed_at) == ("unconfirmed", None)


def test_a_used_pairing_code_is_refused_with_the_clouds_words(hub: HubUnderTest, cloud: Cloud) -> None:
    account = cloud.account()
    code = account.pairing_code()
    hub.sync.pair(cloud.url, code)
    other = open_hub(hub.folder.parent / "other")
    try:
        with pytest.raises(CloudRefusedError, match="HTTP 4"):
            other.sync.pair(cloud.url, code)
        assert OffsiteFolder(other.folder).pairing() is None
    finally:
        other.events.close()


def test_every_object_arrives_once_across_a_cloud_outage(hub: HubUnderTest, cloud: Cloud) -> None:
    before = [hub.record(), hub.record(alarm=True)]  # recorded before pairing: the catch-up sends them
    pair(hub, cloud)
    hub.sync.start()
    wait_for(lambda: all_sent(hub), timeout=60, what="the first events off-site")

    # Measured, not asserted: an alarm clip's time from being saved to being in the cloud on a healthy link.
    started = time.monotonic()
    alarm = hub.record(alarm=True, clip=fake_mp4("latency", 2_000_000))
    id_key = OffsiteFolder(hub.folder).object_id_key()
    assert id_key is not None
    clip_id = vault_object_id(id_key, event_object_names(hub.storage.media, alarm)[0])
    wait_for(lambda: hub.sync.outbox.sent(clip_id) is not None, timeout=60, what="the alarm clip off-site")
    print(f"\nalarm clip (2 MB) off-site {time.monotonic() - started:.2f} s after its event was saved")

    cloud.stop()
    during = [hub.record(), hub.record(alarm=True), hub.record(camera="garden")]
    wait_for(lambda: hub.sync.outbox.state("last_error") is not None, timeout=30, what="the outage noticed")
    report = hub.sync.report()
    assert report.waiting >= 3
    assert "cannot reach the cloud" in (report.last_error or "")
    # Stored in English by the background sync; the storage page (GET /api/offsite) shows it in the reader's language.
    with use_language("de"):
        shown = translate_stored(report.last_error or "", STORED_ERRORS)
    assert ": die Cloud ist nicht erreichbar: " in shown, shown
    assert "refused" not in shown.split(":")[0], shown
    cloud.restart()
    hub.sync.wake()
    wait_for(lambda: all_sent(hub), timeout=90, what="the outbox drained after the outage")
    assert len(before + during) + 1 == hub.events.count_events()
    assert_cloud_holds_exactly(hub, cloud)


def test_deleting_an_event_deletes_it_in_the_cloud(hub: HubUnderTest, cloud: Cloud) -> None:
    pair(hub, cloud)
    kept, doomed = hub.record(), hub.record(alarm=True)
    hub.sync.start()
    wait_for(lambda: all_sent(hub), timeout=60, what="both events off-site")
    id_key = OffsiteFolder(hub.folder).object_id_key()
    assert id_key is not None
    doomed_ids = {event_record_id(id_key, doomed.id)} | {
        vault_object_id(id_key, name) for name in event_object_names(hub.storage.media, doomed)
    }
    assert doomed_ids <= set(cloud_objects(hub))
    delete_event(hub.events, hub.storage.media, doomed)  # what the web app, the CLI and retention all call
    wait_for(lambda: not doomed_ids & set(cloud_objects(hub)), timeout=60, what="the event gone from the cloud")
    assert event_record_id(id_key, kept.id) in cloud_objects(hub)
    assert_cloud_holds_exactly(hub, cloud)


@pytest.mark.slow
def test_a_hub_killed_mid_upload_resumes_where_it_was(hub: HubUnderTest, cloud: Cloud) -> None:
    pair(hub, cloud)
    clip = os.urandom(12 * 1024 * 1024)  # three parts of the cloud's 5 MiB minimum
    record = hub.record(clip=clip)
    hub.events.close()  # the worker process opens the database itself
    options = OffsiteConfig(bandwidth_limit=2 * 1024 * 1024, multipart_threshold=1024 * 1024)
    worker = start_worker(hub.folder, options.model_dump_json(exclude_defaults=True))
    outbox = Outbox(OffsiteFolder(hub.folder).outbox_path)
    try:
        # Killed once the upload has begun and its first 5 MiB part had time to arrive (2 MiB/s).
        wait_for(lambda: any(item.upload_id for item in outbox.items()), timeout=60, what="the multipart upload begun")
        time.sleep(4.0)
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=10)
        assert outbox.counts().waiting > 0
        # Started again with the same config, less the cap (so the test need not wait for it).
        again = start_worker(hub.folder, options.model_copy(update={"bandwidth_limit": None}).model_dump_json())
        wait_for(lambda: outbox.counts().waiting == 0, timeout=90, what="the outbox drained by the restarted hub")
        again.send_signal(signal.SIGTERM)
        log = again.communicate(timeout=30)[1]
    finally:
        outbox.close()
        for process in (worker, locals().get("again")):
            if isinstance(process, subprocess.Popen) and process.poll() is None:
                process.kill()
                process.communicate(timeout=10)
    resumed = [line for line in log.splitlines() if "resuming" in line]
    assert resumed, log
    assert "0 part(s)" not in resumed[0]
    id_key = OffsiteFolder(hub.folder).object_id_key()
    assert id_key is not None
    name = event_object_names(hub.storage.media, record)[0]
    body = vault_object_body(hub.storage.vault, name)
    assert cloud_objects(hub)[vault_object_id(id_key, name)] == hashlib.sha256(body).hexdigest()


def start_worker(folder: Path, options: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SOURCE), str(TESTS)])}
    return subprocess.Popen(
        [sys.executable, str(TESTS / "offsite" / "offsite_process.py"), str(folder), options],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment,
    )


def test_restore_onto_a_fresh_hub_gives_the_same_events_and_byte_identical_clips(
    hub: HubUnderTest, cloud: Cloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = cloud.account()
    hub.sync.pair(cloud.url, account.pairing_code())
    recorded = [hub.record(), hub.record(alarm=True), hub.record(camera="garden")]
    hub.events.set_attribute(recorded[0].id, "feedback", "false_positive")
    hub.sync.start()
    wait_for(lambda: all_sent(hub), timeout=60, what="everything off-site")
    hub.sync.stop()

    fresh = tmp_path / "new-hub"
    config = fresh / "hub.yaml"
    fresh.mkdir()
    config.write_text(f"storage:\n  folder: {fresh / 'data'}\n", encoding="utf-8")
    code = account.pairing_code()
    os.environ["HOMEWARDEN_PASSPHRASE"] = TEST_PASSPHRASE
    try:
        assert main(["cloud", "restore", cloud.url, code, "--config", str(config)]) == 0
    finally:
        del os.environ["HOMEWARDEN_PASSPHRASE"]
    assert "restored 3 events and 6 objects" in capsys.readouterr().out

    restored = open_hub(fresh / "data")
    try:
        keyring = HomeKeyFile.in_folder(fresh / "data").unlock(TEST_PASSPHRASE)
        old_keyring = hub.storage.key_file.unlock(TEST_PASSPHRASE)
        for original in hub.events.list_events(limit=100):
            again = restored.events.get_event(original.id)
            assert again is not None
            # The same event, with its paths in the new hub's folder.
            assert again.attributes == original.attributes
            assert (again.camera, again.label, again.sub_label, again.alarm, again.start, again.end) == (
                original.camera,
                original.label,
                original.sub_label,
                original.alarm,
                original.start,
                original.end,
            )
            assert again.box_time == original.box_time == 1_700_000_004.5
            old_names = event_object_names(hub.storage.media, original)
            assert event_object_names(restored.storage.media, again) == old_names
            for name in old_names:
                assert vault_object_body(restored.storage.vault, name) == vault_object_body(hub.storage.vault, name)
                assert restored.storage.vault.read(name, keyring) == hub.storage.vault.read(name, old_keyring)
        # The old hub was revoked by the new pairing; the new one goes on with the same ids and sends nothing again.
        old_client = client_of(hub)
        with pytest.raises(NotPairedError):
            old_client.home()
        old_client.close()
        restored.sync.start()
        restored.sync.wake()
        wait_for(lambda: restored.sync.outbox.state("home_usage") is not None, timeout=30, what="a catch-up pass")
        assert restored.sync.outbox.counts().waiting == 0
    finally:
        restored.sync.stop()
        restored.events.close()


def test_a_wrong_passphrase_restores_nothing(hub: HubUnderTest, cloud: Cloud, tmp_path: Path) -> None:
    account = cloud.account()
    hub.sync.pair(cloud.url, account.pairing_code())
    hub.record()
    hub.sync.start()
    wait_for(lambda: all_sent(hub), timeout=60, what="everything off-site")
    fresh = tmp_path / "new-hub"
    fresh.mkdir()
    config = fresh / "hub.yaml"
    config.write_text(f"storage:\n  folder: {fresh / 'data'}\n", encoding="utf-8")
    os.environ["HOMEWARDEN_PASSPHRASE"] = "not the passphrase at all"
    try:
        assert main(["cloud", "restore", cloud.url, account.pairing_code(), "--config", str(config)]) == 2
    finally:
        del os.environ["HOMEWARDEN_PASSPHRASE"]
    assert not HomeKeyFile.in_folder(fresh / "data").exists()
    media = fresh / "data" / "media"
    assert not media.exists() or not any(media.rglob("*"))


def test_the_cloud_holds_no_plaintext(hub: HubUnderTest, cloud: Cloud) -> None:
    pair(hub, cloud)
    records = [hub.record(), hub.record(alarm=True), hub.record(camera="back_garden")]
    hub.sync.start()
    wait_for(lambda: all_sent(hub), timeout=60, what="everything off-site")
    stored = cloud.stored_bytes()
    assert len(stored) == 1 + 3 * len(records)
    # Words of six bytes or more: random ciphertext holds one by chance about once in 2**48 positions. A file
    # signature of three or four bytes would turn up by chance in megabytes of ciphertext, so it is looked for where
    # a file that left unsealed would have it, at the start; every other object must start sealed.
    secrets = [b"front_door", b"back_garden", b"person", b"stranger", b"Alice Example", b"Stranger Danger"]
    for record in records:
        secrets += [record.id.encode(), record.id.replace("-", "").encode()]
    key_file_bytes = hub.storage.key_file.path.read_bytes()
    for key, body in stored.items():
        assert not body.startswith((b"\xff\xd8\xff", b"JFIF")), key
        assert body[4:8] != b"ftyp", key
        if body != key_file_bytes:
            assert body.startswith(DATA_KEY_MAGIC), key
            assert body[SEALED_DATA_KEY_SIZE:].startswith(MAGIC), key
        for secret in secrets:
            assert secret not in body, f"{secret!r} readable in the cloud's object {key}"
            if secret.isascii():
                assert secret.decode() not in key, f"{secret!r} in the cloud's object key {key}"
    key_file = next(body for body in stored.values() if body == key_file_bytes)
    assert b"private_key" in key_file  # the wrapped key file: encrypted private keys, nothing else in clear


def test_a_second_hub_cannot_read_the_first_homes_objects(hub: HubUnderTest, cloud: Cloud) -> None:
    pair(hub, cloud)
    hub.record()
    hub.sync.start()
    wait_for(lambda: all_sent(hub), timeout=60, what="everything off-site")
    stranger = cloud.account().pair_hub()
    some_id = next(iter(cloud_objects(hub)))
    # Another home's hub, signing exactly as the contract says (tests/cloud_process.py), asks for this home's object.
    assert stranger.request("GET", f"/api/v1/objects/{some_id}").status_code == 404
