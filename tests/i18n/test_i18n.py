"""The language machinery: choosing a language, looking messages up, plural forms and dates in each locale."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from homewarden.i18n import (
    current_language,
    format_datetime,
    gettext,
    language_from_environment,
    negotiate,
    ngettext,
    translate_stored,
    translations,
    use_language,
)
from homewarden.i18n.catalogs import SOURCES, extract, untranslated

# Characters of a translation's opening that, found again further on, show it pasted twice.
REPEAT_CHECK = 40


@pytest.mark.parametrize(
    ("header", "chosen", "expected"),
    [
        (None, None, "en"),
        ("de-DE,de;q=0.9,en;q=0.8", None, "de"),
        ("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4", None, "de"),
        ("fr-FR", None, "en"),
        ("en-US,en;q=0.9,de;q=0.8", None, "en"),
        ("de;q=0.2,en;q=0.9", None, "en"),
        ("de;q=0", None, "en"),
        ("de;q=oops,en", None, "en"),
        ("en-GB", "de", "de"),
        ("de-DE", "xx", "de"),
    ],
)
def test_the_account_choice_wins_then_the_browsers_best_language(
    header: str | None, chosen: str | None, expected: str
) -> None:
    assert negotiate(header, chosen) == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de_DE.UTF-8", "LC_ALL": "C"}, "de"),
        ({"LANG": "de_DE.UTF-8", "LC_ALL": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "HOMEWARDEN_LANG": "de"}, "de"),
    ],
)
def test_the_command_line_reads_its_language_from_the_environment(environ: dict[str, str], expected: str) -> None:
    assert language_from_environment(environ) == expected


def test_a_language_holds_inside_its_block_only() -> None:
    assert current_language() == "en"
    with use_language("de") as language:
        assert language == "de"
        assert current_language() == "de"
        with use_language("klingon"):
            assert current_language() == "en"
    assert current_language() == "en"


def test_german_has_a_catalog_and_english_needs_none() -> None:
    assert translations("en") == {}
    german = translations("de")
    assert german, "the German catalogs hold no translated message"
    message_id = next(key for key, value in german.items() if isinstance(key, str) and value != key)
    with use_language("de"):
        assert gettext(message_id) == german[message_id]
    assert gettext(message_id) == message_id
    assert gettext("a sentence nobody marked") == "a sentence nobody marked"


def test_no_german_message_says_its_text_twice() -> None:
    """A translation pasted twice (one once shipped on the camera settings page) reads as a stutter."""
    repeated = []
    for key, value in translations("de").items():
        for german in value if isinstance(value, tuple) else (value,):
            opening = german[:REPEAT_CHECK]
            if len(german) >= 2 * REPEAT_CHECK and german.count(opening) > 1:
                repeated.append(key)
    assert repeated == []


def test_plural_forms_follow_the_count() -> None:
    german = translations("de")
    plural = next((key for key in german if isinstance(key, tuple)), None)
    assert plural is not None, "the German catalogs hold no plural message"
    one, other = german[plural]
    with use_language("de"):
        assert ngettext(plural[0], plural[1], 1) == one
        assert ngettext(plural[0], plural[1], 3) == other
        assert ngettext(plural[0], plural[1], 0) == other
    assert ngettext(plural[0], plural[1], 1) == plural[0]
    assert ngettext(plural[0], plural[1], 2) == plural[1]


def test_dates_and_times_take_the_locales_format() -> None:
    moment = datetime(2026, 3, 29, 14, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    with use_language("de"):
        german = format_datetime(moment)
    english = format_datetime(moment)
    assert german.startswith("29.03.2026"), german
    assert "14:05" in german
    assert english.startswith("Mar 29, 2026"), english
    assert "2:05" in english


@pytest.mark.parametrize("domain", sorted({source.domain for source in SOURCES}))
def test_every_marked_string_has_a_german_translation(domain: str) -> None:
    assert extract(domain), f"no marked string found for the {domain} domain: is extraction looking in the right place?"
    missing = untranslated("de", domain)
    assert not missing, (
        f"{len(missing)} {domain} strings have no German translation; run "
        f"`python -m homewarden.i18n.catalogs update`, translate, and check: {missing[:20]}"
    )


def test_a_stored_english_sentence_is_read_in_the_current_language_with_its_values() -> None:
    templates = ("A clip was not donated: {reason}. Nobody saw it.", "{what}: cannot reach the cloud: {problem}")
    stored = "A clip was not donated: the review program runs in Homewarden Cloud: pair this hub first. Nobody saw it."
    with use_language("de"):
        assert translate_stored(stored, templates) == (
            "Ein Clip wurde nicht gespendet: das Prüfprogramm läuft in Homewarden Cloud: koppeln Sie zuerst "
            "diesen Hub. Niemand hat ihn gesehen."
        )
        # A value the catalog does not know (an HTTP library's words) is kept as it was.
        assert translate_stored("upload refused: cannot reach the cloud: timed out", templates) == (
            "Hochladen abgewiesen: die Cloud ist nicht erreichbar: timed out"
        )
        # Text of no template: its own catalog entry, else itself.
        assert translate_stored("never", templates) == "nie"
        assert translate_stored("something else", templates) == "something else"
    assert translate_stored(stored, templates) == stored
