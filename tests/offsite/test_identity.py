"""The device key and the pairing file: owner-only, whole, and refused clearly when damaged."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homewarden.offsite.identity import OffsiteFolder, Pairing, PairingError, check_cloud_url


def test_device_key_and_pairing_are_private_and_survive_reopening(tmp_path: Path) -> None:
    folder = OffsiteFolder(tmp_path / "data")
    key = Ed25519PrivateKey.generate()
    folder.save_device_key(key)
    folder.save_pairing(Pairing("https://cloud.example", "hub_1", "h_1", clock_offset=2.5, paired_at=10.0))
    for path in (folder.device_key_path, folder.pairing_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = OffsiteFolder(tmp_path / "data")
    assert again.pairing() == Pairing("https://cloud.example", "hub_1", "h_1", 2.5, 10.0)
    assert again.device_key().public_key() == key.public_key()


def test_no_pairing_is_none_and_forgetting_removes_the_key(tmp_path: Path) -> None:
    folder = OffsiteFolder(tmp_path)
    assert folder.pairing() is None
    folder.save_device_key(Ed25519PrivateKey.generate())
    folder.save_pairing(Pairing("http://127.0.0.1:1", "hub", "home"))
    folder.forget_pairing()
    assert folder.pairing() is None
    with pytest.raises(PairingError, match="pair the hub first"):
        folder.device_key()


def test_a_damaged_pairing_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = OffsiteFolder(tmp_path)
    folder.save_pairing(Pairing("http://127.0.0.1:1", "hub", "home"))
    folder.pairing_path.write_text("{not json")
    with pytest.raises(PairingError, match="damaged"):
        folder.pairing()


def test_the_object_id_key_is_made_once_and_kept(tmp_path: Path) -> None:
    folder = OffsiteFolder(tmp_path)
    assert folder.object_id_key(create=False) is None
    key = folder.object_id_key()
    assert key is not None
    assert len(key) == 32
    assert OffsiteFolder(tmp_path).object_id_key() == key


@pytest.mark.parametrize("url", ["ftp://cloud", "cloud.example", "https://", "https://c.example/?x=1"])
def test_cloud_urls_must_be_http(url: str) -> None:
    with pytest.raises(PairingError, match="not a cloud URL"):
        check_cloud_url(url)


def test_cloud_url_loses_its_trailing_slash() -> None:
    assert check_cloud_url(" https://cloud.example/base/ ") == "https://cloud.example/base"
