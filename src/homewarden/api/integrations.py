"""Doorbells and voice assistants over HTTP: the routes only; hub/doorbell.py and hub/voice.py do the work.

A press by HTTP calls ``press_doorbell`` as MQTT and incoming webhooks do. The voice endpoint speaks Home
Assistant's ``/api/conversation/process`` dialect, so an Assist pipeline (or any client of that API) can ask who is at
the door, arm and disarm, show a camera and ask about strangers, with an API token of scope ``voice``. It only ever
answers about the caller's own cameras and home.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from homewarden.api.deps import HOUSEHOLD, Caller, Services, allow
from homewarden.hub.doorbell import press_doorbell
from homewarden.hub.voice import answer_sentence
from homewarden.i18n import _

router = APIRouter(prefix="/api", tags=["integrations"])

# doorbells


class DoorbellPress(BaseModel):
    """A press accepted: the event recording it and its camera."""

    event_id: str
    camera: str


@router.post("/doorbells/{bell}/press", status_code=status.HTTP_202_ACCEPTED)
@allow(*HOUSEHOLD, token_scope="doorbell:press")
def press(bell: str, caller: Caller, hub: Services) -> DoorbellPress:
    """Press a doorbell: its camera records from the pre-roll, looks for the visitor's face and notifies."""
    doorbell = hub.config.doorbells.get(bell)
    # A bell on a camera the caller may not watch answers exactly like one that does not exist.
    if doorbell is None or doorbell.camera not in caller.cameras:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no doorbell {bell!r}").format(bell=bell))
    # An unknown bell or a camera that is down is refused as a domain error (api/errors.py answers 404 or 503).
    event_id = press_doorbell(hub, bell, f"http:{caller.username}")
    return DoorbellPress(event_id=event_id, camera=doorbell.camera)


# voice


class ConversationRequest(BaseModel):
    """A sentence to act on, as Home Assistant's conversation API takes it."""

    # Home Assistant clients also send agent_id, device_id and the like: ignored rather than refused.
    model_config = ConfigDict(extra="ignore")

    text: str = Field(max_length=500)
    language: str = Field(default="en", max_length=16)
    conversation_id: str | None = Field(default=None, max_length=128)


class PlainSpeech(BaseModel):
    """What to say."""

    speech: str
    extra_data: dict[str, Any] | None = None


class Speech(BaseModel):
    """The answer's speech (plain text only)."""

    plain: PlainSpeech


class IntentResponse(BaseModel):
    """Home Assistant's intent response: its kind, what to say and what it did."""

    response_type: Literal["action_done", "query_answer", "error"]
    language: str
    speech: Speech
    card: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any]


class ConversationResult(BaseModel):
    """Home Assistant's conversation result."""

    response: IntentResponse
    conversation_id: str | None
    continue_conversation: bool = False


@router.post("/conversation/process")
@allow(*HOUSEHOLD, token_scope="voice")
def process_conversation(body: ConversationRequest, caller: Caller, hub: Services) -> ConversationResult:
    """Answer a sentence as Home Assistant's conversation API does (HTTP 200 even when not understood)."""
    assert caller.home_id is not None  # authorize admits household roles only with a home
    answer = answer_sentence(hub, caller.home_id, caller.cameras, body.text)
    return ConversationResult(
        response=IntentResponse(
            response_type=answer.kind,
            language=body.language,
            speech=Speech(plain=PlainSpeech(speech=answer.speech)),
            data=answer.data,
        ),
        conversation_id=body.conversation_id or uuid.uuid4().hex,
    )
