"""The `users` command: create the first owner without the setup link.

Reviewers and admins of the review program are accounts of Homewarden Cloud now (`homewarden cloud ...` on the
provider's side); a hub has none.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import AccountError, AccountStore
from homewarden.config import HomewardenConfig, load_config
from homewarden.errors import UserError
from homewarden.store.account_secrets import AccountSecretKeyFile
from homewarden.store.database import EventStore
from homewarden.store.errors import StoreError
from homewarden.store.gallery_key import GalleryKeyFile
from homewarden.store.keys import HomeKeyError
from homewarden.store.sealed_media import open_hub_storage
from homewarden.store.secret_input import PASSPHRASE_ENV, SecretSource


def register_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` command group."""
    users = commands.add_parser("users", help="accounts of the web app").add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    owner = users.add_parser("create-owner", help="create the first owner (instead of the setup link)")
    owner.add_argument("username")
    owner.add_argument("--config", type=Path, help="YAML config (its database holds the accounts)")
    owner.add_argument(
        "--passphrase-stdin", action="store_true", help="read the password from standard input, not a prompt"
    )
    owner.set_defaults(handler=create_owner)


def _open(args: argparse.Namespace) -> tuple[HomewardenConfig, EventStore, AccountStore]:
    config = load_config(args.config) if args.config else HomewardenConfig()
    try:
        store = EventStore.open(config.storage.resolved_database_url())
    except StoreError as exc:
        raise UserError(str(exc)) from None
    accounts = AccountStore(store.engine, AccountSecretKeyFile.in_folder(config.storage.folder))
    try:
        accounts.seal_clear_secrets()
    except (AccountError, StoreError) as exc:
        store.close()
        raise UserError(str(exc)) from None
    return config, store, accounts


def create_owner(args: argparse.Namespace) -> int:
    """Create the first owner; their password is the home passphrase (the key is made now if there is none)."""
    config, store, accounts = _open(args)
    with store:
        if accounts.has_owner():
            raise UserError("this hub has an owner already")
        home_id = accounts.ensure_home("Home", list(config.cameras))
        storage = open_hub_storage(config.storage.folder)
        secrets = SecretSource(from_stdin=args.passphrase_stdin)
        try:
            if storage.key_file.exists():
                password = secrets.passphrase("Home passphrase (it becomes the owner's password)")
                storage.key_file.unlock(password)
                recovery_key = None
            else:
                password = secrets.new_passphrase(PASSPHRASE_ENV)
            user = accounts.create_user(args.username, password, "owner", home_id)
            if not storage.key_file.exists():
                recovery_key = storage.key_file.create(password)
                GalleryKeyFile.in_folder(config.storage.folder.resolve()).create()
        except (WeakPasswordError, AccountError, HomeKeyError) as exc:
            raise UserError(str(exc)) from None
    print(f"created owner {user.username}; sign in to the web app with this password")
    if recovery_key:
        print(f"\nRecovery key (shown only this once; keep it away from the hub):\n\n    {recovery_key}\n")
    return 0
