"""The web domain's German catalog: what the pages embed for their scripts, and translations that keep their slots."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from homewarden.i18n import catalog_path
from homewarden.web.pages import script_messages

SLOTS = re.compile(r"\{\w+\}|%\(\w+\)s|<[^>]+>")


def test_english_pages_embed_no_messages_and_german_ones_only_what_their_scripts_say() -> None:
    assert script_messages("en") == {}
    german = script_messages("de")
    assert german["Today"] == "Heute"
    assert german["{count} photo"] == ["{count} Foto", "{count} Fotos"]
    assert german["Clip {number}"] == "Clip {number}"
    # Said only by a template: the server renders it, the page need not carry it.
    assert "Sign in to Homewarden" not in german


def test_every_german_message_keeps_the_placeholders_and_markup_of_its_english_one() -> None:
    with catalog_path("de", "web").open("rb") as po_file:
        catalog = read_po(po_file, locale="de", domain="web")
    broken = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        wanted = sorted(SLOTS.findall(ids[-1]))
        for german in strings:
            # A German singular may say "eine Person" where English says "a person" for {count} people.
            if sorted(SLOTS.findall(german)) != wanted and not (len(ids) == 2 and german is strings[0]):
                broken.append((ids[0], german))
    assert broken == []
