"""The cloud's receipts are kept in the household's log in English and shown in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

from homewarden.api.privacy import access_entry
from homewarden.i18n import use_language
from homewarden.offsite.review import receipt_detail
from homewarden.privacy.audit import AuditRecord


def shown(detail: str, language: str) -> str:
    """Return a log entry's detail as the privacy page's API gives it in ``language``."""
    record = AuditRecord(
        seq=1,
        at=datetime(2026, 12, 6, tzinfo=UTC),
        actor_role="cloud",
        home_id=1,
        actor="cloud",
        action="review.model_replaced",
        object="donation:d_1",
        outcome="allowed",
        detail=detail,
    )
    with use_language(language):
        return access_entry(record).detail


def test_a_model_receipt_reads_in_german_and_stays_english_in_the_log() -> None:
    replaced = receipt_detail("model_replaced", {"model": 4, "replaced_by": 5, "at": "2026-12-06T12:00:00Z"}, 17, "T")
    assert replaced == (
        "model 4, trained with this clip, was replaced at 2026-12-06T12:00:00Z by model 5, trained without it "
        "(cloud seq 17 at T)"
    )
    assert shown(replaced, "en") == replaced
    assert shown(replaced, "de") == (
        "Modell 4, mit diesem Clip trainiert, wurde am 2026-12-06T12:00:00Z durch Modell 5 ersetzt, das ohne ihn "
        "trainiert wurde (Cloud-Eintrag 17 vom T)"
    )
    withdrawn = receipt_detail("model_replaced", {"model": 3, "replaced_by": None, "at": "W"}, 9, "T")
    assert (
        shown(withdrawn, "de")
        == "Modell 3, mit diesem Clip trainiert, wurde am W von jedem Hub entfernt (Cloud-Eintrag 9 vom T)"
    )
    assert shown(receipt_detail("view", {}, 2, "T"), "de") == "Cloud-Eintrag 2 vom T"
    # Other details pass as they were when no template matches.
    assert shown("account page", "en") == "account page"
