"""Say a validation problem (pydantic's error) as a sentence in the reader's language.

English keeps pydantic's own message, word for word (scripts and tests read it). Other languages get a sentence per
error type from the ``messages`` catalog, filled with the error's context (the limit, the length, the choices); a
type without a sentence here keeps pydantic's English message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.numbers import format_decimal

from homewarden.i18n import ENGLISH, N_, _, current_language

# Pydantic error type → the sentence, with the names of the error's context as placeholders.
SENTENCES: Mapping[str, str] = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not allowed here."),
    "string_type": N_("Enter text."),
    "string_too_short": N_("Enter at least {min_length} character(s)."),
    "string_too_long": N_("Enter at most {max_length} character(s)."),
    "string_pattern_mismatch": N_("This text does not have the expected form."),
    "int_type": N_("Enter a whole number."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_type": N_("Enter a number."),
    "float_parsing": N_("Enter a number."),
    "bool_type": N_("Choose yes or no."),
    "bool_parsing": N_("Choose yes or no."),
    "greater_than": N_("Enter a number greater than {gt}."),
    "greater_than_equal": N_("Enter a number of at least {ge}."),
    "less_than": N_("Enter a number less than {lt}."),
    "less_than_equal": N_("Enter a number of at most {le}."),
    "too_short": N_("Give at least {min_length} item(s)."),
    "too_long": N_("Give at most {max_length} item(s)."),
    "literal_error": N_("Choose one of: {expected}."),
    "enum": N_("Choose one of: {expected}."),
    "dict_type": N_("This must be a mapping of keys and values."),
    "model_type": N_("This must be a mapping of keys and values."),
    "model_attributes_type": N_("This must be a mapping of keys and values."),
    "list_type": N_("This must be a list."),
    "json_invalid": N_("This is not valid JSON."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_type": N_("Enter a date and time."),
    "date_parsing": N_("Enter a date."),
    "time_parsing": N_("Enter a time of day."),
    "url_parsing": N_("Enter a valid URL."),
    "url_scheme": N_("Enter a valid URL."),
}


def validation_message(error: Mapping[str, Any]) -> str:
    """Return the message of one pydantic error in the current language (pydantic's own message in English)."""
    message = str(error.get("msg", ""))
    kind = str(error.get("type", ""))
    if kind == "value_error":
        # Our own validators raise ValueError with a sentence already in the reader's language.
        return message.removeprefix("Value error, ")
    if current_language() == ENGLISH or kind not in SENTENCES:
        return message
    context = {key: _shown(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return _(SENTENCES[kind]).format(**context)
    except (KeyError, IndexError, ValueError):
        return message


def _shown(value: Any) -> str:
    """Return a context value as the reader sees it: numbers in the language's format, choices as "a, b"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_decimal(value, locale=current_language())
    text = str(value)
    return text.replace("' or '", ", ").replace("', '", ", ").strip("'") if "'" in text else text
