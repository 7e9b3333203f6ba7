"""How every hub command takes its config: one option, one search, and one line on stderr saying what it uses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from homewarden.config import CONFIG_ENV, ConfigError, HomewardenConfig, find_config, load_config
from homewarden.i18n import _


def add_config_option(parser: argparse.ArgumentParser, holds: str, *, optional: bool = False) -> None:
    """Add ``--config``, found by find_config when not given; ``optional``: built-in defaults when none is found."""
    parser.add_argument(
        "--config",
        type=Path,
        help=_("the hub's YAML config ({holds}); else ${variable}, else ./homewarden.yaml").format(
            holds=holds, variable=CONFIG_ENV
        ),
    )
    parser.set_defaults(hub_config=True, config_optional=optional)


def resolve_config(args: argparse.Namespace) -> None:
    """Put the config this command uses into ``args.config`` and say on stderr which it is and which database."""
    if not getattr(args, "hub_config", False):
        return
    try:
        found = find_config(args.config)
    except ConfigError:
        if not args.config_optional:
            raise
        say(
            _(
                "no config file (no --config, ${variable} or ./homewarden.yaml): built-in defaults, database {database}"
            ).format(variable=CONFIG_ENV, database=shown_database(HomewardenConfig()))
        )
        return
    args.config = found.path
    config = load_config(found.path)
    say(
        _("config {path} (from {found_by}), database {database}").format(
            path=found.path, found_by=found.found_by, database=shown_database(config)
        )
    )


def shown_database(config: HomewardenConfig) -> str:
    """Return the config's database URL with any password masked."""
    url = config.storage.resolved_database_url()
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _("an invalid database URL")


# What the lines above begin with, in each language (tests set them apart from a command's own output).
ANNOUNCEMENT_PREFIXES = (
    "homewarden: config ",
    "homewarden: no config file ",
    "homewarden: Konfiguration ",
    "homewarden: keine Konfigurationsdatei ",
)


def say(line: str) -> None:
    """Tell the user something about the command itself, on stderr so that stdout stays the command's output."""
    print(f"homewarden: {line}", file=sys.stderr, flush=True)


def load_hub_config(args: argparse.Namespace) -> HomewardenConfig:
    """Return the config resolve_config chose (the built-in defaults for a command that may run without one)."""
    return load_config(args.config) if args.config else HomewardenConfig()
