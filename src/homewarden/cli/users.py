"""The `users` commands: create the first owner without the setup link, list, remove, reset.

Reviewers and admins of the review program are accounts of Homewarden Cloud now (`homewarden cloud ...` on the
provider's side); a hub has none.
"""

from __future__ import annotations

import argparse
import json

from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import AccountError, AccountStore, UserRecord
from homewarden.cli.hub_config import add_config_option, load_hub_config
from homewarden.cli.owner import record_access
from homewarden.config import HomewardenConfig
from homewarden.errors import UserError
from homewarden.i18n import N_, _, counted
from homewarden.store.account_secrets import AccountSecretKeyFile
from homewarden.store.database import EventStore
from homewarden.store.errors import StoreError
from homewarden.store.gallery_key import GalleryKeyFile
from homewarden.store.keys import HomeKeyError
from homewarden.store.sealed_media import open_hub_storage
from homewarden.store.secret_input import PASSPHRASE_ENV, SecretSource

# How a role reads in a sentence, translated where shown.
ROLES = {"owner": N_("owner"), "member": N_("member")}


def register_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` command group."""
    users = commands.add_parser("users", help=_("accounts of the web app")).add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    owner = users.add_parser("create-owner", help=_("create the first owner (instead of the setup link)"))
    owner.add_argument("username")
    add_config_option(owner, _("its database holds the accounts"))
    owner.add_argument(
        "--passphrase-stdin", action="store_true", help=_("read the password from standard input, not a prompt")
    )
    owner.set_defaults(handler=create_owner)
    listing = users.add_parser("list", help=_("every account: name, role, cameras, two-factor"))
    listing.add_argument("--json", action="store_true", help=_("one JSON object per account"))
    remove = users.add_parser("remove", help=_("delete an account with its sessions and API tokens"))
    reset = users.add_parser("reset-password", help=_("set a member's new password and sign them out everywhere"))
    reset.add_argument(
        "--passphrase-stdin", action="store_true", help=_("read the new password from standard input, not a prompt")
    )
    for parser in (remove, reset):
        parser.add_argument("username")
    for parser, handler in ((listing, list_users), (remove, remove_user), (reset, reset_user_password)):
        add_config_option(parser, _("its database holds the accounts"))
        parser.set_defaults(handler=handler)


def _open(args: argparse.Namespace) -> tuple[HomewardenConfig, EventStore, AccountStore]:
    config = load_hub_config(args)
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
            raise UserError(_("this hub has an owner already"))
        home_id = accounts.ensure_home("Home", list(config.cameras))
        storage = open_hub_storage(config.storage.folder)
        secrets = SecretSource(from_stdin=args.passphrase_stdin)
        try:
            if storage.key_file.exists():
                password = secrets.passphrase(_("Home passphrase (it becomes the owner's password)"))
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
    print(_("created owner {name}; sign in to the web app with this password").format(name=user.username))
    if recovery_key:
        print("\n" + _("Recovery key (shown only this once; keep it away from the hub):") + f"\n\n    {recovery_key}\n")
    return 0


def list_users(args: argparse.Namespace) -> int:
    """Print every account."""
    _config, store, accounts = _open(args)
    with store:
        users = accounts.all_users()
    for user in users:
        if args.json:
            print(
                json.dumps(
                    {
                        "username": user.username,
                        "role": user.role,
                        "home_id": user.home_id,
                        "cameras": list(user.cameras),
                        "two_factor": user.totp_enabled,
                        "password_set": user.password_set,
                    }
                )
            )
            continue
        cameras = _("every camera") if user.role == "owner" else ", ".join(user.cameras) or _("no cameras yet")
        if not user.password_set:
            two_factor = _("no password yet")  # invited, or reset: waits for their one-time link
        else:
            two_factor = _("two-factor") if user.totp_enabled else _("password only")
        print(f"{user.username:<24} {_(ROLES[user.role]):<11} {two_factor:<14} {cameras}")
    if not users and not args.json:
        print(
            _(
                "no accounts yet: create the owner with the setup link `homewarden serve` prints, or "
                "`users create-owner`"
            )
        )
    return 0


def _named_user(accounts: AccountStore, username: str) -> UserRecord:
    user = accounts.user_named(username)
    if user is None:
        raise UserError(_("no user named {name!r} (`homewarden users list` shows them)").format(name=username))
    return user


def remove_user(args: argparse.Namespace) -> int:
    """Delete an account; the home's last owner stays."""
    config, store, accounts = _open(args)
    with store:
        user = _named_user(accounts, args.username)
        if user.role == "owner" and len([o for o in accounts.members(user.home_id or 0) if o.role == "owner"]) == 1:
            raise UserError(_("{name} is the home's only owner; nothing was removed").format(name=user.username))
        accounts.delete_user(user.id)
        record_access(config, store, "user_removed", f"user:{user.username}", detail=f"role {user.role}")
    print(
        _("removed {role} {name}; their sessions and API tokens no longer work").format(
            role=_(ROLES[user.role]), name=user.username
        )
    )
    return 0


def reset_user_password(args: argparse.Namespace) -> int:
    """Set a new password for a member, and end their sessions and tokens."""
    config, store, accounts = _open(args)
    with store:
        user = _named_user(accounts, args.username)
        if user.role == "owner":
            raise UserError(
                _(
                    "an owner's password is the home passphrase: use `homewarden keys change-passphrase`, or "
                    "`homewarden keys recover` with the recovery key"
                )
            )
        password = SecretSource(from_stdin=args.passphrase_stdin).new_passphrase(PASSPHRASE_ENV)
        try:
            changed = accounts.reset_password(user.id, password, revoke_tokens=True)
        except (WeakPasswordError, AccountError) as exc:
            raise UserError(str(exc)) from None
        record_access(config, store, "password_reset", f"user:{user.username}", detail="command line")
    print(
        _("new password set for {role} {name}: {sessions} signed out, {tokens} revoked").format(
            role=_(ROLES[user.role]),
            name=user.username,
            sessions=counted("{count} session", "{count} sessions", changed.sessions_ended),
            tokens=counted("{count} API token", "{count} API tokens", changed.tokens_revoked),
        )
    )
    return 0
