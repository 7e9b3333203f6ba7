"""Domain refusals carry no HTTP status: the API maps each kind in one table, every kind included."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from homewarden.api.errors import HTTP_STATUS, add_refusal_handler
from homewarden.errors import Refusal
from homewarden.hub.doorbell import CameraNotRunningError, UnknownDoorbellError
from homewarden.privacy.donations import DonationError


def test_every_kind_of_refusal_has_its_status() -> None:
    assert set(HTTP_STATUS) == set(Refusal)


def test_a_refusal_is_answered_like_an_http_exception_with_the_status_of_its_kind() -> None:
    app = FastAPI()
    add_refusal_handler(app)
    refusals = {
        "quota": DonationError("daily quota reached", Refusal.QUOTA_EXHAUSTED),
        "donation": DonationError("this event is already being donated"),
        "bell": UnknownDoorbellError("no doorbell 'shed'"),
        "camera": CameraNotRunningError("camera 'garden' is not running"),
    }

    @app.get("/{name}")
    def refuse(name: str) -> None:
        raise refusals[name]

    client = TestClient(app)
    answers = {name: client.get(f"/{name}") for name in refusals}
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "quota": 429,
        "donation": 409,
        "bell": 404,
        "camera": 503,
    }
    assert answers["bell"].json() == {"detail": "no doorbell 'shed'"}
