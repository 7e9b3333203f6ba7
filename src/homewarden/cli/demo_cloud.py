"""`homewarden demo --cloud`: a one-machine Homewarden Cloud beside the demo hub, with an account the hub pairs with.

The cloud runs in the demo's own process (a second uvicorn server on a thread), not as a child process: Ctrl-C stops
both at once with nothing left behind, no second Python start, and the demo mints the pairing code at the moment it
pairs (codes last minutes; the owner may take longer over the setup) without signing in over HTTP. The hub still
talks to it over HTTP with signed requests, exactly as to a remote cloud.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homewarden.cli.cloud import read_config
from homewarden.errors import UserError

if TYPE_CHECKING:
    import uvicorn

    from homewarden.cloud.services import CloudServices

log = logging.getLogger(__name__)

DEMO_ACCOUNT = "demo"
ACCOUNT_FILE = "demo-account.json"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class DemoAccount:
    """The cloud account the demo made (kept in the cloud folder, so a second run signs in with the same one)."""

    username: str
    password: str
    home_id: str


def write_cloud_config(folder: Path) -> Path:
    """Write the demo cloud's config: SQLite and a folder store under ``folder``, tasks in-process, invitations only."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "cloud.yaml"
    config.write_text(
        "# Written by `homewarden demo --cloud`: Homewarden Cloud on its one-machine defaults (docs/cloud.md).\n"
        f"database_url: {json.dumps('sqlite:///' + str((folder / 'cloud.db').resolve()))}\n"
        f"object_store:\n  type: folder\n  path: {json.dumps(str((folder / 'objects').resolve()))}\n"
        "tasks:\n  broker_url: memory\n"
        "signup: invitation\n"
        f"review:\n  key_folder: {json.dumps(str((folder / 'review-keys').resolve()))}\n"
    )
    return config


class DemoCloud:
    """A Homewarden Cloud on a loopback port in this process, and the one account the demo hub is paired with."""

    def __init__(self, folder: Path, port: int) -> None:
        """Prepare a cloud keeping its database and objects under ``folder``, to listen on 127.0.0.1:``port``."""
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self.services: CloudServices | None = None

    def start(self) -> DemoAccount:
        """Open the cloud (migrating its SQLite database), serve it on a thread, and return the demo's account."""
        import uvicorn

        from homewarden.cloud.api.app import create_cloud_app
        from homewarden.cloud.services import CloudServices

        config = read_config(write_cloud_config(self.folder))
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
        except OSError as exc:
            listener.close()
            raise UserError(
                f"cannot listen on 127.0.0.1:{self.port} for the demo cloud: {exc.strerror} "
                "(choose another with --cloud-port)"
            ) from None
        try:
            services = self.services = CloudServices.build(config, migrate=True)
            account = self._account(services)
        except BaseException:
            listener.close()
            self.stop()
            raise
        server = uvicorn.Server(uvicorn.Config(create_cloud_app(services), log_level="warning", access_log=False))
        self._server = server
        # The socket is bound here, so the port is ours before the hub starts; uvicorn on a thread installs no
        # signal handlers: the demo's main server takes Ctrl-C and stops this one afterwards.
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="demo-cloud")
        self._thread.start()
        waited = 0.0
        while not server.started:
            if not self._thread.is_alive() or waited > START_TIMEOUT:
                self.stop()
                raise UserError("the demo cloud did not start (see the log above)")
            self._thread.join(0.05)
            waited += 0.05
        return account

    def _account(self, services: CloudServices) -> DemoAccount:
        """Return the demo account, making it (with a generated password) on the first run."""
        from homewarden.store.keys import write_private_file

        saved = self.folder / ACCOUNT_FILE
        if saved.is_file():
            data = json.loads(saved.read_text(encoding="utf-8"))
            return DemoAccount(data["username"], data["password"], data["home_id"])
        password = secrets.token_urlsafe(12)
        invitation = services.accounts.new_invitation()
        view = services.accounts.sign_up(DEMO_ACCOUNT, password, invitation.code)
        account = DemoAccount(view.username, password, view.home_id)
        write_private_file(saved, json.dumps(account.__dict__).encode())
        return account

    def pairing_code(self, account: DemoAccount) -> str:
        """Return a fresh one-time pairing code of the demo account's home."""
        assert self.services is not None, "start the cloud first"
        return self.services.accounts.new_pairing_code(account.home_id).code

    def stop(self) -> None:
        """Stop serving and close the database (after the hub stopped, so its last uploads could land)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.services is not None:
            self.services.close()
            self.services = None
