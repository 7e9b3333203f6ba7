"""Speak the reader's language: gettext catalogs (Babel) for pages, scripts, API errors, notifications and the CLI.

Visible strings are written in English and marked: ``_("Cameras")`` in Python, ``{{ _("Cameras") }}`` in templates,
``t("Cameras")`` in the web app's scripts. ``N_()`` marks a string kept in a constant and translated where it is
shown. The language of the moment is a context variable: the web app sets it per request (the account's choice, else
the browser's ``Accept-Language``), the notifiers per recipient, the command line from ``HOMEWARDEN_LANG`` or the
POSIX locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``). English needs no catalog: a message id is its English text.

Catalogs are plain ``.po`` files under ``i18n/locale/<lang>/LC_MESSAGES/<domain>.po``, read once on first use (no
compiled ``.mo`` to drift from its source). Two domains keep the two halves apart: ``web`` (templates, scripts, page
code) and ``messages`` (everything else the Python code says: errors, notifications, the command line).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Formatter

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.dates import format_time as _babel_format_time
from babel.messages.pofile import read_po

ENGLISH = "en"
LANGUAGES: tuple[str, ...] = ("en", "de")
LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "de": "Deutsch"}
DOMAINS: tuple[str, ...] = ("messages", "web")
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("homewarden_language", default=ENGLISH)


def catalog_path(language: str, domain: str) -> Path:
    """Return where a language's catalog of one domain lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


@cache
def translations(language: str) -> Mapping[str | tuple[str, str], str | tuple[str, ...]]:
    """Return a language's translated messages of every domain: id → text, (singular, plural) → plural forms."""
    table: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    if language == ENGLISH:
        return table
    for domain in DOMAINS:
        path = catalog_path(language, domain)
        if not path.exists():
            continue
        with path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language, domain=domain)
        for message in catalog:
            if not message.id or message.fuzzy or not message.string:
                continue
            if isinstance(message.id, (tuple, list)):
                forms = tuple(message.string)
                if all(forms):
                    table[(str(message.id[0]), str(message.id[1]))] = forms
            elif isinstance(message.string, str):
                table[str(message.id)] = message.string
    return table


def current_language() -> str:
    """Return the language of the request, recipient or command being served now."""
    return _current.get()


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Speak ``language`` (English when unknown) inside the block."""
    chosen = language if language in LANGUAGES else ENGLISH
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_language(language: str | None) -> str:
    """Speak ``language`` from now on in this context (a request's task, the command line's process)."""
    chosen = language if language in LANGUAGES else ENGLISH
    _current.set(chosen)
    return chosen


def gettext(message: str) -> str:
    """Return ``message`` in the current language (itself when it has no translation)."""
    translated = translations(_current.get()).get(message)
    return translated if isinstance(translated, str) else message


_ = gettext


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the form of a message for ``count`` in the current language."""
    language = _current.get()
    forms = translations(language).get((singular, plural))
    if isinstance(forms, tuple):
        # German and English have two forms: "one" is the first, every other category the last.
        return forms[0] if Locale.parse(language).plural_form(count) == "one" else forms[-1]
    return singular if count == 1 else plural


def N_(message: str) -> str:  # noqa: N802 - the name every gettext extractor knows
    """Mark ``message`` for translation where it is shown, not here."""
    return message


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Choose a language: the account's choice when it has one, else the best of the browser's, else English."""
    if preferred in LANGUAGES:
        return preferred
    if not accept_language:
        return ENGLISH
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weighted.append((-quality, position, tag.strip().lower()))
    for negative_quality, _position, tag in sorted(weighted):
        if negative_quality >= 0:
            continue
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return ENGLISH


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """Choose the command line's language: ``HOMEWARDEN_LANG``, else the POSIX locale variables, else English."""
    env = os.environ if environ is None else environ
    for name in ("HOMEWARDEN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if not value:
            continue
        primary = value.split(".")[0].split("_")[0].split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
        if name != "HOMEWARDEN_LANG" and primary not in ("", "c", "posix"):
            # The first POSIX variable set decides, as in gettext; one we do not speak means English.
            return ENGLISH
    return ENGLISH


def _locale() -> Locale:
    try:
        return Locale.parse(_current.get())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(ENGLISH)


def format_datetime(moment: datetime, width: str = "medium") -> str:
    """Return a date and time in the current language's format (``moment`` already in the home's time zone)."""
    return _babel_format_datetime(moment, format=width, tzinfo=moment.tzinfo, locale=_locale())


def format_date(moment: datetime, width: str = "medium") -> str:
    """Return a date in the current language's format."""
    return _babel_format_date(moment, format=width, locale=_locale())


def format_time(moment: datetime, width: str = "short") -> str:
    """Return a time of day in the current language's format."""
    return _babel_format_time(moment, format=width, tzinfo=moment.tzinfo, locale=_locale())


def translate_stored(text: str, templates: Iterable[str]) -> str:
    """Return English ``text`` written earlier from one of ``templates`` in the current language, its values too."""
    for template in templates:
        values = _stored_pattern(template).fullmatch(text)
        if values is not None:
            return gettext(template).format(**{name: gettext(value) for name, value in values.groupdict().items()})
    return gettext(text)


@cache
def _stored_pattern(template: str) -> re.Pattern[str]:
    # "{reason}" becomes a named group; a name used twice must match the same text again.
    parts: list[str] = []
    seen: set[str] = set()
    for literal, name, _spec, _conversion in Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def counted(singular: str, plural: str, count: int) -> str:
    """Return ``count`` with its noun in the current language: "1 photo", "2 photos", "2 Fotos"."""
    return ngettext(singular, plural, count).format(count=count)
