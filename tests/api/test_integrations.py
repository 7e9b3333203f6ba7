"""Doorbell presses by HTTP and the voice endpoint (Home Assistant's conversation API), over a real hub.

The doorbell's camera is a real CameraRunner over a short synthetic file, paced like a camera; everything else is the
hub of tests/api/conftest.py: real accounts, tokens, event store and sealed storage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.conftest import MEMBER_PASSWORD, Hub, csrf_of, hub_config, record_event, set_up_owner, sign_in
from homewarden.api import integrations
from homewarden.api.app import create_app
from homewarden.camera.runner import CameraRunner
from homewarden.config.model import DoorbellConfig
from homewarden.detect import create_detector
from homewarden.events.arming import schedule_timezone
from homewarden.events.record import EventRecord
from homewarden.hub.doorbell import CameraNotRunningError, UnknownDoorbellError, doorstep_of, press_doorbell
from homewarden.hub.hub import init_services
from homewarden.notify.bus import EventStarted, EventUpdated
from homewarden.store.database import EventStore
from video.synthetic import write_video

PRESS = "/api/doorbells/{bell}/press"
VOICE = "/api/conversation/process"


@dataclass
class Household:
    """A hub with doorbells, its owner olivia, member max (garden only) and olivia's tokens by scope."""

    hub: Hub
    olivia: TestClient
    max: TestClient
    tokens: dict[str, str]

    def bearer(self, scope: str) -> dict[str, str]:
        """Return the Authorization header of olivia's token with ``scope``."""
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def say(self, text: str, scope: str = "voice", **extra: Any) -> dict[str, Any]:
        """Ask the voice endpoint with olivia's voice token; return the answer (always HTTP 200)."""
        response = self.hub.client().post(
            VOICE, json={"text": text, "language": "en", **extra}, headers=self.bearer(scope)
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def client_of(hub: Hub) -> TestClient:
    """Return a client of the app, with this router included until api/app.py includes it."""
    app = create_app(hub.services)
    if not any(getattr(route, "path", "") == VOICE for route in app.routes):
        app.include_router(integrations.router)
    return TestClient(app, base_url="https://testserver")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Household]:
    """Yield a hub whose front door has a doorbell "front" and whose garden has one named "gate"."""
    config = hub_config(tmp_path)
    config = config.model_copy(
        update={
            "doorbells": {
                "front": DoorbellConfig(camera="front_door", record_seconds=5.0),
                "gate": DoorbellConfig(camera="garden"),
            }
        }
    )
    store = EventStore.open(config.storage.resolved_database_url())
    try:
        hub = Hub(init_services(config, store, None), tmp_path)
        monkeypatch.setattr(Hub, "client", client_of)
        olivia = set_up_owner(hub)
        accounts = hub.services.accounts
        accounts.create_user("max", MEMBER_PASSWORD, "member", hub.services.hub_home_id, ["garden"])
        max_client = sign_in(hub, "max", MEMBER_PASSWORD)
        max_client.headers.update(csrf_of(max_client))
        olivia.headers.update(csrf_of(olivia))
        olivia_id = olivia.get("/api/me").json()["id"]
        tokens = {
            scope: accounts.create_token(olivia_id, scope, [scope])[1]
            for scope in ("voice", "doorbell:press", "events:read")
        }
        yield Household(hub, olivia, max_client, tokens)
    finally:
        hub.services.bus.stop()
        store.close()


def speech(answer: dict[str, Any]) -> str:
    """Return what the answer says."""
    text: str = answer["response"]["speech"]["plain"]["speech"]
    return text


# doorbells


@pytest.mark.timeout(60)
def test_a_token_press_records_on_the_bells_camera_and_a_second_press_joins_it(home: Household) -> None:
    services = home.hub.services
    write_video(home.hub.folder / "front_door.mp4", seconds=8, fps=10)
    saved: list[EventRecord] = []
    runner = CameraRunner(
        "front_door",
        services.config,
        create_detector(services.config.detector),
        services.storage.media,
        saved.append,
        wall_clock=True,
        live=services.live,
        bus=services.bus,
    )
    services.runners["front_door"] = runner
    thread = threading.Thread(target=runner.run_live, kwargs={"reconnect": False}, name="camera")
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while runner.pipeline is None or runner.pipeline.last_time == 0:
            assert time.monotonic() < deadline, "the camera never delivered a frame"
            time.sleep(0.05)
        client = home.hub.client()
        first = client.post(PRESS.format(bell="front"), headers=home.bearer("doorbell:press"))
        again = client.post(PRESS.format(bell="front"), headers=home.bearer("doorbell:press"))
        by_owner = home.olivia.post(PRESS.format(bell="front"))
    finally:
        runner.stop_event.set()
        thread.join(timeout=30)
    assert first.status_code == 202, first.text
    assert first.json()["camera"] == "front_door"
    event_id = first.json()["event_id"]
    assert again.status_code == 202
    assert again.json()["event_id"] == event_id, "a press within 5 s joins the recording"
    assert by_owner.json()["event_id"] == event_id
    [doorbell] = [record for record in saved if record.label == "doorbell"]
    assert doorbell.id == event_id
    assert doorbell.attributes == {"doorbell": "front"}
    assert doorbell.clips, doorbell.clip_error
    # MQTT and webhooks press through the same function: a stopped camera refuses it.
    with pytest.raises(CameraNotRunningError):
        press_doorbell(services, "front", "mqtt")


def test_presses_that_cannot_record_are_refused(home: Household) -> None:
    token = home.bearer("doorbell:press")
    client = home.hub.client()
    not_running = client.post(PRESS.format(bell="front"), headers=token)
    assert not_running.status_code == 503
    assert not_running.json()["detail"] == "camera 'front_door' is not running"
    # max watches the garden only: the front door's bell is as unknown to him as a bell that does not exist.
    hidden = home.max.post(PRESS.format(bell="front"))
    unknown = home.max.post(PRESS.format(bell="back"))
    assert (hidden.status_code, unknown.status_code) == (404, 404)
    assert hidden.json()["detail"].replace("front", "back") == unknown.json()["detail"]
    assert home.max.post(PRESS.format(bell="gate")).status_code == 503
    assert client.post(PRESS.format(bell="back"), headers=token).status_code == 404
    with pytest.raises(UnknownDoorbellError):
        press_doorbell(home.hub.services, "back", "mqtt")


def test_tokens_without_the_scope_are_refused_on_both_endpoints(home: Household) -> None:
    client = home.hub.client()
    for scope, url in (("events:read", PRESS), ("events:read", VOICE), ("voice", PRESS), ("doorbell:press", VOICE)):
        response = client.post(url.format(bell="front"), json={"text": "arm"}, headers=home.bearer(scope))
        assert response.status_code == 403, (scope, url)
    assert home.hub.services.arming_for(home.hub.services.hub_home_id).manual is None
    assert client.post(VOICE, json={"text": "arm"}).status_code == 401


def test_tokens_for_doorbells_and_voice_can_be_made_from_the_account_page(home: Household) -> None:
    made = home.olivia.post("/api/tokens", json={"name": "assist", "scopes": ["voice", "doorbell:press"]})
    assert made.status_code == 201, made.text
    assert sorted(made.json()["scopes"]) == ["doorbell:press", "voice"]
    page = home.olivia.get("/account").text
    assert 'value="doorbell:press"' in page
    assert 'value="voice"' in page


# voice: the answer's shape


def test_the_answer_is_shaped_like_home_assistants(home: Household) -> None:
    answer = home.say("Who is at the front door?", conversation_id="abc123")
    assert set(answer) == {"response", "conversation_id", "continue_conversation"}
    assert answer["conversation_id"] == "abc123"
    response = answer["response"]
    assert set(response) == {"response_type", "language", "speech", "card", "data"}
    assert response["response_type"] == "query_answer"
    assert response["language"] == "en"
    assert response["speech"] == {"plain": {"speech": "Nobody is at the front door.", "extra_data": None}}
    assert home.say("arm")["conversation_id"], "a conversation id is made when none is sent"


def test_what_is_not_understood_is_an_error_answer_not_an_http_error(home: Household) -> None:
    for text in ("Make me a sandwich", "", "who is at", "arm the sandwich", "strangers"):
        answer = home.say(text)
        assert answer["response"]["response_type"] == "error", text
        assert speech(answer) == "Sorry, I didn't understand that."
        assert answer["response"]["data"] == {"code": "no_intent_match"}


# voice: who is at the door


def test_who_is_at_the_door_names_a_member_who_rang_however_it_is_asked(home: Household) -> None:
    record_event(home.hub, "front_door", label="doorbell", sub_label="alice")
    for text in (
        "who is at the front door?",
        "Who's at the front door",
        "WHO IS AT FRONT DOOR PLEASE",
        "who is at the front",
        "is anyone at the front door?",
        "Who is at the front_door camera?",
    ):
        answer = home.say(text)
        assert speech(answer) == "Alice is at the front door.", text
        assert answer["response"]["data"]["visitor"] == "alice"
        assert answer["response"]["data"]["seen_by"] == "doorbell"


def test_who_rang_last_tells_strangers_and_faces_not_seen(home: Household) -> None:
    for sub_label, said in (
        ("stranger", "Someone I don't recognise is at the front door."),
        (None, "Someone is at the front door, I couldn't see their face."),
        ("alice", "Alice is at the front door."),
    ):
        record_event(home.hub, "front_door", label="doorbell", sub_label=sub_label)
        assert speech(home.say("who is at the front door")) == said


def test_who_was_seen_last_tells_strangers_and_faces_not_seen(home: Household) -> None:
    for label, sub_label, said in (
        ("car", None, "Nobody is at the front door."),
        ("person", "unknown", "Someone I don't recognise is at the front door."),
        ("person", None, "Someone is at the front door, I couldn't see their face."),
        ("person", "alice", "Alice is at the front door."),
    ):
        record_event(home.hub, "front_door", label=label, sub_label=sub_label)
        assert speech(home.say("who is at the front door")) == said


def test_a_doorbell_press_wins_over_a_person_and_old_visits_do_not_count(home: Household) -> None:
    services = home.hub.services
    old = record_event(home.hub, "front_door", sub_label="alice")
    services.events.delete_event(old.id)
    services.events.save_event(_moved(old, -600))
    assert speech(home.say("who is at the front door")) == "Nobody is at the front door."
    record_event(home.hub, "front_door", sub_label="unknown")
    record_event(home.hub, "front_door", label="doorbell", sub_label="bob")
    assert speech(home.say("who is at the front door")) == "Bob is at the front door."


def test_who_is_at_the_door_hears_the_person_in_view_now(home: Household) -> None:
    bus = home.hub.services.bus
    doorstep_of(bus)
    now = time.time()
    bus.publish(EventStarted("front_door", "e1", "person", 0.9, now))
    bus.flush()
    assert speech(home.say("who is at the front door")) == "Someone is at the front door, I couldn't see their face."
    bus.publish(EventUpdated("front_door", "e1", "person", "alice", False, None, now))
    bus.flush()
    assert speech(home.say("who is at the front door")) == "Alice is at the front door."
    assert speech(home.say("who is at the garden")) == "Nobody is at the garden."


def test_an_offline_camera_is_said_to_be_offline(home: Household) -> None:
    home.hub.services.live.mark_offline("garden", "stream ended")
    assert speech(home.say("who is at the garden")) == "I can't see the garden: its camera is offline."


def test_only_the_callers_cameras_are_known(home: Household) -> None:
    record_event(home.hub, "front_door", label="doorbell", sub_label="alice")
    asked = home.max.post(VOICE, json={"text": "who is at the front door?"})
    assert asked.status_code == 200
    assert asked.json()["response"]["response_type"] == "error"
    assert speech(asked.json()) == "I don't know a camera called front door."
    assert asked.json()["response"]["data"] == {"code": "no_valid_targets"}
    assert "alice" not in asked.text
    shown = home.max.post(VOICE, json={"text": "show me the front door"}).json()
    assert speech(shown) == "I don't know a camera called front door."
    assert speech(home.max.post(VOICE, json={"text": "show me the garden"}).json()) == "Here is the garden."


# voice: arming


def test_arming_by_voice_sets_the_homes_mode(home: Household) -> None:
    services = home.hub.services
    state = services.arming_for(services.hub_home_id)
    for text, mode, said in (
        ("arm the cameras", "away", "The cameras are armed (away)."),
        ("disarm the cameras", "disarmed", "The cameras are disarmed."),
        ("Arm.", "away", "The cameras are armed (away)."),
        ("arm home", "home", "The cameras are armed (home)."),
        ("please arm the cameras away", "away", "The cameras are armed (away)."),
        ("Set home mode", "home", "The cameras are armed (home)."),
        ("night mode", "night", "The cameras are armed (night)."),
        ("Disarm!", "disarmed", "The cameras are disarmed."),
        ("arm the cameras for night", "night", "The cameras are armed (night)."),
    ):
        answer = home.say(text)
        assert answer["response"]["response_type"] == "action_done", text
        assert speech(answer) == said, text
        assert answer["response"]["data"]["mode"] == mode
        assert state.mode_at(datetime.now(UTC)) == mode, text
        assert state.manual is not None
        assert state.manual.set_by == "voice"
        stored = services.accounts.home(services.hub_home_id)
        assert stored is not None
        assert stored.manual_mode == mode


# voice: show me


def test_show_me_answers_with_the_snapshot_and_stream(home: Household) -> None:
    for text in ("show me the front door", "Show the front door camera, please", "show me front"):
        answer = home.say(text)
        assert answer["response"]["response_type"] == "query_answer", text
        assert speech(answer) == "Here is the front door."
        data = answer["response"]["data"]
        assert data["snapshot_url"] == "/api/cameras/front_door/snapshot.jpg"
        assert data["stream_url"] == "/api/cameras/front_door/stream.mjpg"


# voice: strangers today


def test_strangers_today_are_counted_with_the_last_one(home: Household) -> None:
    for text in ("were there any strangers today?", "Any strangers today", "have there been any strangers"):
        assert speech(home.say(text)) == "No strangers today."
    record_event(home.hub, "garden", label="person", sub_label="alice")
    record_event(home.hub, "front_door", label="cat")
    first = record_event(home.hub, "garden", alarm=True, sub_label="unknown")
    last = record_event(home.hub, "front_door", label="person", sub_label="unknown")
    zone = schedule_timezone(home.hub.services.arming_for(home.hub.services.hub_home_id).alarm)
    at = datetime.fromtimestamp(last.start, tz=UTC).astimezone(zone)
    answer = home.say("Were there any strangers today?")
    assert speech(answer) == f"Yes, 2 strangers today, the last at {at:%H:%M} at the front door."
    assert answer["response"]["data"]["count"] == 2
    # Max sees the garden only: he hears of its stranger alone.
    asked = home.max.post(VOICE, json={"text": "were there any strangers today"}).json()
    seen = datetime.fromtimestamp(first.start, tz=UTC).astimezone(zone)
    assert speech(asked) == f"Yes, 1 stranger today, at {seen:%H:%M} at the garden."
    # Yesterday's stranger does not count.
    services = home.hub.services
    services.events.delete_event(last.id)
    services.events.save_event(_moved(last, -2 * 86400))
    assert home.say("any strangers today")["response"]["data"]["count"] == 1


def _moved(record: EventRecord, seconds: float) -> EventRecord:
    from dataclasses import replace

    return replace(record, start=record.start + seconds, end=record.end + seconds)
