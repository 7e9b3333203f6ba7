"""What comes in and what goes out of the cloud's API (docs/cloud-protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Incoming(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class SignUp(Incoming):
    """A new account."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    invitation: str | None = Field(default=None, max_length=64)


class SignIn(Incoming):
    """A sign-in."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class PairRequest(Incoming):
    """A hub pairing with a code."""

    code: str = Field(max_length=64)
    public_key: str = Field(max_length=128)
    name: str = Field(max_length=200)


class StartUpload(Incoming):
    """A multipart upload about to begin."""

    size: int = Field(ge=1)
    sha256: str = Field(max_length=64)


class AccountPublic(BaseModel):
    """An account."""

    username: str
    home_id: str


class SessionPublic(BaseModel):
    """A new session's token."""

    token: str


class CodePublic(BaseModel):
    """A one-time code."""

    code: str
    expires_at: datetime


class ProgramPublic(BaseModel):
    """The review program's public key, as hubs pin it."""

    key_id: str
    verify_key: str = Field(description="Base64 (standard, padded) of the raw 32-byte Ed25519 verify key.")
    created_at: str


class PairedPublic(BaseModel):
    """What a paired hub learns."""

    hub_id: str
    home_id: str
    server_time: int
    program: ProgramPublic


class HubPublic(BaseModel):
    """A hub as its household sees it."""

    hub_id: str
    name: str
    paired_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    active: bool


class HomePublic(BaseModel):
    """A home's use of the cloud."""

    home_id: str
    objects: int
    bytes: int
    quota_bytes: int
    retention_days: int
    last_upload_at: datetime | None


class AccountOverview(BaseModel):
    """The account page: who, the home's use and its hubs."""

    username: str
    home: HomePublic
    hubs: list[HubPublic]


class ObjectPublic(BaseModel):
    """An uploaded object."""

    id: str
    size: int
    sha256: str
    uploaded_at: datetime


class ListedObject(ObjectPublic):
    """An object in a listing."""

    pinned: bool


class ObjectPage(BaseModel):
    """A page of objects and where the next one starts."""

    objects: list[ListedObject]
    next: str | None


class UploadPublic(BaseModel):
    """A started multipart upload."""

    upload_id: str
    part_size: int


class PartPublic(BaseModel):
    """A part that arrived."""

    n: int
    size: int


class PartsPublic(BaseModel):
    """The parts that arrived."""

    parts: list[PartPublic]


class ProgramKeyPublic(BaseModel):
    """The current program key and every rotation ever made, oldest first."""

    program: ProgramPublic
    rotations: list[dict[str, Any]]


class DonationReceived(BaseModel):
    """A donated copy taken (or already there)."""

    donation_id: str
    state: str


class DonationPublic(BaseModel):
    """A donation as its hub sees it."""

    donation_id: str
    state: str
    labels: int
    views: int
    updated_at: datetime


class WithdrawalPublic(BaseModel):
    """A withdrawal done, with its signed receipt."""

    donation_id: str
    state: str
    deleted_at: datetime
    receipt: dict[str, Any]


class ReceiptPage(BaseModel):
    """A page of the home's receipts; ``next`` is the seq to ask after, or null at the end."""

    receipts: list[dict[str, Any]]
    next: int | None


class ChainLink(BaseModel):
    """One link of the chain: hashes, no content."""

    seq: int
    content_hash: str
    entry_hash: str


class ChainPage(BaseModel):
    """A page of the chain's links; ``next`` is the seq to ask after, or null at the end."""

    links: list[ChainLink]
    next: int | None


class CheckpointPublic(BaseModel):
    """A signed head of the chain."""

    seq: int
    head_hash: str
    at: str
    key_id: str
    signature: str


class ModelPublic(BaseModel):
    """The promoted verifier model as hubs see it: version, file digest and what it learned from, in counts."""

    version: int
    sha256: str
    clips: int
    homes: int
    samples: int
    promoted_at: datetime | None


class ModelOfferPublic(BaseModel):
    """The model a hub should run (null: none) and the versions it must delete (trained on an ended donation)."""

    model: ModelPublic | None
    delete: list[int]
