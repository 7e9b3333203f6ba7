"""Keep the catalogs in step with the code: extract marked strings per domain and list what lacks a translation.

``python -m homewarden.i18n.catalogs update`` adds new message ids to every language's ``.po`` files (keeping the
translations made) and drops ids no code uses any more; ``check`` lists the ids without a translation, and the test
suite fails on any.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from homewarden.i18n import ENGLISH, LANGUAGES, catalog_path

PACKAGE = Path(__file__).resolve().parent.parent
PYTHON_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "counted": (1, 2)}
# The web app's scripts call t("...") and tn("one", "many", n).
SCRIPT_KEYWORDS = {"t": None, "tn": (1, 2)}


@dataclass(frozen=True)
class Source:
    """Files of one kind that feed one domain."""

    domain: str
    pattern: str
    method: str
    keywords: dict[str, tuple[int, int] | None]
    skip: tuple[str, ...] = ()


SOURCES = (
    Source("web", "web/**/*.py", "python", PYTHON_KEYWORDS),
    Source("web", "web/templates/**/*.html", "jinja2", PYTHON_KEYWORDS),
    Source("web", "web/static/**/*.js", "javascript", SCRIPT_KEYWORDS),
    # Everything else the hub's Python says; the cloud's staff pages stay English (its reviewers are the provider's).
    Source("messages", "**/*.py", "python", PYTHON_KEYWORDS, skip=("web/", "cloud/", "i18n/")),
)


def _method(name: str) -> str:
    return "jinja2.ext:babel_extract" if name == "jinja2" else name


def _files(source: Source) -> Iterator[Path]:
    for path in sorted(PACKAGE.glob(source.pattern)):
        relative = path.relative_to(PACKAGE).as_posix()
        if not any(relative.startswith(prefix) for prefix in source.skip):
            yield path


def extract(domain: str) -> Catalog:
    """Return every message id the code marks for one domain, with where it is used."""
    catalog = Catalog(domain=domain, locale=ENGLISH, project="Homewarden")
    for source in SOURCES:
        if source.domain != domain:
            continue
        for path in _files(source):
            options = {"extensions": "jinja2.ext.i18n"} if source.method == "jinja2" else {}
            found = extract_from_file(
                _method(source.method), str(path), keywords=source.keywords, options=options, strip_comment_tags=True
            )
            for line, message, comments, context in found:
                catalog.add(
                    message,
                    locations=[(path.relative_to(PACKAGE).as_posix(), line)],
                    auto_comments=comments,
                    context=context,
                )
    return catalog


def read_catalog(language: str, domain: str) -> Catalog:
    """Return a language's catalog of one domain (empty when it has none yet)."""
    path = catalog_path(language, domain)
    if not path.exists():
        return Catalog(domain=domain, locale=language, project="Homewarden")
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language, domain=domain)


def update(language: str, domain: str) -> Path:
    """Bring a language's catalog in step with the code, keeping the translations made."""
    template = extract(domain)
    catalog = read_catalog(language, domain)
    # Keep the header's date, so an update that finds nothing new changes nothing.
    template.creation_date = catalog.creation_date
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    path = catalog_path(language, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po_file:
        # File names without line numbers: an edit elsewhere in a file does not touch the catalog.
        write_po(po_file, catalog, width=120, sort_output=True, include_lineno=False)
    return path


def untranslated(language: str, domain: str) -> list[str]:
    """List the message ids the code uses that have no translation in a language's catalog."""
    catalog = read_catalog(language, domain)
    missing = []
    for message in extract(domain):
        if not message.id:
            continue
        known = catalog.get(message.id)
        strings = known.string if known is not None else ""
        complete = all(strings) if isinstance(strings, tuple) else bool(strings)
        if known is None or known.fuzzy or not complete:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str]) -> int:
    """Run ``update`` or ``check`` for every language and domain."""
    command = argv[0] if argv else "check"
    others = [language for language in LANGUAGES if language != ENGLISH]
    domains = ("messages", "web")
    if command == "update":
        for language in others:
            for domain in domains:
                print(update(language, domain))
        return 0
    if command == "check":
        missing = {(lang, dom): untranslated(lang, dom) for lang in others for dom in domains}
        for (language, domain), ids in missing.items():
            for message_id in ids:
                print(f"{language}/{domain}: {message_id}")
        return 1 if any(missing.values()) else 0
    print("usage: python -m homewarden.i18n.catalogs update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
