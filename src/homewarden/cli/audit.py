"""The `audit` commands: check the audit log's hash chain, and show its newest entries."""

from __future__ import annotations

import argparse
import json

from homewarden.cli.hub_config import add_config_option, load_hub_config
from homewarden.config import HomewardenConfig
from homewarden.errors import UserError
from homewarden.i18n import _
from homewarden.offsite.identity import OffsiteFolder, PairingError
from homewarden.privacy.audit import AuditLog
from homewarden.review.cloud_chain import CloudChainRecords, verify_archived_chain, verify_cloud_chain
from homewarden.store.database import EventStore
from homewarden.store.errors import StoreError


def register_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` command group."""
    audit = commands.add_parser("audit", help=_("the tamper-evident log of every access to footage")).add_subparsers(
        dest="audit_command", required=True, metavar="ACTION"
    )
    verify = audit.add_parser(
        "verify",
        help=_(
            "report any edited, removed or reordered entry, and any rewrite of the cloud's review log (exit 1 if any)"
        ),
    )
    show = audit.add_parser("show", help=_("print the newest entries"))
    show.add_argument("--limit", type=int, default=50)
    show.add_argument("--json", action="store_true", help=_("one JSON object per entry"))
    for parser, handler in ((verify, audit_verify), (show, audit_show)):
        add_config_option(parser, _("its database holds the log"))
        parser.set_defaults(handler=handler)


def open_audit_log(config: HomewardenConfig) -> tuple[EventStore, AuditLog]:
    """Open the hub's database and its audit log."""
    try:
        store = EventStore.open(config.storage.resolved_database_url())
    except StoreError as exc:
        raise UserError(str(exc)) from None
    return store, AuditLog(store.engine, config.storage.folder.resolve())


def audit_verify(args: argparse.Namespace) -> int:
    """Walk the hub's chain and the cloud's receipts and checkpoints; print what is wrong, or that all is intact."""
    config = load_hub_config(args)
    store, log = open_audit_log(config)
    with store:
        result = log.verify()
        try:
            keys = OffsiteFolder(config.storage.folder).program_keys()
        except PairingError as exc:
            raise UserError(str(exc)) from None
        cloud = verify_cloud_chain(CloudChainRecords(store.engine), keys)
        archive = OffsiteFolder(config.storage.folder).chain_archive_path
        archived = {path.name: verify_archived_chain(path) for path in sorted(archive.glob("*.json"))}
    if result.intact:
        print(_("audit log intact: {count} entries, each committing to the one before").format(count=result.entries))
    else:
        print(_("audit log TAMPERED ({count} entries read):").format(count=result.entries))
        for problem in result.problems:
            print(f"  {problem}")
    if not cloud.problems:
        if cloud.receipts or cloud.checkpoints:
            print(
                _(
                    "the cloud's review log checks out: {receipts} signed receipt(s), each at its place in "
                    "{checkpoints} signed checkpoint(s), each extending the one before"
                ).format(receipts=cloud.receipts, checkpoints=cloud.checkpoints)
            )
    else:
        print(
            _("the cloud's review log does NOT check out ({receipts} receipts, {checkpoints} checkpoints):").format(
                receipts=cloud.receipts, checkpoints=cloud.checkpoints
            )
        )
        for problem in cloud.problems:
            print(f"  {problem}")
    for name, report in archived.items():
        if report.problems:
            print(_("an earlier cloud's review log ({path}) does NOT check out:").format(path=archive / name))
            for problem in report.problems:
                print(f"  {problem}")
        else:
            print(
                f"an earlier cloud's review log checks out ({archive / name}): {report.receipts} signed receipt(s), "
                f"{report.checkpoints} signed checkpoint(s)"
            )
    intact_archives = all(not report.problems for report in archived.values())
    return 0 if result.intact and not cloud.problems and intact_archives else 1


def audit_show(args: argparse.Namespace) -> int:
    """Print the newest entries."""
    store, log = open_audit_log(load_hub_config(args))
    with store:
        entries = log.entries(limit=max(1, args.limit))
    for entry in entries:
        if args.json:
            print(json.dumps({**vars(entry), "at": entry.at.isoformat()}))
        else:
            outcome = "" if entry.outcome == "ok" else f" [{entry.outcome}]"
            print(
                f"{entry.seq:6d} {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor_role}:{entry.actor} {entry.action} "
                f"{entry.object}{outcome} {entry.detail}".rstrip()
            )
    return 0
