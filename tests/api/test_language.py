"""API errors speak the request's language: German for `Accept-Language: de` or the language cookie, else English."""

from __future__ import annotations

from api.conftest import Hub, csrf_of, set_up_owner
from homewarden.api.language import LANGUAGE_COOKIE

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def test_a_refusal_raised_in_a_route_is_german_for_a_german_browser(hub: Hub) -> None:
    client = hub.client()
    assert client.get("/api/events").json() == {"detail": "sign in first"}
    assert client.get("/api/events", headers=GERMAN).json() == {"detail": "melden Sie sich zuerst an"}


def test_a_domain_error_is_worded_when_raised_so_it_speaks_the_language_of_the_request(hub: Hub) -> None:
    token = hub.services.setup.token
    body = {"token": token, "username": "olivia", "password": "short"}
    english = hub.client().post("/api/setup", json=body)
    german = hub.client().post("/api/setup", json=body, headers=GERMAN)
    assert (english.status_code, english.json()) == (400, {"detail": "a password needs at least 12 characters"})
    assert (german.status_code, german.json()) == (400, {"detail": "ein Passwort braucht mindestens 12 Zeichen"})


def test_a_domain_refusal_keeps_its_status_and_speaks_german(hub: Hub) -> None:
    owner = set_up_owner(hub)
    # This hub was started without a config file: its settings cannot be read back or saved.
    english = owner.get("/api/settings")
    german = owner.get("/api/settings", headers=GERMAN)
    assert english.status_code == german.status_code == 409
    assert english.json()["detail"].startswith("This hub was started without a config file")
    assert german.json()["detail"] == (
        "Dieser Hub wurde ohne Konfigurationsdatei gestartet, daher können Einstellungen nicht gespeichert werden. "
        "Starten Sie ihn mit --config homewarden.yaml."
    )


def test_the_account_language_cookie_wins_over_the_browser(hub: Hub) -> None:
    client = hub.client()
    client.cookies.set(LANGUAGE_COOKIE, "de")
    answer = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong password"})
    assert (answer.status_code, answer.json()["detail"]) == (401, "falscher Benutzername oder falsches Passwort")
    client.cookies.set(LANGUAGE_COOKIE, "en")
    answer = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong password"}, headers=GERMAN)
    assert answer.json()["detail"] == "wrong user name or password"


def test_validation_errors_are_sentences_at_their_field_in_german(hub: Hub) -> None:
    client = hub.client()
    english = client.post("/api/auth/login", json={"username": "olivia"})
    german = client.post("/api/auth/login", json={"username": "olivia"}, headers=GERMAN)
    assert english.status_code == german.status_code == 422
    assert [(e["loc"], e["type"], e["msg"]) for e in english.json()["detail"]] == [
        (["body", "password"], "missing", "Field required")
    ]
    assert [(e["loc"], e["msg"]) for e in german.json()["detail"]] == [
        (["body", "password"], "Dieses Feld ist erforderlich.")
    ]


def test_a_validation_limit_and_the_choices_are_named_in_the_german_sentence(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner) | GERMAN
    answer = owner.post("/api/tokens", json={"name": "x" * 65, "scopes": ["events:read", "cake"]}, headers=headers)
    assert answer.status_code == 422, answer.text
    assert {tuple(e["loc"]): e["msg"] for e in answer.json()["detail"]} == {
        ("body", "name"): "Geben Sie höchstens 64 Zeichen ein.",
        ("body", "scopes", 1): (
            "Wählen Sie eines von: events:read, media:read, live:read, arming:write, doorbell:press, voice."
        ),
    }


def test_a_success_message_follows_the_language_too(hub: Hub) -> None:
    owner = set_up_owner(hub)
    answer = owner.post("/api/auth/logout-everywhere", headers=csrf_of(owner) | GERMAN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["detail"] == "1 Sitzung beendet"
