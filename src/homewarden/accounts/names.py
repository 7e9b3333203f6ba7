"""User names: what a new name may hold, and the one canonical form every lookup compares.

A name is kept as typed after NFKC normalisation (``Ａｎｎａ`` becomes ``Anna``) and compared case-blind: its canonical
form is NFKC(casefold(NFKC(name))), the "compatibility caseless match" of Unicode. Sign-in, the sign-in throttle,
account creation and the command line all use ``canonical_name``, so ``VICTIM2`` is the account ``victim2``.

A new name holds letters of one script (Unicode Script_Extensions, with Han beside Hiragana, Katakana, Hangul or
Bopomofo counted as one, as UTS #39 does), digits and ``. _ -``; nothing invisible, no control, format (bidirectional
overrides, zero-width), private-use, unassigned or blank character. So a name cannot pose as another in a list or in
the audit log (``аda`` with a Cyrillic ``а`` beside ``ada``), nor reorder the text around it.

No household name may start with ``review.``: older hubs gave that prefix to their review program's accounts, and
the cloud's reviewers appear in receipts as ``reviewer:r_...``, so a household name never passes for either.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from fontTools.unicodedata import script_extension, script_name

from homewarden.i18n import _

MAX_NAME_LENGTH = 64
PROGRAM_PREFIX = "review."
NAME_PUNCTUATION = frozenset("._-")
# More combining marks than this on one letter is text stacked to overflow its line, not a name.
MAX_MARKS_PER_LETTER = 3
# Default-ignorable code points that are letters or marks rather than format characters: they draw nothing, so a
# name holding one looks like the name without it (Hangul fillers, variation selectors, the grapheme joiner).
INVISIBLE_CODE_POINTS = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)
# Common and Inherited characters (ASCII digits, . _ -, combining accents) go with any script.
_ANY_SCRIPT = frozenset({"Zyyy", "Zinh"})
# UTS #39 "augmented" script sets: Japanese mixes Han, Hiragana and Katakana; Korean Han and Hangul; Chinese may add
# Bopomofo. A name in any of them still reads as one writing system.
_AUGMENTED_SCRIPTS: dict[str, frozenset[str]] = {
    "Hani": frozenset({"Hani", "Jpan", "Kore", "Hanb"}),
    "Hira": frozenset({"Hira", "Jpan"}),
    "Kana": frozenset({"Kana", "Jpan"}),
    "Hang": frozenset({"Hang", "Kore"}),
    "Bopo": frozenset({"Bopo", "Hanb"}),
}


class UserNameError(ValueError):
    """A new user name that is refused; the message says why, naming the character."""


@dataclass(frozen=True)
class UserName:
    """A checked new name: as it is shown, and the canonical form it is unique by."""

    shown: str
    canonical: str


def canonical_name(name: str) -> str:
    """Return the form names are compared in (``Anna``, ``ANNA`` and ``Ａｎｎａ`` are one name)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def new_user_name(name: str, *, household: bool) -> UserName:
    """Check a name for a new account; household names may not take the review program's prefix."""
    shown = unicodedata.normalize("NFKC", name.strip())
    canonical = canonical_name(shown)
    if not shown:
        raise UserNameError(_("a user name needs at least one letter or digit"))
    if max(len(shown), len(canonical)) > MAX_NAME_LENGTH:
        raise UserNameError(_("a user name has at most {count} characters").format(count=MAX_NAME_LENGTH))
    _check_characters(shown)
    own_part = canonical
    if canonical.startswith(PROGRAM_PREFIX):
        if household:
            raise UserNameError(
                _("names starting with {prefix!r} belong to review-program accounts").format(prefix=PROGRAM_PREFIX)
            )
        own_part = canonical[len(PROGRAM_PREFIX) :]
    if not any(unicodedata.category(char)[0] in "LN" for char in own_part):
        raise UserNameError(_("a user name needs at least one letter or digit"))
    _check_one_script(own_part)
    return UserName(shown, canonical)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'without a name')}"


def _check_characters(name: str) -> None:
    marks = 0
    for position, char in enumerate(name, start=1):
        category = unicodedata.category(char)
        where = _("{char}, character {position}").format(char=_describe(char), position=position)
        if char.isspace() or category[0] == "Z":
            raise UserNameError(
                _("a user name cannot hold spaces or other blank characters ({where})").format(where=where)
            )
        if category == "Cc":
            raise UserNameError(_("a user name cannot hold control characters ({where})").format(where=where))
        if category == "Cf" or ord(char) in INVISIBLE_CODE_POINTS:
            raise UserNameError(
                _(
                    "a user name cannot hold invisible or text-direction characters ({where}): "
                    "they make one name look like another"
                ).format(where=where)
            )
        if category == "Cs":
            raise UserNameError(
                _("a user name cannot hold a lone surrogate (character {position})").format(position=position)
            )
        if category in ("Cn", "Co"):
            raise UserNameError(
                _("a user name cannot hold unassigned or private-use characters ({where})").format(where=where)
            )
        marks = marks + 1 if category[0] == "M" else 0
        if marks and position == marks:
            raise UserNameError(_("a user name cannot start with a combining mark ({where})").format(where=where))
        if marks > MAX_MARKS_PER_LETTER:
            raise UserNameError(
                _("a user name has at most {count} accents on one letter ({where})").format(
                    count=MAX_MARKS_PER_LETTER, where=where
                )
            )
        if category[0] not in "LM" and category != "Nd" and char not in NAME_PUNCTUATION:
            raise UserNameError(_("a user name holds letters, digits and . _ - only ({where})").format(where=where))


def _check_one_script(name: str) -> None:
    common: frozenset[str] | None = None
    first = ""
    for char in name:
        scripts = frozenset(script_extension(char)) - _ANY_SCRIPT
        if not scripts:
            continue
        augmented = frozenset().union(*(_AUGMENTED_SCRIPTS.get(script, frozenset({script})) for script in scripts))
        if common is None:
            common, first = augmented, char
        elif common & augmented:
            common &= augmented
        else:
            raise UserNameError(
                _(
                    "a user name uses one alphabet: {char} is {script} but {first} is {first_script} (letters that "
                    "look alike in another alphabet would impersonate a name)"
                ).format(
                    char=_describe(char),
                    script=_script_of(char),
                    first=_describe(first),
                    first_script=_script_of(first),
                )
            )


def _script_of(char: str) -> str:
    return _(" or ").join(sorted(script_name(script) for script in script_extension(char)))
