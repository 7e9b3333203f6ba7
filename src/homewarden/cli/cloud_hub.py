"""The hub's side of `homewarden cloud`: pair with a Homewarden Cloud, unpair, show the off-site state, restore."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from datetime import UTC, datetime

from homewarden.cli.hub_config import add_config_option, load_hub_config
from homewarden.config import HomewardenConfig
from homewarden.errors import UserError
from homewarden.i18n import _, ngettext
from homewarden.offsite.client import CloudError
from homewarden.offsite.identity import OffsiteFolder, PairingError
from homewarden.offsite.pairing import hub_name, pair_hub, unpair_hub
from homewarden.store.crypto import Keyring, SealedObjectError
from homewarden.store.errors import StoreError
from homewarden.store.keys import HomeKeyError
from homewarden.store.secret_input import PASSPHRASE_ENV, SecretSource

Handler = Callable[[argparse.Namespace], int]


def register(cloud: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the hub's commands (pair, unpair, status, restore) to the ``cloud`` command group."""
    pair = _command(cloud, "pair", cloud_pair, _("pair this hub with a Homewarden Cloud (one-time code)"))
    pair.add_argument("url", help=_("the cloud's address, e.g. https://cloud.example.org"))
    pair.add_argument("code", help=_("the pairing code from the cloud account page (XXXX-XXXX-XXXX)"))
    unpair = _command(
        cloud, "unpair", cloud_unpair, _("stop sending off-site copies and make the cloud forget this hub")
    )
    unpair.add_argument(
        "--force",
        action="store_true",
        help=_("unpair even when withdrawals of donated clips cannot reach the cloud now (they stay unconfirmed)"),
    )
    _command(cloud, "status", cloud_status, _("show what waits to go off-site, the last success and the cloud's usage"))
    restore = _command(cloud, "restore", cloud_restore, _("bring a home's events and footage back from the cloud"))
    restore.add_argument("url", help=_("the cloud's address"))
    restore.add_argument("code", help=_("a pairing code from the cloud account (this hub takes over the home)"))
    add_secret_options(restore)


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: Handler, help_text: str
) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_text)
    add_config_option(parser, _("its storage folder keeps the pairing"))
    parser.set_defaults(handler=_reporting_errors(handler))
    return parser


def add_secret_options(parser: argparse.ArgumentParser) -> None:
    """Add --passphrase-stdin and --recovery-key (how the home key is unlocked)."""
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help=_("read the secret as a line from standard input instead of the terminal (or set {variable})").format(
            variable=PASSPHRASE_ENV
        ),
    )
    parser.add_argument(
        "--recovery-key", action="store_true", help=_("unlock with the recovery key instead of the passphrase")
    )


def _reporting_errors(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CloudError, PairingError, HomeKeyError, SealedObjectError, StoreError) as exc:
            raise UserError(str(exc)) from None

    return run


def _config(args: argparse.Namespace) -> HomewardenConfig:
    return load_hub_config(args)


def cloud_pair(args: argparse.Namespace) -> int:
    """Pair with the cloud; a running hub notices and starts sending within seconds."""
    from homewarden.review.cloud_chain import CloudChainRecords
    from homewarden.store.database import EventStore

    config = _config(args)
    with EventStore.open(config.storage.resolved_database_url()) as store:
        # The receipts kept of another cloud are archived, not mixed with the new one's (docs/review.md).
        pairing = pair_hub(
            OffsiteFolder(config.storage.folder),
            args.url,
            args.code,
            hub_name(config.offsite),
            chain=CloudChainRecords(store.engine),
        )
    print(
        _("paired with {url}: hub {hub}, home {home}").format(
            url=pairing.cloud_url, hub=pairing.hub_id, home=pairing.home_id
        )
    )
    print(_("everything the hub keeps is sent sealed; the cloud cannot open it (docs/offsite.md)"))
    return 0


def cloud_unpair(args: argparse.Namespace) -> int:
    """Unpair: deliver waiting withdrawals, tell the cloud (when it answers), forget the pairing and the outbox."""
    from homewarden.privacy.donations import StoredWithdrawals
    from homewarden.store.database import EventStore

    config = _config(args)
    with EventStore.open(config.storage.resolved_database_url()) as store:
        not_told = unpair_hub(
            OffsiteFolder(config.storage.folder), force=args.force, ledger=StoredWithdrawals.of(store.engine)
        )
    if not_told:
        print(
            _("unpaired here; the cloud was not told ({reason}): revoke the hub on the cloud's account page").format(
                reason=not_told
            )
        )
    else:
        print(_("unpaired: the cloud no longer accepts this hub, and the hub sends nothing more"))
    return 0


def cloud_status(args: argparse.Namespace) -> int:
    """Print the off-site state from the outbox (a running hub keeps it current)."""
    from homewarden.offsite.outbox import Outbox

    folder = OffsiteFolder(_config(args).storage.folder)
    pairing = folder.pairing()
    if pairing is None:
        print(_("not paired with a cloud (`homewarden cloud pair URL CODE`)"))
        return 0
    outbox = Outbox(folder.outbox_path)
    try:
        counts = outbox.counts()
        last_success = outbox.state("last_success_at")
        last_error = outbox.state("last_error")
    finally:
        outbox.close()
    print(
        _("paired with {url} (hub {hub}, home {home})").format(
            url=pairing.cloud_url, hub=pairing.hub_id, home=pairing.home_id
        )
    )
    print(
        _("in the cloud: {sent}; waiting: {waiting}; refused for good: {failed}").format(
            sent=ngettext("{count} object", "{count} objects", counts.sent).format(count=counts.sent),
            waiting=counts.waiting,
            failed=counts.failed,
        )
    )
    if counts.oldest_waiting_at is not None:
        print(_("oldest waiting since {moment}").format(moment=_utc(counts.oldest_waiting_at)))
    print(_("last success: {moment}").format(moment=_utc(float(last_success)) if last_success else _("never")))
    if last_error:
        print(_("last error: {problem}").format(problem=last_error))
    return 0


def cloud_restore(args: argparse.Namespace) -> int:
    """Restore onto a fresh hub: pair, take the key file, unlock it, bring every event and object back."""
    from homewarden.offsite.restore import RestoreError, restore_hub
    from homewarden.store.database import EventStore
    from homewarden.store.keys import HomeKeyFile

    config = _config(args)
    secrets = SecretSource(from_stdin=args.passphrase_stdin)

    def unlock(key_file: HomeKeyFile) -> Keyring:
        if args.recovery_key:
            return key_file.unlock_with_recovery_key(secrets.recovery_key())
        return key_file.unlock(secrets.passphrase(_("Passphrase of the home being restored")))

    with EventStore.open(config.storage.resolved_database_url()) as store:
        try:
            report = restore_hub(
                config.storage.folder,
                store,
                args.url,
                args.code,
                hub_name(config.offsite),
                unlock,
                progress=print,
            )
        except RestoreError as exc:
            raise UserError(str(exc)) from None
    events = ngettext("{count} event", "{count} events", report.events).format(count=report.events)
    objects = ngettext("{count} object", "{count} objects", report.objects).format(count=report.objects)
    print(
        _("restored {events} and {objects} ({megabytes} MB)").format(
            events=events, objects=objects, megabytes=f"{report.bytes / 1e6:.1f}"
        )
    )
    for name in report.missing:
        print("  " + _("no longer in the cloud (its retention may have removed it): {name}").format(name=name))
    for problem in report.unreadable:
        print("  " + _("could not be opened, left out: {problem}").format(problem=problem))
    if args.recovery_key:
        print(_("unlocked with the recovery key: set a new passphrase with `homewarden keys recover`"))
    return 0


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
