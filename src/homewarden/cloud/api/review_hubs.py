"""Routes a hub calls about the review program (all signed): the program key, donations, receipts and the chain.

Donations are scoped to the signing hub's home through ``HomeDonationsOfHub``; receipts are its home's entries only;
the chain's links and checkpoints are the same for every home (hashes, no content), so any hub can check the cloud.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from homewarden.cloud.api.deps import Body, HomeDonationsOfHub, Services, SignedHub, for_hub
from homewarden.cloud.api.schemas import (
    ChainLink,
    ChainPage,
    CheckpointPublic,
    DonationPublic,
    DonationReceived,
    ProgramKeyPublic,
    ProgramPublic,
    ReceiptPage,
    WithdrawalPublic,
)
from homewarden.cloud.review.audit import entries_of_home, links_after, receipt
from homewarden.cloud.review.donations import WITHDRAWN

router = APIRouter(prefix="/api/v1", tags=["review program"])

DonationId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$", description="The hub's random donation id (not an event id).")
]
MAX_RECEIPTS = 500
MAX_LINKS = 5000


@router.get("/review/program-key")
@for_hub
def program_key(hub: SignedHub, services: Services) -> ProgramKeyPublic:
    """Show the current program key and every rotation, each signed by the key it replaced."""
    keys = services.program_keys
    return ProgramKeyPublic(program=ProgramPublic(**keys.program()), rotations=keys.rotations())


@router.put("/donations/{donation_id}")
@for_hub
def put_donation(
    donation_id: DonationId,
    body: Body,
    donations: HomeDonationsOfHub,
    content_sha256: Annotated[str | None, Header(alias="X-HW-Content-SHA256")] = None,
    program_key_id: Annotated[str | None, Header(alias="X-HW-Program-Key")] = None,
    metadata: Annotated[str | None, Header(alias="X-HW-Donation", max_length=4096)] = None,
) -> JSONResponse:
    """Take a copy sealed to the program key: 201 when new (it is screened next), 200 when already there."""
    received = donations.receive(donation_id, body, content_sha256, program_key_id, metadata)
    answer = DonationReceived(donation_id=received.donation_id, state=received.state)
    return JSONResponse(answer.model_dump(mode="json"), status_code=201 if received.created else 200)


@router.get("/donations/{donation_id}")
@for_hub
def get_donation(donation_id: DonationId, donations: HomeDonationsOfHub) -> DonationPublic:
    """Show a donation's state and how many times it was viewed and labelled."""
    status = donations.status(donation_id)
    return DonationPublic(
        donation_id=status.donation_id,
        state=status.state,
        labels=status.labels,
        views=status.views,
        updated_at=status.updated_at,
    )


@router.delete("/donations/{donation_id}")
@for_hub
def withdraw_donation(donation_id: DonationId, donations: HomeDonationsOfHub, services: Services) -> WithdrawalPublic:
    """Withdraw a donation: its bytes, labels and assignments go now; answered with the signed receipt."""
    withdrawal = donations.withdraw(donation_id, services.program_keys.current())
    return WithdrawalPublic(
        donation_id=withdrawal.donation_id,
        state=WITHDRAWN,
        deleted_at=withdrawal.deleted_at,
        receipt=withdrawal.receipt,
    )


@router.get("/review/receipts")
@for_hub
def receipts(
    hub: SignedHub,
    services: Services,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_RECEIPTS)] = MAX_RECEIPTS,
) -> ReceiptPage:
    """List this home's receipts after ``after``, by seq, signed with the current program key."""
    signer = services.program_keys.current()
    with services.database.session() as session:
        entries = entries_of_home(session, hub.home_id, after, limit)
    return ReceiptPage(
        receipts=[receipt(entry, signer) for entry in entries],
        next=entries[-1].seq if len(entries) == limit else None,
    )


@router.get("/review/checkpoint")
@for_hub
def checkpoint(hub: SignedHub, services: Services) -> CheckpointPublic:
    """Return the latest signed checkpoint of the chain (signed now when the head moved since)."""
    return CheckpointPublic(**services.run_checkpoint().public())


@router.get("/review/chain")
@for_hub
def chain(
    hub: SignedHub,
    services: Services,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LINKS)] = MAX_LINKS,
) -> ChainPage:
    """List every home's links after ``after``: hashes only, so a hub can recompute the chain between checkpoints."""
    with services.database.session() as session:
        links = links_after(session, after, limit)
    return ChainPage(
        links=[ChainLink(seq=seq, content_hash=content, entry_hash=entry) for seq, content, entry in links],
        next=links[-1][0] if len(links) == limit else None,
    )
