"""`homewarden cloud serve`, `migrate`, `invite`, `reviewer`, `admin` as an operator runs them: real processes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx2 as httpx
import pyotp
import pytest

from cloud_process import (
    CloudAccount,
    CloudProcess,
    run_cloud_command,
    start_cloud_serve,
    write_cloud_config,
)
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.errors import NotAuthenticatedError
from homewarden.cloud.services import CloudServices

# The tests that start `homewarden cloud serve` take many seconds each (the process imports FastAPI, SQLAlchemy
# and boto3, then connects), so they are marked slow.


@pytest.mark.slow
def test_a_real_serve_process_pairs_a_hub_and_keeps_its_objects(cloud_service: CloudProcess) -> None:
    with httpx.Client(base_url=cloud_service.base_url, timeout=30) as client:
        hub = CloudAccount.sign_up(client).pair_hub()
        body = b"\x00sealed\xff" * 1000

        created = hub.put("serve_0123456789abcdef", body)
        fetched = hub.request("GET", "/api/v1/objects/serve_0123456789abcdef")
        replayed = client.get("/api/v1/home", headers=hub.key.headers("GET", "/api/v1/home"))
        replayed_again = client.get("/api/v1/home", headers=dict(replayed.request.headers))
        page = client.get("/")

    assert created.status_code == 201, created.text
    assert created.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert fetched.content == body
    assert replayed.status_code == 200
    assert replayed_again.status_code == 401
    assert page.status_code == 200
    assert "Homewarden Cloud" in page.text
    assert cloud_service.stop() == 0
    assert "Traceback" not in cloud_service.output()


@pytest.mark.slow
def test_serve_refuses_an_unmigrated_postgresql_database_in_one_line(tmp_path: Path, cloud_database_url: str) -> None:
    config = write_cloud_config(tmp_path, cloud_database_url)

    refused = run_cloud_command("serve", "--config", str(config))
    migrated = run_cloud_command("migrate", "--config", str(config))
    invited = run_cloud_command("invite", "--config", str(config))

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "homewarden: error: the cloud database "
        + cloud_database_url
        + " is at revision none, this version needs 0005: run `homewarden cloud migrate --config cloud.yaml`"
    ]
    assert migrated.returncode == 0, migrated.stderr
    assert invited.returncode == 0, invited.stderr
    code = invited.stdout.split()[0]
    assert len(code) == 19
    assert code.count("-") == 3


@pytest.mark.slow
def test_the_operator_makes_lists_and_disables_review_staff(tmp_path: Path, cloud_database_url: str) -> None:
    config = str(write_cloud_config(tmp_path, cloud_database_url))
    assert run_cloud_command("migrate", "--config", config).returncode == 0

    made = run_cloud_command("reviewer", "create", "--config", config, "ann.reviews", stdin="a long password here\n")
    weak = run_cloud_command("reviewer", "create", "--config", config, "bob.reviews", stdin="short\n")
    admin = run_cloud_command("admin", "create", "--config", config, "carol.admin", stdin="another long password\n")
    disabled = run_cloud_command("reviewer", "disable", "--config", config, "ann.reviews")
    unknown = run_cloud_command("reviewer", "disable", "--config", config, "carol.admin")
    listed = run_cloud_command("reviewer", "list", "--config", config)

    assert made.returncode == 0, made.stderr
    secret = made.stdout.split("secret: ")[1].split()[0]
    assert "otpauth://totp/" in made.stdout
    assert weak.returncode == 2
    assert weak.stderr.strip() == "homewarden: error: a password needs at least 12 characters"
    assert admin.returncode == 0, admin.stderr
    assert disabled.returncode == 0, disabled.stderr
    assert unknown.returncode == 2
    assert "no reviewer 'carol.admin'" in unknown.stderr
    assert [line.split("\t")[0::2] for line in listed.stdout.splitlines()] == [["ann.reviews", "disabled"]]
    services = CloudServices.build(load_cloud_config(Path(config)), migrate=False)
    try:
        # The secret shown opens nothing while disabled; the admin's secret signs the admin in.
        with pytest.raises(NotAuthenticatedError):
            services.staff.sign_in("ann.reviews", "a long password here", pyotp.TOTP(secret).now(), "test")
        admin_secret = admin.stdout.split("secret: ")[1].split()[0]
        token = services.staff.sign_in("carol.admin", "another long password", pyotp.TOTP(admin_secret).now(), "t")
        assert services.staff.staff_for_token(token).role == "admin"
    finally:
        services.close()
    assert "Traceback" not in made.stderr + weak.stderr + unknown.stderr


@pytest.mark.slow
def test_a_trial_cloud_on_sqlite_and_a_folder_serves_with_no_other_service(tmp_path: Path) -> None:
    config = write_cloud_config(tmp_path, f"sqlite:///{tmp_path / 'cloud.db'}")
    cloud = start_cloud_serve(config)
    try:
        with httpx.Client(base_url=cloud.base_url, timeout=30) as client:
            hub = CloudAccount.sign_up(client).pair_hub()
            assert hub.put("trial_0123456789abcdef", b"sealed").status_code == 201
            assert hub.request("DELETE", "/api/v1/objects/trial_0123456789abcdef").status_code == 204
    finally:
        assert cloud.stop() == 0
    # Tasks ran in the serve process itself: the blob went with its row.
    assert list((tmp_path / "objects").rglob("*_0123456789abcdef")) == []


def test_a_bad_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "cloud.yaml"
    config.write_text("signup: everyone\n", encoding="utf-8")

    answer = run_cloud_command("serve", "--config", str(config))

    assert answer.returncode == 2
    assert answer.stderr.strip() == (f"homewarden: error: {config}: signup: Input should be 'open' or 'invitation'")


def test_program_key_create_rotate_and_show_as_an_operator_runs_them(tmp_path: Path) -> None:
    config = write_cloud_config(tmp_path, f"sqlite:///{tmp_path / 'cloud.db'}")

    created = run_cloud_command("program-key", "create", "--config", str(config))
    twice = run_cloud_command("program-key", "create", "--config", str(config))
    rotated = run_cloud_command("program-key", "rotate", "--config", str(config))
    shown = run_cloud_command("program-key", "show", "--config", str(config))

    assert created.returncode == 0, created.stderr
    first = created.stdout.split()[3]
    assert twice.returncode == 2
    assert twice.stderr.strip().startswith("homewarden: error: review.key_folder:")
    assert "already holds the review program key" in twice.stderr
    assert rotated.returncode == 0, rotated.stderr
    assert f"rotated: {first} -> pk_" in rotated.stdout
    second = rotated.stdout.split("-> ")[1].split()[0]
    assert shown.returncode == 0, shown.stderr
    assert f"key id:      {second}" in shown.stdout
    assert "rotations:   1" in shown.stdout
    assert ", ".join(sorted([first, second])) in shown.stdout
    # No database was needed: the key lives apart from it.
    assert not (tmp_path / "cloud.db").exists()
