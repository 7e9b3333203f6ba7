"""The notification routes through the web app: webhooks are the owner's, push subscriptions each user's own."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from api.conftest import MEMBER_PASSWORD, Hub, csrf_of, set_up_owner, sign_in
from homewarden.notify.push import PushSubscriptions
from homewarden.notify.webhooks import WebhookStore


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _browser_keys() -> dict[str, str]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": _b64url(point), "auth": _b64url(os.urandom(16))}


def _household(hub: Hub) -> tuple[TestClient, TestClient, TestClient]:
    """Return signed-in clients of olivia (owner), max (her member, garden only) and bob (owner of another home)."""
    olivia = set_up_owner(hub)
    accounts = hub.services.accounts
    accounts.create_user("max", MEMBER_PASSWORD, "member", hub.services.hub_home_id, ["garden"])
    accounts.create_user("bob", MEMBER_PASSWORD, "owner", accounts.create_home("Other home", ["shed"]))
    return olivia, sign_in(hub, "max", MEMBER_PASSWORD), sign_in(hub, "bob", MEMBER_PASSWORD)


def test_the_owner_adds_lists_tests_and_deletes_a_webhook(hub: Hub) -> None:
    olivia, _, _ = _household(hub)
    csrf = csrf_of(olivia)

    created = olivia.post("/api/webhooks", json={"url": "https://ha.example.org/api/webhook/abc"}, headers=csrf)

    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["events"] == ["event_end", "alarm", "doorbell", "arming"]
    assert len(hook["secret"]) >= 40
    listed = olivia.get("/api/webhooks").json()
    assert [item["id"] for item in listed] == [hook["id"]]
    assert "secret" not in listed[0], "the secret is shown once, when the webhook is made"
    assert hook["secret"] not in olivia.get("/api/webhooks").text
    tested = olivia.post(f"/api/webhooks/{hook['id']}/test", headers=csrf)
    assert tested.status_code == 202
    [delivery] = olivia.get(f"/api/webhooks/{hook['id']}/deliveries").json()
    assert delivery["id"] == tested.json()["id"]
    assert delivery["kind"] == "test"
    assert delivery["state"] == "pending"  # no dispatcher runs in this hub: it waits for one
    assert delivery["attempts"] == 0
    assert olivia.delete(f"/api/webhooks/{hook['id']}", headers=csrf).status_code == 200
    assert olivia.get("/api/webhooks").json() == []
    assert olivia.get(f"/api/webhooks/{hook['id']}/deliveries").status_code == 404


def test_a_webhook_needs_an_http_url_and_known_kinds(hub: Hub) -> None:
    olivia = set_up_owner(hub)
    csrf = csrf_of(olivia)
    for url in ("ftp://example.org/x", "javascript:alert(1)", "https://", "http://exa mple.org/", "x" * 10):
        assert olivia.post("/api/webhooks", json={"url": url}, headers=csrf).status_code == 422, url
    too_long = "https://example.org/" + "a" * 2030
    assert olivia.post("/api/webhooks", json={"url": too_long}, headers=csrf).status_code == 422
    for url in ("http://127.0.0.1:8123/hook", "http://169.254.169.254/latest", "http://[::1]/", "http://localhost/"):
        refused = olivia.post("/api/webhooks", json={"url": url}, headers=csrf)
        assert refused.status_code == 400, url
        assert "notify.webhooks.allow_loopback" in refused.json()["detail"]
    for events in ([], ["everything"]):
        body = {"url": "http://192.168.1.5:1880/hook", "events": events}
        assert olivia.post("/api/webhooks", json=body, headers=csrf).status_code == 422
    body = {"url": "http://192.168.1.5:1880/hook", "events": ["motion", "motion", "doorbell"]}
    created = olivia.post("/api/webhooks", json=body, headers=csrf)
    assert created.status_code == 201
    assert created.json()["events"] == ["motion", "doorbell"]


def test_a_member_cannot_manage_webhooks_and_another_homes_owner_cannot_see_them(hub: Hub) -> None:
    olivia, max_, bob = _household(hub)
    hook = olivia.post("/api/webhooks", json={"url": "https://olivia.example/h"}, headers=csrf_of(olivia)).json()

    assert max_.get("/api/webhooks").status_code == 403
    assert max_.post("/api/webhooks", json={"url": "https://max.example/h"}, headers=csrf_of(max_)).status_code == 403
    assert max_.delete(f"/api/webhooks/{hook['id']}", headers=csrf_of(max_)).status_code == 403
    assert bob.get("/api/webhooks").json() == []
    bob_csrf = csrf_of(bob)
    for method, path in (
        ("GET", f"/api/webhooks/{hook['id']}/deliveries"),
        ("POST", f"/api/webhooks/{hook['id']}/test"),
        ("DELETE", f"/api/webhooks/{hook['id']}"),
    ):
        answer = bob.request(method, path, headers=bob_csrf)
        missing = bob.request(method, path.replace(str(hook["id"]), "987654"), headers=bob_csrf)
        assert answer.status_code == missing.status_code == 404, path
        assert answer.text.replace(str(hook["id"]), "987654") == missing.text
    assert [item["id"] for item in olivia.get("/api/webhooks").json()] == [hook["id"]]
    assert WebhookStore(hub.services.events.engine).deliveries(hook["id"]) == []


def test_a_household_user_subscribes_and_unsubscribes_their_own_browsers(hub: Hub) -> None:
    olivia, max_, _ = _household(hub)
    key = max_.get("/api/push/key").json()["public_key"]
    assert olivia.get("/api/push/key").json()["public_key"] == key
    assert len(base64.urlsafe_b64decode(key + "=")) == 65
    assert (hub.services.config.storage.folder / "push" / "vapid-private.pem").exists()
    endpoint = "https://fcm.googleapis.com/fcm/send/max-phone"
    body = {"endpoint": endpoint, "keys": _browser_keys()}

    assert max_.post("/api/push/subscriptions", json=body, headers=csrf_of(max_)).status_code == 201

    subscriptions = PushSubscriptions(hub.services.events.engine)
    max_id = max_.get("/api/me").json()["id"]
    olivia_id = olivia.get("/api/me").json()["id"]
    assert [s.endpoint for s in subscriptions.of_users([max_id])] == [endpoint]
    # Someone else's browser is not theirs to unsubscribe: it stays.
    olivia.request("DELETE", "/api/push/subscriptions", json={"endpoint": endpoint}, headers=csrf_of(olivia))
    assert [s.endpoint for s in subscriptions.of_users([max_id])] == [endpoint]
    gone = max_.request("DELETE", "/api/push/subscriptions", json={"endpoint": endpoint}, headers=csrf_of(max_))
    assert gone.status_code == 200
    assert subscriptions.of_users([max_id, olivia_id]) == []


def test_a_push_subscription_needs_an_https_endpoint_and_real_keys(hub: Hub) -> None:
    olivia = set_up_owner(hub)
    csrf = csrf_of(olivia)
    good = _browser_keys()
    for body in ({"endpoint": "http://push.example.org/x", "keys": good}, {"endpoint": "https://push.example.org/x"}):
        assert olivia.post("/api/push/subscriptions", json=body, headers=csrf).status_code == 422, body
    not_on_the_curve = _b64url(b"\x04" + b"1" * 64)
    for keys, problem in (
        ({**good, "p256dh": _b64url(b"\x04" + b"1" * 10)}, "keys.p256dh"),
        ({**good, "p256dh": not_on_the_curve}, "keys.p256dh"),
        ({**good, "auth": _b64url(b"short")}, "keys.auth"),
        ({**good, "auth": "!!!"}, "keys.auth"),
    ):
        refused = olivia.post(
            "/api/push/subscriptions", json={"endpoint": "https://push.example.org/x", "keys": keys}, headers=csrf
        )
        assert refused.status_code == 400, keys
        assert refused.json()["detail"].startswith(problem)
    for endpoint in ("https://127.0.0.1/x", "https://192.168.1.1/x", "https://localhost/x", "https://push/x"):
        body = {"endpoint": endpoint, "keys": good}
        assert olivia.post("/api/push/subscriptions", json=body, headers=csrf).status_code == 400, endpoint
    assert PushSubscriptions(hub.services.events.engine).of_users([olivia.get("/api/me").json()["id"]]) == []


def test_the_service_worker_is_served_from_the_root_for_the_whole_app(hub: Hub) -> None:
    answer = hub.client().get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert answer.headers["service-worker-allowed"] == "/"
    assert "showNotification" in answer.text
