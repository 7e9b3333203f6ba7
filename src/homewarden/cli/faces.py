"""The `faces` commands: enrol, list and remove household members, and identify the faces in photos."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from homewarden.cli.hub_config import add_config_option, load_hub_config
from homewarden.config import HomewardenConfig
from homewarden.errors import UserError
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import Gallery, check_member_name, enrolment_face, gallery_from_folder, read_photo
from homewarden.faces.library import FaceLibrary, open_household
from homewarden.i18n import _, counted

Handler = Callable[[argparse.Namespace], int]


def register_face_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``faces`` command group; each command sets ``handler``."""
    faces = commands.add_parser("faces", help=_("the household members recognised by their faces")).add_subparsers(
        dest="faces_command", required=True, metavar="ACTION"
    )
    enroll = _command(faces, "enroll", faces_enroll, _("add a member, or more photos of one (one face per photo)"))
    enroll.add_argument("name", metavar="NAME")
    enroll.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    listing = _command(faces, "list", faces_list, _("list the members and the photos they were enrolled from"))
    listing.add_argument("--json", action="store_true", help=_("one JSON object per member"))
    remove = _command(faces, "remove", faces_remove, _("delete a member and every embedding of their face"))
    remove.add_argument("name", metavar="NAME")
    identify = _command(faces, "identify", faces_identify, _("say who is in photos"), config_optional=True)
    identify.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    identify.add_argument("--faces", type=Path, metavar="DIR", help=_("use these member photos (one folder each)"))
    identify.add_argument("--json", action="store_true", help=_("one JSON object per face found, nothing else"))


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    help_text: str,
    *,
    config_optional: bool = False,
) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_text)
    add_config_option(parser, _("its database holds the household"), optional=config_optional)
    parser.set_defaults(handler=handler)
    return parser


def _config(args: argparse.Namespace) -> HomewardenConfig:
    return load_hub_config(args)


def _library(config: HomewardenConfig, args: argparse.Namespace) -> FaceLibrary:
    return open_household(config, args.config)


def faces_enroll(args: argparse.Namespace) -> int:
    """Enrol every photo or none: a photo without exactly one face stops the whole enrolment."""
    name = check_member_name(args.name)
    config = _config(args)
    finder = FaceFinder()
    faces = [(photo.name, enrolment_face(finder, photo).embedding) for photo in args.photos]
    with _library(config, args) as library:
        total = library.enroll(name, faces)
    print(
        _("enrolled {member}: {photos} added, {total} in all").format(
            member=name, photos=counted("{count} photo", "{count} photos", len(faces)), total=total
        )
    )
    return 0


def faces_list(args: argparse.Namespace) -> int:
    """Print the members."""
    with _library(_config(args), args) as library:
        members = library.members()
    for member in members:
        if args.json:
            print(
                json.dumps(
                    {"name": member.name, "photos": list(member.photos), "enrolled_at": member.enrolled_at.isoformat()}
                )
            )
        else:
            print(
                _("{name}: {count} ({photos})").format(
                    name=member.name,
                    count=counted("{count} photo", "{count} photos", len(member.photos)),
                    photos=", ".join(member.photos),
                )
            )
    if not members and not args.json:
        print(_("no members enrolled"))
    return 0


def faces_remove(args: argparse.Namespace) -> int:
    """Delete a member with every embedding."""
    with _library(_config(args), args) as library:
        removed = library.remove(args.name)
    if removed is None:
        raise UserError(_("no member named {name!r}; nothing was removed").format(name=args.name))
    print(
        _("removed {name} and {embeddings}").format(
            name=args.name.strip(), embeddings=counted("{count} face embedding", "{count} face embeddings", removed)
        )
    )
    return 0


def faces_identify(args: argparse.Namespace) -> int:
    """Print, for every face in the photos, the member it is or ``unknown``, with the distance."""
    config = _config(args)
    threshold = config.faces.match_threshold
    gallery: Gallery
    if args.faces:
        gallery = gallery_from_folder(args.faces, threshold)
    elif args.config is None:
        raise UserError(_("no config file names the household: pass --config FILE, or --faces DIR (photo folders)"))
    else:
        with _library(config, args) as library:
            gallery = library.gallery(threshold)
    finder = FaceFinder()
    for photo in args.photos:
        faces = finder.in_photo(read_photo(photo))
        if not faces and not args.json:
            print(_("{photo}: no face found").format(photo=photo))
        for face in sorted(faces, key=lambda found: (found.box[0], found.box[1])):
            match = gallery.match(face.embedding)
            distance = round(match.distance, 4) if match.nearest else None
            if args.json:
                print(
                    json.dumps({"photo": str(photo), "box": list(face.box), "name": match.label, "distance": distance})
                )
            else:
                if match.nearest is None:
                    detail = _(" (nobody is enrolled)")
                elif match.name is None:
                    detail = _(" (nearest: {name} at {distance})").format(name=match.nearest, distance=distance)
                else:
                    detail = _(" at {distance}").format(distance=distance)
                print(f"{photo} {list(face.box)}: {match.label}{detail}")
    return 0
