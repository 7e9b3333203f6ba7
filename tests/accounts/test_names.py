"""What a new user name may hold, and the canonical form every lookup compares."""

from __future__ import annotations

import re

import pytest

from homewarden.accounts.names import (
    UserNameError,
    canonical_name,
    new_user_name,
)


@pytest.mark.parametrize(
    ("typed", "shown", "canonical"),
    [
        ("olivia", "olivia", "olivia"),
        ("VICTIM2", "VICTIM2", "victim2"),
        (" Ａｎｎａ ", "Anna", "anna"),
        ("Straße", "Straße", "strasse"),
        ("Σοφία", "Σοφία", "σοφία"),
        ("山田たろう", "山田たろう", "山田たろう"),
        ("김민준", "김민준", "김민준"),
        ("max.power_2-b", "max.power_2-b", "max.power_2-b"),
    ],
)
def test_names_are_kept_normalised_and_compared_case_blind(typed: str, shown: str, canonical: str) -> None:
    assert new_user_name(typed, household=True) == new_user_name(typed, household=False)
    assert new_user_name(typed, household=True).shown == shown
    assert new_user_name(typed, household=True).canonical == canonical == canonical_name(typed)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "at least one letter"),
        ("-._", "at least one letter"),
        ("a" * 65, "at most 64"),
        ("ann\u202eaz", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("ann\u200ba", "U+200B ZERO WIDTH SPACE"),
        ("ann\u2066a", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("ann\ufe0fa", "U+FE0F VARIATION SELECTOR-16"),
        ("\u3164", "HANGUL"),
        ("ann\x07a", "control"),
        ("ann\ta", "blank"),
        ("ann a", "blank"),
        ("ann\u00a0a", "blank"),
        ("ann\ud800a", "surrogate"),
        ("ann\U000e0001a", "LANGUAGE TAG"),
        ("ann\U0010fffda", "private-use"),
        ("ann\U0003ffffa", "unassigned"),
        ("anna@example", "letters, digits and . _ - only"),
        ("\u0301anna", "combining mark"),
        ("a\u0301\u0302\u0303\u0304\u0305", "accents"),
        ("\u0430da", "CYRILLIC SMALL LETTER A"),
        ("pay\u03c1al", "Greek"),
        ("ada\u0661", "Arabic"),
    ],
)
def test_names_that_hide_or_impersonate_are_refused(typed: str, reason: str) -> None:
    with pytest.raises(UserNameError, match=re.escape(reason)):
        new_user_name(typed, household=True)


def test_the_review_prefix_belongs_to_program_accounts() -> None:
    with pytest.raises(UserNameError, match="review-program"):
        new_user_name("REVIEW.max", household=True)
    assert new_user_name("review.Σοφία", household=False).canonical == "review.σοφία"
    with pytest.raises(UserNameError, match="at least one letter"):
        new_user_name("review.", household=False)
