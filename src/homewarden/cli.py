"""The command line: analyse a video, run live cameras, check a config."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from homewarden import __version__
from homewarden.config import ConfigError, HomewardenConfig, load_config, single_source_config
from homewarden.events.record import EventRecord

EXIT_USAGE = 2
log = logging.getLogger("homewarden")


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def event_json(record: EventRecord) -> dict[str, Any]:
    """Return the JSON object printed for an event."""

    def when(seconds: float) -> float | str:
        if record.live:
            return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")
        return round(seconds, 3)

    return {
        "id": record.id,
        "camera": record.camera,
        "label": record.label,
        "sub_label": None,
        "score": record.score,
        "start": when(record.start),
        "end": when(record.end),
        "clip": record.clips[0].path if record.clips else None,
        "clips": [clip.path for clip in record.clips],
        "snapshot": record.snapshot,
        "box": list(record.box),
        "zones": list(record.zones),
        "alarm": record.alarm,
        "clip_error": record.clip_error,
    }


def build_parser() -> argparse.ArgumentParser:
    """Describe the commands and their options."""
    parser = argparse.ArgumentParser(prog="homewarden", description=__doc__)
    parser.add_argument("--version", action="version", version=f"homewarden {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser("analyze", help="find events in one video file or stream")
    analyze.add_argument("source", help="a video file, rtsp:// or http(s):// URL, or /dev/videoN")
    analyze.add_argument("--config", type=Path, help="YAML config (defaults apply without one)")
    analyze.add_argument("--json", action="store_true", help="print one JSON object per event, nothing else")
    analyze.add_argument("--out", type=Path, help="write clips and snapshots here as plain files")
    analyze.add_argument("--realtime", action="store_true", help="pace a file like a live camera")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    run = commands.add_parser("run", help="run the configured cameras until stopped")
    run.add_argument("--config", type=Path, required=True, help="YAML config")

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_commands.add_parser("check", help="validate a config file")
    check.add_argument("file", type=Path)

    demo = commands.add_parser("demo", help="compose a demo scene from sample photos and analyse it")
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for the scene and events")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO if args.command in ("run", "demo") else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from homewarden import app

    try:
        if args.command == "analyze":
            return app.analyze_command(args)
        if args.command == "run":
            return app.run_command(args.config)
        if args.command == "demo":
            return app.demo_command(args.out)
        return check_command(args.file)
    except (UserError, ConfigError) as exc:
        print(f"homewarden: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("homewarden: interrupted", file=sys.stderr)
        return 130


def check_command(path: Path) -> int:
    """Validate a config file and say what it holds."""
    config = load_config(path)
    print(f"{path}: OK ({len(config.cameras)} camera(s), detector {config.detector.type})")
    return 0


def load_or_default(path: Path | None) -> HomewardenConfig:
    """Load the config file, or the defaults when none is given."""
    return load_config(path) if path else HomewardenConfig()


__all__ = ["event_json", "load_or_default", "main", "single_source_config"]


if __name__ == "__main__":
    sys.exit(main())
