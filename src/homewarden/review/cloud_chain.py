"""The cloud's audit chain as the hub checks it: signed receipts, signed checkpoints and the links between them.

The cloud keeps one hash-chained log for the whole review program. Each entry's hash covers the one before, so a
checkpoint (the head's seq and hash, signed) pins everything before it. The hub keeps every receipt for its own
donations and every checkpoint it fetched, with the links (hashes only, of every home) from the checkpoint before,
so it can recompute the chain between two checkpoints and find each of its receipts where the cloud said it was.
A cloud that rewrites its history after a checkpoint the hub saw cannot make the newer checkpoint extend the older.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import sessionmaker

from homewarden.review.program_key import PinnedKeys, ProgramKeyError, canonical_json
from homewarden.store.durable_files import make_private_folder
from homewarden.store.keys import write_private_file
from homewarden.store.review_models import CloudCheckpoint, CloudReceipt
from homewarden.store.transactions import transaction

GENESIS_HASH = "0" * 64
ACTIONS = ("received", "screened", "refused", "queued", "view", "label", "flag", "withdrawn", "expired", "deleted")


class ChainError(ValueError):
    """Something of the cloud's chain that does not check out; the message says what, in plain words."""


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` in lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def entry_hash(prev_hash: str, content_hash: str) -> str:
    """Return an entry's hash from the one before and its content's hash."""
    return sha256_hex(bytes.fromhex(prev_hash) + bytes.fromhex(content_hash))


@dataclass(frozen=True)
class Receipt:
    """A checked receipt: one entry of the cloud's chain about this home's donation."""

    seq: int
    at: str
    donation_id: str
    action: str
    actor: str
    details: dict[str, Any]
    entry_hash: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Checkpoint:
    """A checked checkpoint: the cloud's chain up to ``seq`` ends in ``head_hash``."""

    seq: int
    head_hash: str
    document: dict[str, Any]


Link = tuple[int, str, str]  # seq, content_hash, entry_hash


def _signed_by(keys: PinnedKeys, document: dict[str, Any], fields: Iterable[str], what: str) -> None:
    key = keys.by_id(str(document.get("key_id")))
    if key is None:
        raise ChainError(f"{what} is signed with a review key this hub never accepted ({document.get('key_id')})")
    try:
        key.verify({name: document[name] for name in fields}, str(document["signature"]))
    except ProgramKeyError:
        raise ChainError(f"{what} has a signature that is not the review program's") from None


def check_receipt(document: Any, keys: PinnedKeys, home_id: str | None = None) -> Receipt:
    """Check a receipt's hashes and signature; return it, or raise ChainError saying what is wrong."""
    try:
        content = document["content"]
        seq = int(content["seq"])
        what = f"the cloud's receipt at seq {seq}"
        if sha256_hex(canonical_json(content)) != document["content_hash"]:
            raise ChainError(f"{what} does not match its own content hash")
        if entry_hash(document["prev_hash"], document["content_hash"]) != document["entry_hash"]:
            raise ChainError(f"{what} does not match its own entry hash")
        _signed_by(keys, document, ("content", "content_hash", "prev_hash", "entry_hash", "key_id"), what)
        if home_id is not None and str(content["home_id"]) != home_id:
            raise ChainError(f"{what} is about another home")
        return Receipt(
            seq,
            str(content["at"]),
            str(content["donation_id"]),
            str(content["action"]),
            str(content["actor"]),
            dict(content.get("details") or {}),
            str(document["entry_hash"]),
            dict(document),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ChainError):
            raise
        raise ChainError(f"a receipt from the cloud is malformed ({exc})") from None


def check_checkpoint(document: Any, keys: PinnedKeys) -> Checkpoint:
    """Check a checkpoint's signature; return it."""
    try:
        seq = int(document["seq"])
        _signed_by(keys, document, ("seq", "head_hash", "at", "key_id"), f"the cloud's checkpoint at seq {seq}")
        return Checkpoint(seq, str(document["head_hash"]), dict(document))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ChainError):
            raise
        raise ChainError(f"a checkpoint from the cloud is malformed ({exc})") from None


def check_extension(
    older_seq: int, older_head: str, newer: Checkpoint, links: list[Link], receipts: dict[int, str]
) -> None:
    """Recompute the chain from the older checkpoint to the newer one and find each receipt's hash at its seq."""
    rewritten = ChainError(f"the cloud's review log was rewritten between seq {older_seq} and {newer.seq}")
    head = older_head
    expected = older_seq + 1
    for seq, content_hash, link_hash in links:
        if seq != expected or entry_hash(head, content_hash) != link_hash:
            raise rewritten
        if seq in receipts and receipts[seq] != link_hash:
            raise ChainError(
                f"the cloud's review log was rewritten between seq {older_seq} and {newer.seq}: "
                f"the entry at seq {seq} is not the one its receipt showed"
            )
        head = link_hash
        expected += 1
    if expected != newer.seq + 1 or head != newer.head_hash:
        raise rewritten


class CloudChainRecords:
    """The receipts and checkpoints this hub received, in its database."""

    def __init__(self, engine: Engine) -> None:
        """Use the hub's database."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def add_receipt(self, home_id: int, receipt: Receipt) -> bool:
        """Keep a receipt; return False when it was kept already."""
        with transaction(self._sessions, "keep a cloud receipt") as session:
            if session.get(CloudReceipt, receipt.seq) is not None:
                return False
            session.add(
                CloudReceipt(
                    seq=receipt.seq,
                    home_id=home_id,
                    donation_id=receipt.donation_id,
                    action=receipt.action,
                    entry_hash=receipt.entry_hash,
                    document=canonical_json(receipt.document).decode("utf-8"),
                    received_at=datetime.now(UTC),
                )
            )
            return True

    def receipts(self) -> list[dict[str, Any]]:
        """Return every kept receipt as received, by seq."""
        with transaction(self._sessions, "read cloud receipts") as session:
            rows = session.scalars(select(CloudReceipt).order_by(CloudReceipt.seq))
            return [json.loads(row.document) for row in rows]

    def last_receipt_seq(self) -> int:
        """Return the highest seq of a kept receipt (0 without one)."""
        with transaction(self._sessions, "read cloud receipts") as session:
            seqs = session.scalars(select(CloudReceipt.seq).order_by(CloudReceipt.seq.desc()).limit(1)).all()
            return seqs[0] if seqs else 0

    def last_checkpoint(self) -> tuple[int, str]:
        """Return the seq and head hash of the newest kept checkpoint (the chain's start without one)."""
        with transaction(self._sessions, "read cloud checkpoints") as session:
            row = session.scalars(select(CloudCheckpoint).order_by(CloudCheckpoint.id.desc()).limit(1)).first()
            return (0, GENESIS_HASH) if row is None else (row.seq, row.head_hash)

    def add_checkpoint(self, checkpoint: Checkpoint, links: list[Link]) -> None:
        """Keep a checkpoint with the links from the one before."""
        with transaction(self._sessions, "keep a cloud checkpoint") as session:
            session.add(
                CloudCheckpoint(
                    seq=checkpoint.seq,
                    head_hash=checkpoint.head_hash,
                    document=canonical_json(checkpoint.document).decode("utf-8"),
                    links=json.dumps(links, separators=(",", ":")),
                    fetched_at=datetime.now(UTC),
                )
            )

    def archive(self, folder: Path, keys: PinnedKeys, cloud_url: str | None) -> Path | None:
        """Move the kept receipts and checkpoints, with the keys they are checked with, to a file of ``folder``.

        Another cloud's chain starts again at seq 1: mixed with this one, its receipts would look kept already and
        its first checkpoint would not extend this chain's last. The archive stays for `homewarden audit verify`.
        Return the file (None when nothing was kept).
        """
        receipts, checkpoints = self.receipts(), self.checkpoints()
        if not receipts and not checkpoints:
            return None
        now = datetime.now(UTC)
        document = {
            "cloud_url": cloud_url,
            "archived_at": now.isoformat(),
            "program_keys": keys.document(),
            "receipts": receipts,
            "checkpoints": [[checkpoint, links] for checkpoint, links in checkpoints],
        }
        make_private_folder(folder)
        path = folder / f"{now:%Y%m%dT%H%M%S%fZ}-{keys.current.key_id}.json"
        write_private_file(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))
        with transaction(self._sessions, "archive the cloud's receipts") as session:
            session.execute(delete(CloudReceipt))
            session.execute(delete(CloudCheckpoint))
        return path

    def checkpoints(self) -> list[tuple[dict[str, Any], list[Link]]]:
        """Return every kept checkpoint with its links, oldest first."""
        with transaction(self._sessions, "read cloud checkpoints") as session:
            rows = session.scalars(select(CloudCheckpoint).order_by(CloudCheckpoint.id))
            return [
                (json.loads(row.document), [(int(s), str(c), str(e)) for s, c, e in json.loads(row.links)])
                for row in rows
            ]


@dataclass(frozen=True)
class ChainReport:
    """What `audit verify` found of the cloud's part."""

    receipts: int
    checkpoints: int
    problems: list[str]


def verify_cloud_chain(records: CloudChainRecords, keys: PinnedKeys | None) -> ChainReport:
    """Check every kept receipt's signature, that each checkpoint extends the one before, receipts at their seq."""
    return verify_chain_documents(records.receipts(), records.checkpoints(), keys)


def verify_archived_chain(path: Path) -> ChainReport:
    """Check an archived chain of an earlier cloud against the keys archived with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        keys = PinnedKeys.from_document(document["program_keys"]) if document.get("program_keys") else None
        receipts = list(document["receipts"])
        checkpoints = [
            (dict(checkpoint), [(int(s), str(c), str(e)) for s, c, e in links])
            for checkpoint, links in document["checkpoints"]
        ]
    except (OSError, ValueError, KeyError, TypeError, ProgramKeyError) as exc:
        return ChainReport(0, 0, [f"{path.name} cannot be read: {exc}"])
    return verify_chain_documents(receipts, checkpoints, keys)


def verify_chain_documents(
    receipts: list[dict[str, Any]], checkpoints: list[tuple[dict[str, Any], list[Link]]], keys: PinnedKeys | None
) -> ChainReport:
    """Check receipts and checkpoints of one cloud's chain with that cloud's pinned keys."""
    problems: list[str] = []
    if keys is None:
        if receipts or checkpoints:
            problems.append("no pinned review key to check the cloud's receipts with")
        return ChainReport(len(receipts), len(checkpoints), problems)
    hashes: dict[int, str] = {}
    for document in receipts:
        try:
            receipt = check_receipt(document, keys)
            hashes[receipt.seq] = receipt.entry_hash
        except ChainError as exc:
            problems.append(str(exc))
    seq, head = 0, GENESIS_HASH
    for document, links in checkpoints:
        try:
            checkpoint = check_checkpoint(document, keys)
            check_extension(seq, head, checkpoint, links, hashes)
            seq, head = checkpoint.seq, checkpoint.head_hash
        except ChainError as exc:
            problems.append(str(exc))
    return ChainReport(len(receipts), len(checkpoints), problems)
