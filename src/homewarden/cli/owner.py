"""The owner's commands on the hub's storage: the home key, deleting footage, retention, and plain exports."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from homewarden.accounts.passwords import WeakPasswordError, check_new_password
from homewarden.accounts.store import AccountStore, UserRecord, WrongCredentialsError
from homewarden.cli.event_list import add_list_options, events_list, home_zone
from homewarden.cli.hub_config import add_config_option, load_hub_config
from homewarden.config import HomewardenConfig
from homewarden.errors import UserError
from homewarden.faces.library import open_household
from homewarden.hub.recovery import recover_home
from homewarden.i18n import _, counted
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.outbox import Outbox
from homewarden.offsite.pairing import send_deletions_to_cloud
from homewarden.offsite.sealing import KEY_FILE_OBJECT_ID
from homewarden.privacy.audit import COMMAND_LINE, AuditLog
from homewarden.store.crypto import HomePublicKey, Keyring, SealedObjectError
from homewarden.store.database import EventStore
from homewarden.store.deletion import DeletionReport, delete_camera_footage, delete_event, delete_everything
from homewarden.store.errors import StoreError
from homewarden.store.gallery_key import GalleryKeyError, GalleryKeyFile
from homewarden.store.keys import DataKeyResealer, HomeKeyError, init_command_hint
from homewarden.store.retention import FootageKeeper, PlannedDeletion, RetentionPlan
from homewarden.store.sealed_media import HubStorage, open_hub_storage
from homewarden.store.secret_input import PASSPHRASE_ENV, SecretSource
from homewarden.store.vault import SEALED_SUFFIX

Handler = Callable[[argparse.Namespace], int]
EVERYTHING_CONFIRMATION = "delete everything"


def register_owner_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``keys``, ``events`` and ``storage`` command groups; each command sets ``handler``."""
    keys = commands.add_parser("keys", help=_("the home key that seals all footage")).add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    _command(
        keys, "init", keys_init, _("create the home key (you choose the passphrase; a recovery key is shown once)")
    )
    _command(keys, "unlock", keys_unlock, _("check that the passphrase opens the home key"))
    change = _command(
        keys, "change-passphrase", keys_change_passphrase, _("set a new passphrase (the old one is needed)")
    )
    recover = _command(keys, "recover", keys_recover, _("set a new passphrase with the recovery key"))
    for parser in (change, recover):
        parser.add_argument(
            "--revoke-tokens", action="store_true", help=_("also revoke the owner's API tokens (they sign out anyway)")
        )
    _command(keys, "rotate", keys_rotate, _("make a new home key and re-seal every data key to it"))

    events = commands.add_parser("events", help=_("stored events")).add_subparsers(
        dest="events_command", required=True, metavar="ACTION"
    )
    delete = _command(events, "delete", events_delete, _("delete events and shred their clips and snapshots"))
    delete.add_argument("event_ids", nargs="+", metavar="EVENT_ID")
    listing = _command(events, "list", events_list, _("list stored events, newest first, with their ids"))
    add_list_options(listing)
    export = _command(events, "export", events_export, _("decrypt an event's clips and snapshot to plain files"))
    export.add_argument("event_id", metavar="EVENT_ID")
    export.add_argument("--out", type=Path, required=True, help=_("folder for the plain MP4 and JPEG files"))

    storage = commands.add_parser("storage", help=_("footage retention and deletion")).add_subparsers(
        dest="storage_command", required=True, metavar="ACTION"
    )
    _command(storage, "plan", storage_plan, _("show what retention deletes, and when"))
    _command(storage, "prune", storage_prune, _("delete now what retention says is due"))
    erase = _command(storage, "delete", storage_delete, _("shred a camera's footage, or everything"))
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--camera", help=_("shred every clip and snapshot of this camera and forget its events"))
    which.add_argument("--everything", action="store_true", help=_("delete my data: all footage, events and the key"))
    erase.add_argument("--keep-key", action="store_true", help=_("with --everything: keep the home key"))
    erase.add_argument(
        "--yes",
        action="store_true",
        help=_("do not ask to type '{confirmation}'").format(confirmation=EVERYTHING_CONFIRMATION),
    )


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: Handler, help_text: str
) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_text)
    add_config_option(parser, _("its storage folder holds the key and footage"))
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help=_("read secrets as lines from standard input instead of the terminal (or set {variable})").format(
            variable=PASSPHRASE_ENV
        ),
    )
    parser.set_defaults(handler=_reporting_errors(handler))
    return parser


def _reporting_errors(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (HomeKeyError, GalleryKeyError, SealedObjectError, StoreError) as exc:
            raise UserError(str(exc)) from None

    return run


def _config(args: argparse.Namespace) -> HomewardenConfig:
    return load_hub_config(args)


def _storage(args: argparse.Namespace) -> HubStorage:
    return open_hub_storage(_config(args).storage.folder)


def _gallery_key(args: argparse.Namespace) -> GalleryKeyFile:
    return GalleryKeyFile.in_folder(_config(args).storage.folder.resolve())


def _secrets(args: argparse.Namespace) -> SecretSource:
    return SecretSource(from_stdin=args.passphrase_stdin)


def _store(config: HomewardenConfig) -> EventStore:
    store = EventStore.open(config.storage.resolved_database_url())
    # A paired hub's cloud copies go with the events deleted here (the running hub's worker sends the deletions).
    send_deletions_to_cloud(store, OffsiteFolder(config.storage.folder))
    return store


# keys


def keys_init(args: argparse.Namespace) -> int:
    """Create the home key pair and show the recovery key once."""
    storage = _storage(args)
    if storage.key_file.exists():
        raise UserError(
            _("{path} exists already; `homewarden keys rotate` makes a new home key").format(path=storage.key_file.path)
        )
    recovery_key = storage.key_file.create(_secrets(args).new_passphrase(PASSPHRASE_ENV))
    gallery_key = _gallery_key(args)
    # A gallery key left from before (its home key file deleted by hand) keeps its embeddings readable.
    if gallery_key.exists():
        gallery_key.ensure_sealed_copy(gallery_key.load())
    else:
        gallery_key.create()
    print(
        _("Created home key {key} in {path}.").format(
            key=storage.key_file.public_key().key_id, path=storage.key_file.path
        )
    )
    _show_recovery_key(recovery_key)
    return 0


def _show_recovery_key(recovery_key: str) -> None:
    print()
    print(_("Recovery key (shown only this once; write it down and keep it away from the hub):"))
    print()
    print(f"    {recovery_key}")
    print()
    print(_("It sets a new passphrase if you forget yours (`homewarden keys recover`). Without the passphrase"))
    print(_("and without the recovery key, nobody can open the footage, not even you."), flush=True)


def record_access(
    config: HomewardenConfig, store: EventStore, action: str, object_: str, camera: str | None = None, detail: str = ""
) -> None:
    """Write an access made on the command line to the audit log the owner reads."""
    home_id = AccountStore(store.engine).home_of_camera(camera) if camera else None
    AuditLog(store.engine, config.storage.folder.resolve()).record(
        COMMAND_LINE, action, object_, home_id=home_id, detail=detail
    )


def keys_unlock(args: argparse.Namespace) -> int:
    """Check that the passphrase opens the home key."""
    storage = _storage(args)
    storage.key_file.public_key()
    keyring = storage.key_file.unlock(_secrets(args).passphrase())
    config = _config(args)
    with _store(config) as store:
        record_access(config, store, "key_unlocked", "home key", detail="keys unlock")
    pending = len(keyring.key_ids) - 1
    note = counted(
        " ({count} older key waits for `homewarden keys rotate` to finish)",
        " ({count} older keys wait for `homewarden keys rotate` to finish)",
        pending,
    )
    print(_("passphrase OK: home key {key} unlocked").format(key=keyring.current_id) + (note if pending else ""))
    gallery_key = _gallery_key(args)
    if not gallery_key.exists() and gallery_key.restore(keyring) is not None:
        print(
            _("restored the face gallery key {path} from its copy sealed to the home key").format(path=gallery_key.path)
        )
    return 0


def keys_change_passphrase(args: argparse.Namespace) -> int:
    """Set a new passphrase with the old one."""
    storage = _storage(args)
    storage.key_file.public_key()
    secrets = _secrets(args)
    old = secrets.passphrase(_("Current passphrase"))
    new = secrets.new_passphrase()
    with _store(_config(args)) as store:
        accounts = AccountStore(store.engine)
        owners = accounts.hub_owners()
        _check_owner_password(owners, new)
        storage.key_file.change_passphrase(old, new)
        print(_("passphrase changed; the recovery key still works"))
        for owner in owners:
            try:
                changed = accounts.change_password(owner.id, old, new, revoke_tokens=args.revoke_tokens)
            except WrongCredentialsError:
                print(
                    _("the password of owner {name} was not the old passphrase: left as it was").format(
                        name=owner.username
                    )
                )
                continue
            _report_new_password(owner.username, changed.sessions_ended, changed.tokens_revoked, args.revoke_tokens)
    return 0


def _check_owner_password(owners: Sequence[UserRecord], new: str) -> None:
    # The passphrase becomes the owner's password too, whose rule is stricter: refuse before the key changes.
    if owners:
        try:
            check_new_password(new)
        except WeakPasswordError as exc:
            raise UserError(
                _("the passphrase is also the owner's password: {problem}; nothing was changed").format(problem=exc)
            ) from None


def _report_new_password(username: str, ended: int, revoked: int, revoke_tokens: bool) -> None:
    tokens = counted(", {count} API token revoked", ", {count} API tokens revoked", revoked) if revoke_tokens else ""
    print(
        _("owner {name} signs in with the new passphrase; {sessions} signed out").format(
            name=username, sessions=counted("{count} session", "{count} sessions", ended)
        )
        + tokens
    )


def keys_recover(args: argparse.Namespace) -> int:
    """Set a new passphrase with the recovery key."""
    storage = _storage(args)
    storage.key_file.public_key()
    secrets = _secrets(args)
    recovery_key = secrets.recovery_key()
    new = secrets.new_passphrase()
    with _store(_config(args)) as store:
        accounts = AccountStore(store.engine)
        _check_owner_password(accounts.hub_owners(), new)
        reset = recover_home(storage.key_file, accounts, recovery_key, new, revoke_tokens=args.revoke_tokens)
        print(_("new passphrase set; the recovery key still works"))
        for owner, changed in reset:
            _report_new_password(owner.username, changed.sessions_ended, changed.tokens_revoked, args.revoke_tokens)
    return 0


def keys_rotate(args: argparse.Namespace) -> int:
    """Make a new home key, re-seal every data key to it, and retire the old key."""
    storage = _storage(args)
    storage.key_file.public_key()
    resealer = EverySealedKey([storage.vault, _gallery_key(args)])
    report = storage.key_file.rotate(_secrets(args).passphrase(), resealer, _announce_rotation)
    resumed = _(" (finished an interrupted rotation)") if report.resumed else ""
    print(
        _(
            "home key {key} is current; re-sealed {count} data key(s) without re-encrypting any media; "
            "retired {retired}"
        ).format(
            key=report.new_key_id, count=report.resealed, retired=", ".join(report.retired_key_ids) or _("nothing")
        )
        + resumed
    )
    return 0


class EverySealedKey:
    """Every key sealed to the home key, for a rotation: the media's data keys and the gallery key's copy."""

    def __init__(self, parts: list[DataKeyResealer]) -> None:
        """Re-seal and count through each of ``parts``."""
        self.parts = parts

    def reseal(self, keyring: Keyring, recipient: HomePublicKey) -> int:
        """Re-seal every key not sealed to ``recipient``; return how many were re-sealed."""
        return sum(part.reseal(keyring, recipient) for part in self.parts)

    def count_sealed_to(self, key_ids: set[str]) -> int:
        """Return how many keys are sealed to one of ``key_ids``."""
        return sum(part.count_sealed_to(key_ids) for part in self.parts)


def _announce_rotation(recovery_key: str) -> None:
    print(_("New home key written; the old recovery key no longer works."))
    _show_recovery_key(recovery_key)
    print()


# events


def events_delete(args: argparse.Namespace) -> int:
    """Delete events and shred their objects."""
    config = _config(args)
    storage = open_hub_storage(config.storage.folder)
    with _store(config) as store:
        records = []
        for event_id in args.event_ids:
            record = store.get_event(event_id)
            if record is None:
                raise UserError(_("no event {event_id}; nothing was deleted").format(event_id=event_id))
            records.append(record)
        for record in records:
            report = delete_event(store, storage.media, record)
            record_access(config, store, "event_deleted", f"event:{record.id}", record.camera)
            print(
                _("deleted event {event}: {objects} shredded").format(
                    event=record.id, objects=counted("{count} object", "{count} objects", report.objects)
                )
            )
            _mention_plain_files(report)
    return 0


def _mention_plain_files(report: DeletionReport) -> None:
    for path in report.plain_files:
        print("  " + _("left in place (a plain export you made, not the hub's): {path}").format(path=path))


def events_export(args: argparse.Namespace) -> int:
    """Decrypt an event's clips and snapshot into ordinary files in a folder the owner chose."""
    config = _config(args)
    storage = open_hub_storage(config.storage.folder)
    with _store(config) as store:
        record = store.get_event(args.event_id)
    if record is None:
        raise UserError(_("no event {event_id}").format(event_id=args.event_id))
    paths = [clip.path for clip in record.clips] + ([record.snapshot] if record.snapshot else [])
    names = [name for name in (storage.media.object_name(Path(path)) for path in paths) if name]
    if not names:
        raise UserError(_("event {event} has no footage in the hub's storage").format(event=record.id))
    keyring = storage.key_file.unlock(_secrets(args).passphrase())
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = args.out / Path(name).name
        _write_plain_file(target, storage.vault.open(name, keyring).iter_chunks())
        print(target)
    with _store(config) as store:
        record_access(config, store, "export", f"event:{record.id}", record.camera, detail=f"to {args.out}")
    return 0


def _write_plain_file(target: Path, chunks: Iterable[bytes]) -> None:
    """Write a decrypted export through a temporary file, so a failed check leaves no partial plaintext."""
    descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


# storage


def storage_plan(args: argparse.Namespace) -> int:
    """Show what retention deletes at the next sweep, and when the rest falls due."""
    config = _config(args)
    storage = open_hub_storage(config.storage.folder)
    with _store(config) as store:
        plan = FootageKeeper(store, storage.media, config.storage.retention).plan()
        zone = home_zone(config, store)
    policy = config.storage.retention
    print(_usage_line(plan))
    print(
        _("kept: alarm events {alarm_days} days, other events {other_days} days").format(
            alarm_days=policy.alarm_days, other_days=policy.other_days
        )
    )
    print(_("deleted by the next sweep (hourly while `homewarden run` runs, or now by `homewarden storage prune`):"))
    _print_deletions(plan.due_now, zone, show_due=False)
    print(_("scheduled:"))
    _print_deletions(plan.scheduled, zone, show_due=True)
    return 0


def storage_prune(args: argparse.Namespace) -> int:
    """Delete now what retention says is due."""
    config = _config(args)
    storage = open_hub_storage(config.storage.folder)
    with _store(config) as store:
        plan = FootageKeeper(store, storage.media, config.storage.retention).sweep()
        zone = home_zone(config, store)
    _print_deletions(plan.due_now, zone, show_due=False)
    print(
        _("deleted {items}; {size} of footage left").format(
            items=counted("{count} item", "{count} items", len(plan.due_now)), size=_megabytes(plan.bytes_after_sweep)
        )
    )
    return 0


def storage_delete(args: argparse.Namespace) -> int:
    """Shred one camera's footage, or everything the hub holds."""
    config = _config(args)
    storage = open_hub_storage(config.storage.folder)
    if args.everything and not args.yes:
        _confirm_everything(storage)
    with _store(config) as store:
        if args.everything:
            with open_household(config, args.config) as household:
                report = delete_everything(
                    store,
                    storage.media,
                    storage.key_file,
                    household,
                    GalleryKeyFile.in_folder(config.storage.folder.resolve()),
                    keep_key=args.keep_key,
                )
            print(
                _("deleted {members} and destroyed the face gallery key").format(
                    members=counted("{count} household member", "{count} household members", report.members)
                )
            )
            if not args.keep_key:
                _delete_key_file_copy(config)
        else:
            report = delete_camera_footage(store, storage.media, args.camera)
        what = "everything" if args.everything else f"camera:{args.camera}"
        record_access(config, store, "storage_deleted", what, None if args.everything else args.camera)
    print(
        _("deleted {events}; {objects} shredded").format(
            events=counted("{count} event", "{count} events", report.events),
            objects=counted("{count} object", "{count} objects", report.objects),
        )
    )
    if args.everything and not args.keep_key:
        print(
            _("the home key is destroyed; run `{command}` before recording again").format(
                command=init_command_hint(args.config)
            )
        )
    _mention_plain_files(report)
    return 0


def _delete_key_file_copy(config: HomewardenConfig) -> None:
    """Queue the deletion of the cloud's copy of the destroyed key file (the hub's worker sends it)."""
    folder = OffsiteFolder(config.storage.folder)
    if folder.pairing_stamp() is not None:
        outbox = Outbox(folder.outbox_path)
        try:
            outbox.enqueue_delete(KEY_FILE_OBJECT_ID)
        finally:
            outbox.close()


def _confirm_everything(storage: HubStorage) -> None:
    if not sys.stdin.isatty():
        raise UserError(_("deleting everything needs --yes when there is no terminal to confirm on"))
    print(
        _(
            "This shreds every clip and snapshot in {folder}, forgets every event and household member, and destroys "
            "the home key. Nothing can bring them back."
        ).format(folder=storage.media.root),
        file=sys.stderr,
    )
    # The word to type stays the same in every language: scripts and the docs quote it.
    answer = input(_("Type '{word}' to go on: ").format(word=EVERYTHING_CONFIRMATION))
    if answer.strip() != EVERYTHING_CONFIRMATION:
        raise UserError(_("not confirmed; nothing was deleted"))


def _usage_line(plan: RetentionPlan) -> str:
    used = _megabytes(plan.used_bytes)
    if plan.cap_bytes is None:
        return _("footage: {used}; no disk cap (storage.retention.max_gb)").format(used=used)
    share = 100.0 * plan.used_bytes / plan.cap_bytes
    return _("footage: {used} of a {cap} cap ({share} %)").format(
        used=used, cap=_megabytes(plan.cap_bytes), share=f"{share:.0f}"
    )


def _print_deletions(deletions: list[PlannedDeletion], zone: tzinfo, show_due: bool) -> None:
    if not deletions:
        print("  " + _("nothing"))
    for deletion in deletions:
        size = _megabytes(deletion.stored_bytes)
        if deletion.footage is not None:
            record = deletion.footage.record
            when = _at(deletion.due, zone) if show_due else f"recorded {_at(deletion.footage.recorded_at, zone)}"
            kind = deletion.footage.kind
            print(f"  {when}  {record.camera}  {record.label}  {kind}  {record.id}  {size}  {deletion.reason}")
        elif deletion.unreferenced is not None:
            print(f"  {deletion.unreferenced.name}{SEALED_SUFFIX}  {size}  {deletion.reason}")


def _at(seconds: float, zone: tzinfo) -> str:
    """Return a moment in the home's time, with its zone's abbreviation (CET, CEST)."""
    return datetime.fromtimestamp(seconds, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"
