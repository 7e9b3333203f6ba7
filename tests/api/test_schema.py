"""Every operation of the OpenAPI schema, fuzzed in-process by Schemathesis: any input answers 4xx, never 5xx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.conftest import Hub, hub_config, record_event, set_up_owner
from homewarden.api.app import create_app
from homewarden.api.deps import CSRF_HEADER, SESSION_COOKIE
from homewarden.hub.hub import init_services
from homewarden.store.crypto import Keyring
from homewarden.store.database import EventStore

# About a minute of generated requests: the whole suite runs it, `make check` does not.
pytestmark = pytest.mark.slow

# Small enough for the whole file to run in about a minute on two cores; the per-route matrix is
# test_authorization.py, this file looks for inputs the routes forgot to refuse.
OWNER_EXAMPLES = 50
ANONYMOUS_EXAMPLES = 10
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Nothing listens on the discard port of the loopback address: pairing examples get "cannot reach the cloud".
CLOSED_PORT = 9
# Each of these ends the caller's session(s) or locks the recordings, so every example of them gets a session of its
# own and the home key back afterwards; every other operation shares the owner's session.
SESSION_ENDING = {"POST /api/auth/logout", "POST /api/auth/logout-everywhere", "POST /api/home/lock"}
REACHED = {
    "GET /api/me",
    "GET /api/events",
    "GET /api/events/{event_id}",
    "GET /api/events/{event_id}/snapshot.jpg",
    "GET /api/events/{event_id}/clips/{index}.mp4",
    "GET /api/cameras",
    "GET /api/arming",
    "GET /api/storage",
    "GET /api/members",
    "GET /api/home",
}


@dataclass
class FuzzedHub:
    """A hub with an owner and a recorded event, and the schema of its app."""

    hub: Hub
    owner_id: int
    event_id: str
    keyring: Keyring
    schema: Any

    def owner_headers(self) -> dict[str, str]:
        """Return a new session of the owner as request headers (cookie and CSRF token)."""
        session, csrf = self.hub.services.accounts.create_session(self.owner_id)
        return {"Cookie": f"{SESSION_COOKIE}={session}", CSRF_HEADER: csrf}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedHub]:
    """Build the hub once: the owner's Argon2 key would cost more than the fuzzing."""
    folder = tmp_path_factory.mktemp("schema")
    config = hub_config(folder)
    store = EventStore.open(config.storage.resolved_database_url())
    try:
        hub = Hub(init_services(config, store, None), folder)
        owner_id = set_up_owner(hub).get("/api/me").json()["id"]
        event_id = record_event(hub, "front_door").id
        keyring = hub.services.keys.keyring
        assert keyring is not None
        # The schema is for signed-in owners and admins only: it is read as the owner.
        session, _csrf = hub.services.accounts.create_session(owner_id)
        schema = schemathesis.openapi.from_asgi(
            "/api/openapi.json", create_app(hub.services), headers={"Cookie": f"{SESSION_COOKIE}={session}"}
        )

        @schema.hook
        def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
            """Aim some examples at the recorded event and its first clip, so the media paths run too.

            Not DELETE: it would shred the event the other operations read (it gets the generated ids, all unknown).
            """
            if not path_parameters or "event_id" not in path_parameters or context.operation.method == "delete":
                return st.just(path_parameters)
            real = {**path_parameters, "event_id": event_id}
            if "index" in real:
                real["index"] = 0
            return st.sampled_from([path_parameters, real])

        @schema.hook
        def map_body(context: Any, body: Any) -> Any:
            """Aim pairing at a closed port of this machine: generated addresses must not reach other hosts."""
            if context.operation.path == "/api/offsite/pairing" and isinstance(body, dict) and "cloud_url" in body:
                return {**body, "cloud_url": f"http://127.0.0.1:{CLOSED_PORT}"}
            return body

        yield FuzzedHub(hub, owner_id, event_id, keyring, schema)
    finally:
        store.close()


def fuzz_every_operation(fuzzed: FuzzedHub, examples: int, send: Callable[[schemathesis.Case], None]) -> list[str]:
    """Send ``examples`` cases of every operation, valid and invalid ones; return what failed, per operation."""
    failed = []
    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    assert len(operations) >= 35
    for operation in operations:

        @settings(FUZZ, max_examples=examples)
        @given(case=st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)))
        def run(case: schemathesis.Case) -> None:
            send(case)

        try:
            run()
        # One operation's failure must not hide another's (Schemathesis reports a FailureGroup, a BaseExceptionGroup).
        except (Exception, BaseExceptionGroup) as exc:
            failed.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {exc}")
    return failed


def test_the_owner_never_gets_a_server_error(fuzzed: FuzzedHub) -> None:
    shared = fuzzed.owner_headers()
    succeeded = set()

    def send(case: schemathesis.Case) -> None:
        operation = f"{case.operation.method.upper()} {case.operation.path}"
        if operation in SESSION_ENDING:
            case.call_and_validate(headers=fuzzed.owner_headers(), checks=[not_a_server_error])
            # Signing out everywhere ended the shared session too; locking forgot the home key.
            shared.update(fuzzed.owner_headers())
            fuzzed.hub.services.keys.hold(fuzzed.keyring)
            return
        response = case.call_and_validate(headers=shared, checks=[not_a_server_error])
        if response.status_code < 300:
            succeeded.add(operation)

    failed = fuzz_every_operation(fuzzed, OWNER_EXAMPLES, send)
    assert not failed, "\n\n".join(failed)
    # The owner was signed in all along, and the recorded event's media was served.
    assert succeeded >= REACHED, sorted(REACHED - succeeded)


PUBLIC = {
    "/api/health",
    "/api/setup/status",
    "/api/setup",
    "/api/setup/restore",
    "/api/setup/restore/{restore_id}",
    "/api/auth/login",
    "/api/auth/logout",
    "/api/password-links/check",
    "/api/password-links/use",
    "/api/recover",
    "/shared/{token}",  # a share link: its token is the credential (tests/security/test_shares.py)
}


def test_an_anonymous_caller_never_gets_a_server_error(fuzzed: FuzzedHub) -> None:
    def send(case: schemathesis.Case) -> None:
        response = case.call_and_validate(checks=[not_a_server_error])
        if case.operation.path not in PUBLIC:
            # A body that cannot be read is refused (400, 422) before the caller is asked who they are; nothing leaks.
            assert response.status_code in (400, 401, 422), response.text

    failed = fuzz_every_operation(fuzzed, ANONYMOUS_EXAMPLES, send)
    assert not failed, "\n\n".join(failed)
