"""`homewarden events list`: the stored events, newest first, as a table or JSON lines, to find an event's id."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta, tzinfo

from homewarden.accounts.store import AccountStore
from homewarden.cli.hub_config import load_hub_config
from homewarden.config import HomewardenConfig
from homewarden.errors import UserError
from homewarden.events.arming import schedule_timezone
from homewarden.events.record import EventRecord
from homewarden.i18n import _
from homewarden.report import event_json
from homewarden.store.database import EventStore

AGO = re.compile(r"(\d+)\s*([mhdw])")
AGO_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def add_list_options(parser: argparse.ArgumentParser) -> None:
    """Add the filters of ``events list``."""
    parser.add_argument("--camera", help=_("only this camera's events"))
    parser.add_argument("--label", help=_("only this kind of object (person, cat, car, ...)"))
    parser.add_argument(
        "--since",
        help=_("only events from then on: 2h, 3d, 1w ago, or a date/time such as 2026-12-01 or 2026-12-01T18:30"),
    )
    alarm = parser.add_mutually_exclusive_group()
    alarm.add_argument(
        "--alarm", dest="alarm", action="store_const", const=True, help=_("only events that raised an alarm")
    )
    alarm.add_argument("--no-alarm", dest="alarm", action="store_const", const=False, help=_("only events without one"))
    parser.add_argument("--limit", type=int, default=50, help=_("at most this many (default: 50)"))
    parser.add_argument("--json", action="store_true", help=_("one JSON object per event (times in UTC), nothing else"))


def events_list(args: argparse.Namespace) -> int:
    """Print the stored events that match the filters, newest first."""
    if args.limit < 1:
        raise UserError(_("--limit must be at least 1, got {limit}").format(limit=args.limit))
    config = load_hub_config(args)
    with EventStore.open(config.storage.resolved_database_url()) as store:
        zone = home_zone(config, store)
        since = parse_since(args.since, zone, datetime.now(UTC)) if args.since else None
        if args.camera is not None and args.camera not in config.cameras and not store.count_events([args.camera]):
            known = ", ".join(config.cameras) or "none configured"
            raise UserError(_("no camera named {name!r} (cameras: {known})").format(name=args.camera, known=known))
        records = store.list_events(
            camera=args.camera, label=args.label, alarm=args.alarm, since=since, limit=args.limit
        )
    if args.json:
        for record in records:
            print(json.dumps(event_json(record)))
        return 0
    if not records:
        print(_("no events match"))
        return 0
    heading = _("when ({zone})").format(zone=zone_name(zone))
    columns = (_("camera"), _("what"), _("alarm"))
    print(f"{heading:<22} {columns[0]:<16} {columns[1]:<16} {columns[2]:<5} id")
    for record in records:
        what = record.label + (f": {record.sub_label}" if record.sub_label else "")
        alarm = _("yes") if record.alarm else "-"
        print(f"{when(record, zone):<22} {record.camera:<16} {what:<16} {alarm:<5} {record.id}")
    return 0


def home_zone(config: HomewardenConfig, store: EventStore) -> tzinfo:
    """Return the home's time zone: the one chosen at set-up, else the config's, else the hub machine's."""
    home_id = AccountStore(store.engine).first_home_id()
    home = AccountStore(store.engine).home(home_id) if home_id is not None else None
    chosen = home.timezone if home is not None and home.timezone else config.alarm.timezone
    return schedule_timezone(config.alarm.model_copy(update={"timezone": chosen}))


def zone_name(zone: tzinfo) -> str:
    """Return a time zone's name as people know it (Europe/Berlin), or its abbreviation."""
    return str(getattr(zone, "key", None) or datetime.now(zone).tzname() or "local")


def when(record: EventRecord, zone: tzinfo) -> str:
    """Return when an event happened in the home's time, or its offset into the video it was found in."""
    if not record.live:
        return _("{seconds} s into a file").format(seconds=f"{record.start:.1f}")
    return datetime.fromtimestamp(record.start, tz=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def parse_since(text: str, zone: tzinfo, now: datetime) -> datetime:
    """Read --since: an age such as 2h or 3d, or an ISO date/time (in the home's time zone unless it says)."""
    ago = AGO.fullmatch(text.strip())
    if ago:
        return now - timedelta(**{AGO_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            _("--since {text!r}: give an age (30m, 2h, 3d, 1w) or a date/time (2026-12-01 or 2026-12-01T18:30)").format(
                text=text
            )
        ) from None
    # In UTC: the database compares stored UTC times as text, so an offset other than +00:00 would be misread.
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).astimezone(UTC)
