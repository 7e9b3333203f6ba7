"""The ``cloud`` commands: run Homewarden Cloud (serve, worker, migrate, invite, the review program's accounts).

``register_cloud_commands`` adds the ``cloud`` group; the service's commands are added by
``add_service_commands``, and the hub's own cloud commands (pair, restore) can be added beside them in the group.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from homewarden.cloud.config import CloudConfig, CloudConfigError, load_cloud_config
from homewarden.errors import UserError

if TYPE_CHECKING:
    from homewarden.cloud.database import CloudDatabase
    from homewarden.cloud.review.reviewers import ReviewStaffAccounts

log = logging.getLogger("homewarden")


def register_cloud_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``cloud`` group and its commands."""
    cloud = commands.add_parser("cloud", help="Homewarden Cloud: off-site copies the cloud cannot read")
    group = cloud.add_subparsers(dest="cloud_command", required=True, metavar="ACTION")
    add_service_commands(group)


def add_service_commands(group: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands of whoever runs the service: serve, worker, migrate, invite."""
    serve = group.add_parser("serve", help="serve the cloud's API (stateless: run as many as needed)")
    _config_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8780, help="port (default: 8780)")
    serve.add_argument("--certfile", type=Path, help="PEM certificate: serve HTTPS (needed beyond this machine)")
    serve.add_argument("--keyfile", type=Path, help="PEM private key of --certfile")
    serve.set_defaults(handler=serve_command)

    worker = group.add_parser("worker", help="run a Celery worker of the cloud's tasks (retention, deletions)")
    _config_option(worker)
    worker.add_argument("--beat", action="store_true", help="also run the periodic schedule (one per cloud)")
    worker.add_argument("--concurrency", type=int, default=2, help="worker processes (default: 2)")
    worker.add_argument("--name", help="worker name, unique per cloud (default: cloud-<pid>@<host>)")
    worker.set_defaults(handler=worker_command)

    migrate = group.add_parser("migrate", help="create or upgrade the cloud's database tables")
    _config_option(migrate)
    migrate.set_defaults(handler=migrate_command)

    invite = group.add_parser("invite", help="make a one-time invitation code for a new household account")
    _config_option(invite)
    invite.set_defaults(handler=invite_command)

    program_key = group.add_parser("program-key", help="the review program's key: create, rotate or show it")
    actions = program_key.add_subparsers(dest="program_key_command", required=True, metavar="ACTION")
    for name, help_text in (
        ("create", "make the first key in review.key_folder (serve and worker also make it on first use)"),
        ("rotate", "make a new key, signed over by the current one; old keys stay to open older copies"),
        ("show", "print the current key, its rotations and the keys held"),
    ):
        action = actions.add_parser(name, help=help_text)
        _config_option(action)
        action.set_defaults(handler=program_key_command)

    add_staff_commands(group)
    add_training_commands(group)


def add_training_commands(group: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``training run`` and ``training models``: the verifier trained from reviewers' labels."""
    training = group.add_parser("training", help="the false-alarm verifier trained from reviewers' labels")
    actions = training.add_subparsers(dest="training_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="train now (as the worker's periodic task does); promote if it is better")
    _config_option(run)
    run.add_argument("--force", action="store_true", help="train even when no label changed since the last model")
    run.set_defaults(handler=training_run_command)
    models = actions.add_parser("models", help="list the model versions with their metrics and counts")
    _config_option(models)
    models.set_defaults(handler=training_models_command)


def add_staff_commands(group: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the review program's accounts: ``reviewer create|disable|list`` and ``admin create``."""
    for role in ("reviewer", "admin"):
        parser = group.add_parser(role, help=f"the review program's {role}s (two-factor sign-in always)")
        actions = parser.add_subparsers(dest=f"{role}_command", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help=f"make a {role}: the password is read from standard input, the TOTP secret shown once"
        )
        _config_option(create)
        create.add_argument("username", help="the account's name (3 to 64 letters, digits, . _ @ -)")
        create.set_defaults(handler=staff_create_command, role=role)
        if role == "reviewer":
            disable = actions.add_parser("disable", help="disable a reviewer at once (signed out, clip back in queue)")
            _config_option(disable)
            disable.add_argument("username")
            disable.set_defaults(handler=staff_disable_command, role=role)
            listing = actions.add_parser("list", help="list the reviewers")
            _config_option(listing)
            listing.set_defaults(handler=staff_list_command, role=role)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the cloud's YAML config (cloud.yaml)")


def require_cloud_extra() -> None:
    """Refuse in one line when the cloud's own dependencies (boto3, Celery) are not installed."""
    import importlib.util

    missing = [name for name in ("boto3", "celery") if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"Homewarden Cloud needs {' and '.join(missing)}: pip install 'homewarden[cloud]'")


def read_config(path: Path) -> CloudConfig:
    """Load ``cloud.yaml``; a bad one is a one-line error."""
    require_cloud_extra()
    try:
        return load_cloud_config(path)
    except CloudConfigError as error:
        raise UserError(str(error)) from None


def serve_command(args: argparse.Namespace) -> int:
    """Serve the API until stopped."""
    import uvicorn

    from homewarden.cloud.api.app import create_cloud_app
    from homewarden.cloud.services import CloudServices

    if (args.certfile is None) != (args.keyfile is None):
        raise UserError("--certfile and --keyfile go together")
    config = read_config(args.config)
    check_port_free(args.host, args.port)
    # A one-machine trial (SQLite) migrates by itself; a service's database is migrated once, by `cloud migrate`,
    # not by every API process starting at the same moment.
    trial = config.database_url.startswith("sqlite")
    services = CloudServices.build(config, migrate=trial)
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                create_cloud_app(services),
                host=args.host,
                port=args.port,
                log_level="warning",
                access_log=False,
                ssl_certfile=str(args.certfile) if args.certfile else None,
                ssl_keyfile=str(args.keyfile) if args.keyfile else None,
            )
        )
        print(f"Homewarden Cloud serving at http{'s' if args.certfile else ''}://{args.host}:{args.port}/", flush=True)
        # uvicorn handles SIGINT/SIGTERM while it runs and raises the signal again once it has shut down; this
        # handler receives that one, so a stopped service exits 0.
        with _signals_end_quietly():
            server.run()
    finally:
        services.close()
    print("Homewarden Cloud stopped", flush=True)
    return 0


@contextmanager
def _signals_end_quietly() -> Iterator[None]:
    previous = {sig: signal.signal(sig, lambda _signum, _frame: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def check_port_free(host: str, port: int) -> None:
    """Refuse at once, in one line, a port another program listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port}: {error.strerror} (choose another with --port)") from None


def worker_command(args: argparse.Namespace) -> int:
    """Run a Celery worker (and beat) until stopped."""
    from homewarden.cloud.services import CloudServices
    from homewarden.cloud.tasks import worker_tasks

    if args.concurrency < 1:
        raise UserError("--concurrency is at least 1")
    config = read_config(args.config)
    # Check the database and the store once before forking, so a bad config is one line, not a crash per task.
    CloudServices.build(config, migrate=False).close()
    worker_tasks(config).run_worker(beat=args.beat, concurrency=args.concurrency, hostname=args.name)
    return 0


def migrate_command(args: argparse.Namespace) -> int:
    """Bring the database to this version's schema."""
    from homewarden.cloud.database import CloudDatabase

    config = read_config(args.config)
    CloudDatabase.open(config.database_url, migrate=True).close()
    print(f"{args.config}: the cloud database is up to date")
    return 0


def invite_command(args: argparse.Namespace) -> int:
    """Print a one-time invitation code."""
    from homewarden.cloud.accounts import CloudAccounts
    from homewarden.cloud.database import CloudDatabase
    from homewarden.cloud.services import check_migrated

    config = read_config(args.config)
    database = CloudDatabase.open(config.database_url, migrate=False)
    try:
        check_migrated(database)
        issued = CloudAccounts(database, config).new_invitation()
    finally:
        database.close()
    print(f"{issued.code}  (one account, until {issued.expires_at:%Y-%m-%d %H:%M} UTC)")
    if config.signup == "open":
        print("note: signup is 'open' in this config, so no invitation is needed", file=sys.stderr)
    return 0


def program_key_command(args: argparse.Namespace) -> int:
    """Create, rotate or show the review program's key (the folder only: no database, no object store)."""
    from homewarden.cloud.review.keys import ProgramKeyError, ProgramKeys, verify_rotations

    config = read_config(args.config)
    keys = ProgramKeys(config.review.key_folder)
    try:
        if args.program_key_command == "create":
            made = keys.create()
            print(f"review program key {made.key_id} made in {keys.folder}")
        elif args.program_key_command == "rotate":
            rotation = keys.rotate()
            print(
                f"review program key rotated: {rotation['previous_key_id']} -> {rotation['program']['key_id']}"
                " (hubs follow the signed rotation; copies sealed to the old key still open)"
            )
        else:
            program = keys.program()
            rotations = keys.rotations()
            # The cloud checks its own record as a hub pinned to the first key would.
            verify_rotations(keys.first_program(), rotations)
            print(f"key id:      {program['key_id']}")
            print(f"verify key:  {program['verify_key']}")
            print(f"created at:  {program['created_at']}")
            print(f"rotations:   {len(rotations)} (every one signed by the key it replaced)")
            print(f"keys held:   {', '.join(keys.held_key_ids())}")
            print(f"folder:      {keys.folder}")
    except ProgramKeyError as error:
        raise UserError(f"review.key_folder: {error}") from None
    return 0


def staff_services(path: Path) -> tuple[CloudDatabase, ReviewStaffAccounts]:
    """Open the review program's accounts of ``cloud.yaml`` (the database must be migrated)."""
    from homewarden.cloud.database import CloudDatabase
    from homewarden.cloud.review.reviewers import ReviewStaffAccounts, StaffSeedKey
    from homewarden.cloud.services import check_migrated

    config = read_config(path)
    database = CloudDatabase.open(config.database_url, migrate=False)
    try:
        check_migrated(database)
    except BaseException:
        database.close()
        raise
    return database, ReviewStaffAccounts(
        database, StaffSeedKey(config.review.key_folder), config.review.staff_session_hours
    )


def read_new_password() -> str:
    """Read a new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("password (12 characters or more): ")
        if getpass.getpass("the same password again: ") != first:
            raise UserError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def staff_create_command(args: argparse.Namespace) -> int:
    """Make a reviewer or admin and show its two-factor secret once."""
    from homewarden.errors import RefusedError

    database, staff = staff_services(args.config)
    try:
        made = staff.create(args.username, read_new_password(), args.role)
    except RefusedError as error:
        raise UserError(str(error)) from None
    finally:
        database.close()
    print(f"{args.role} {made.staff.username} made (pseudonym {made.staff.pseudonym}).")
    print("Two-factor sign-in is mandatory. Hand this over once, in person or sealed; it is not shown again:")
    print(f"  secret: {made.totp_secret}")
    print(f"  {made.otpauth_uri}")
    return 0


def staff_disable_command(args: argparse.Namespace) -> int:
    """Disable a reviewer at once."""
    from homewarden.errors import RefusedError

    database, staff = staff_services(args.config)
    try:
        view = staff.disable(args.username, role=args.role)
    except RefusedError as error:
        raise UserError(str(error)) from None
    finally:
        database.close()
    print(f"{args.role} {view.username} disabled: signed out, their open clip is back in the queue")
    return 0


def staff_list_command(args: argparse.Namespace) -> int:
    """List the reviewers."""
    database, staff = staff_services(args.config)
    try:
        accounts = staff.list(args.role)
    finally:
        database.close()
    for view in accounts:
        state = "disabled" if view.disabled_at else "active"
        print(f"{view.username}\t{view.pseudonym}\t{state}\tsince {view.created_at:%Y-%m-%d}")
    if not accounts:
        print(f"no {args.role}s yet: homewarden cloud {args.role} create --config ... NAME", file=sys.stderr)
    return 0


def training_run_command(args: argparse.Namespace) -> int:
    """Run the training loop once in this process and say what it did."""
    from homewarden.cloud.services import CloudServices

    services = CloudServices.build(read_config(args.config), migrate=False)
    try:
        outcome = services.run_training(force=args.force)
    finally:
        services.close()
    print(outcome.summary)
    return 0


def training_models_command(args: argparse.Namespace) -> int:
    """List the model versions: state, counts, metrics on the evaluation set."""
    from homewarden.cloud.services import CloudServices

    services = CloudServices.build(read_config(args.config), migrate=False)
    try:
        models = services.models.summaries()
    finally:
        services.close()
    if not models:
        print("no model trained yet: homewarden cloud training run --config ...", file=sys.stderr)
    print("version\tstate\tclips\thomes\tsamples\tperson kept\tfalse person\tscore\tcreated (UTC)")

    def shown(value: object) -> str:
        return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    for model in models:
        metrics = model.metrics
        print(
            f"{model.version}\t{model.state}\t{model.clips}\t{model.homes}\t{model.samples}\t"
            f"{shown(metrics.get('person_kept'))}\t{shown(metrics.get('false_person'))}\t"
            f"{shown(metrics.get('score'))}\t{model.created_at:%Y-%m-%d %H:%M}"
        )
    return 0
