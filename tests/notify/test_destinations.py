"""Where webhooks and push may point: every way of writing this machine, link-local or a private host is refused."""

from __future__ import annotations

import pytest

from homewarden.notify.destinations import PUSH_ENDPOINTS, DestinationRefusedError, webhook_destinations
from homewarden.notify.webhooks import shown_url

THIS_MACHINE = [
    "127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "017700000001", "[::1]", "[::ffff:127.0.0.1]",
    "[64:ff9b::7f00:1]", "0.0.0.0", "0", "[::]", "localhost", "localhost.", "LOCALHOST", "app.localhost",
]  # fmt: skip
LINK_LOCAL = ["169.254.169.254", "[fe80::1]", "[fe80::1%25eth0]"]
HOME_NETWORK = ["10.0.0.5", "172.16.3.4", "192.168.1.20", "100.100.1.1", "[fd00::5]"]
RESERVED = ["224.0.0.251", "240.0.0.1", "255.255.255.255", "192.0.2.10", "[2001:db8::1]"]


@pytest.mark.parametrize("host", THIS_MACHINE + LINK_LOCAL + RESERVED)
def test_a_webhook_may_not_reach_this_machine_link_local_or_reserved_addresses(host: str) -> None:
    with pytest.raises(DestinationRefusedError):
        webhook_destinations().check_when_made(f"http://{host}:8123/hook")


@pytest.mark.parametrize("host", [*HOME_NETWORK, "homeassistant.local", "nodered", "8.8.8.8"])
def test_a_webhook_may_reach_the_home_network_and_the_internet(host: str) -> None:
    webhook_destinations().check_when_made(f"http://{host}:8123/hook")


@pytest.mark.parametrize("host", THIS_MACHINE + LINK_LOCAL)
def test_the_config_lets_webhooks_reach_this_machine(host: str) -> None:
    webhook_destinations(allow_loopback=True).check_when_made(f"http://{host}:8123/hook")


@pytest.mark.parametrize(
    "endpoint",
    [f"https://{host}/push" for host in THIS_MACHINE + LINK_LOCAL + HOME_NETWORK + RESERVED]
    + ["http://fcm.googleapis.com/x", "https://router.lan/x", "https://printer.local/x", "https://pushhost/x"],
)
def test_a_push_endpoint_must_be_a_public_https_host(endpoint: str) -> None:
    with pytest.raises(DestinationRefusedError):
        PUSH_ENDPOINTS.check_when_made(endpoint)


def test_a_public_push_service_is_accepted() -> None:
    for endpoint in ("https://fcm.googleapis.com/fcm/send/x", "https://updates.push.services.mozilla.com/wpush/v2/x"):
        PUSH_ENDPOINTS.check_when_made(endpoint)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p4ss@h.example/x", "https://u:***@h.example/x"),
        ("https://t0ken@h.example/x", "https://***@h.example/x"),
        ("http://ha:8123/api/webhook/homewarden_Qx81kQ3mPq7Lr2", "http://ha:8123/api/webhook/***"),
        ("https://h.example/x?access_token=a&x=1&sig=b", "https://h.example/x?access_token=***&x=1&sig=***"),
        ("http://192.168.1.5:1880/hook", "http://192.168.1.5:1880/hook"),
    ],
)
def test_credentials_in_a_webhook_url_are_masked(url: str, shown: str) -> None:
    assert shown_url(url) == shown
