"""The command line: analyse a video, run the hub, serve its web app, manage keys, users, faces and footage."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from homewarden import __version__
from homewarden.cli import cloud_hub
from homewarden.cli.audit import register_audit_commands
from homewarden.cli.cloud import add_service_commands
from homewarden.cli.faces import register_face_commands
from homewarden.cli.hub_config import add_config_option, resolve_config
from homewarden.cli.owner import register_owner_commands
from homewarden.cli.users import register_user_commands
from homewarden.config import ConfigError, find_config, load_config
from homewarden.errors import UserError
from homewarden.i18n import _, language_from_environment, ngettext, set_language

EXIT_USAGE = 2
# What a shell reports for a program ended by SIGPIPE (128 + 13): `homewarden events list | head` stopped reading.
EXIT_BROKEN_PIPE = 141
log = logging.getLogger("homewarden")


def build_parser() -> argparse.ArgumentParser:
    """Describe the commands and their options."""
    parser = argparse.ArgumentParser(prog="homewarden", description=__doc__)
    parser.add_argument("--version", action="version", version=f"homewarden {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=_("log what each stage does"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser("analyze", help=_("find events in one video file or stream"))
    analyze.add_argument("source", help=_("a video file, rtsp:// or http(s):// URL, or /dev/videoN"))
    add_config_option(analyze, _("its settings and database; built-in defaults if there is none"), optional=True)
    analyze.add_argument("--json", action="store_true", help=_("print one JSON object per event, nothing else"))
    analyze.add_argument(
        "--out", type=Path, help=_("write clips and snapshots here as plain files (else the hub keeps them encrypted)")
    )
    analyze.add_argument("--realtime", action="store_true", help=_("pace a file like a live camera"))
    analyze.add_argument("--quiet", action="store_true", help=_("no progress bar"))
    analyze.add_argument(
        "--mode", choices=["away", "home", "night", "disarmed"], default="away", help=_("arming mode (default: away)")
    )
    analyze.add_argument("--faces", type=Path, metavar="DIR", help=_("household for this run: one photo folder each"))

    run = commands.add_parser("run", help=_("run the configured cameras until stopped"))
    add_config_option(run, _("cameras, storage"))

    serve = commands.add_parser("serve", help=_("run the cameras, the web app and the REST API on one port"))
    add_config_option(serve, _("cameras, storage, server"))
    serve.add_argument("--host", default="127.0.0.1", help=_("address to listen on (default: 127.0.0.1)"))
    serve.add_argument("--port", type=int, default=8765, help=_("port (default: 8765)"))
    add_tls_options(serve)

    status = commands.add_parser(
        "status", help=_("show the running hub's cameras: online, reconnecting or failed, and why")
    )
    add_config_option(status, _("its storage folder holds the running hub's status"))
    status.add_argument("--json", action="store_true", help=_("print one JSON object"))

    config = commands.add_parser("config", help=_("configuration tools"))
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_commands.add_parser("check", help=_("validate a config file"))
    check.add_argument(
        "file", type=Path, nargs="?", help=_("the file (else $HOMEWARDEN_CONFIG, else ./homewarden.yaml)")
    )

    demo = commands.add_parser(
        "demo", help=_("serve a demo camera (a scene composed from sample photos) in the web app")
    )
    demo.add_argument(
        "--out", type=Path, default=Path("demo-output"), help=_("folder for the scene and the hub's data")
    )
    demo.add_argument("--host", default="127.0.0.1", help=_("address to listen on (default: 127.0.0.1)"))
    demo.add_argument("--port", type=int, default=8765, help=_("port (default: 8765)"))
    add_tls_options(demo)
    demo.add_argument("--analyse-only", action="store_true", help=_("analyse the scene once and print its events"))
    demo.add_argument(
        "--cloud",
        action="store_true",
        help=_("also run a local Homewarden Cloud (data under --out) and pair the demo hub with it"),
    )
    demo.add_argument("--cloud-port", type=int, default=8766, help=_("port of the local cloud (default: 8766)"))

    register_owner_commands(commands)  # keys, events, storage
    register_face_commands(commands)  # faces
    register_user_commands(commands)  # users
    register_audit_commands(commands)  # audit
    # cloud: the service's commands (serve, worker, migrate, invite) and the hub's (pair, unpair, status, restore)
    cloud = commands.add_parser("cloud", help=_("Homewarden Cloud: off-site copies the cloud cannot read"))
    cloud_group = cloud.add_subparsers(dest="cloud_command", required=True, metavar="ACTION")
    add_service_commands(cloud_group)
    cloud_hub.register(cloud_group)
    return parser


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    """Add --certfile and --keyfile (HTTPS)."""
    parser.add_argument("--certfile", type=Path, help=_("PEM certificate: serve HTTPS (needed beyond this machine)"))
    parser.add_argument("--keyfile", type=Path, help=_("PEM private key of --certfile"))


def tls_of(args: argparse.Namespace) -> tuple[Path, Path] | None:
    """Return the certificate and key, both or neither."""
    if (args.certfile is None) != (args.keyfile is None):
        raise UserError(_("--certfile and --keyfile go together"))
    return (args.certfile, args.keyfile) if args.certfile else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    set_language(language_from_environment())
    args = build_parser().parse_args(argv)
    # Libraries log at WARNING and above; Homewarden's own messages follow the command and -v.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    own_level = logging.INFO if args.command in ("run", "demo", "serve") else logging.WARNING
    log.setLevel(logging.DEBUG if args.verbose else own_level)
    try:
        resolve_config(args)
        code = run_command(args)
        # Written out here, not at the interpreter's exit, so that a reader gone away is the BrokenPipeError below.
        sys.stdout.flush()
        return code
    except (UserError, ConfigError) as exc:
        print(_("homewarden: error: {problem}").format(problem=exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(_("homewarden: interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Whoever read stdout (`| head`) has stopped: end quietly, and point stdout at /dev/null so that the
        # interpreter's last flush at exit does not raise the same error again as a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def console_main() -> None:
    """Run the command line as a program and exit with its code."""
    code = main()
    # Everything left is freed with the process: frozen, it is spared the interpreter's last garbage collections
    # over every module, half a second of a short `analyze` (the exit handlers still run).
    gc.freeze()
    sys.exit(code)


def run_command(args: argparse.Namespace) -> int:
    """Run the command ``args`` name and return its exit code."""
    if hasattr(args, "handler"):
        return int(args.handler(args))
    if args.command == "analyze":
        from homewarden.cli.analyze import analyze_command

        return analyze_command(args)
    if args.command == "status":
        from homewarden.cli.status import status_command

        return status_command(args.config, args.json)
    from homewarden.cli import hub_commands

    if args.command == "run":
        return hub_commands.run_command(args.config)
    if args.command == "serve":
        return hub_commands.serve_command(args.config, args.host, args.port, tls_of(args))
    if args.command == "demo":
        return hub_commands.demo_command(
            args.out,
            args.host,
            args.port,
            args.analyse_only,
            tls_of(args),
            cloud_port=args.cloud_port if args.cloud else None,
        )
    return check_command(args.file)


def check_command(file: Path | None) -> int:
    """Validate a config file (the one a command would find, if none is named) and say what it holds."""
    path = find_config(file).path
    config = load_config(path)
    count = len(config.cameras)
    cameras = ngettext("{count} camera", "{count} cameras", count).format(count=count)
    print(
        _("{path}: OK ({cameras}, detector {detector})").format(
            path=path, cameras=cameras, detector=config.detector.type
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
