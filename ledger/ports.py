"""Ports: what the domain services need from storage (cosmicpython's repository + unit of work).

One unit of work is one transaction. It exposes the append-only log (``uow.log``), the holdings
projection (``uow.projection``) with its paged lists (``uow.listing``), and the service's own
records: API tokens (``uow.tokens``), idempotent responses (``uow.idempotency``), witness
cosignatures of this log (``uow.cosignatures``) and what this instance saw as the witness of
partner logs (``uow.witnessed``). A :class:`Storage` opens units of work. The SQLAlchemy
adapter implements them in ``ledger.adapters.sql``; unit tests may use fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ledger.errors import InvalidInput
from ledger.log.canonical import JsonValue
from ledger.registry.model import (
    Account,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    Party,
    Registry,
    UnitBlock,
)
from ledger.registry.projection import ProjectionRepository


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """What an append returns: the new entry's position and the tree size that includes it."""

    seq: int
    kind: str
    entry_hash: bytes
    tree_size: int


class LedgerLog(Protocol):
    """The append-only log: entries, their hash chain and the Merkle tree over them."""

    def size(self) -> int: ...

    def append(self, kind: str, payload: Mapping[str, JsonValue], actor: str) -> AppendedEntry: ...

    def read_entries(self, start: int, end: int) -> list[bytes]: ...

    def read_seqs(self, seqs: Sequence[int]) -> list[bytes]:
        """Bodies of the entries ``seqs`` (ascending, each below the log size), in that order."""
        ...

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...

    def check_extendable(self) -> None:
        """Raise ``StoredLogRefused`` unless entries may be appended: the Merkle tree has no leaf
        beyond the last entry, and the log still holds the largest tree recorded as signed."""
        ...

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        """C2SP tlog-tiles hash tile ``(level, index)`` of ``width`` hashes, from the stored
        subtree roots (``ledger.log.tiles``); ``TileNotFound`` beyond the current tree."""
        ...


@runtime_checkable
class KindIndexedLog(Protocol):
    """A log that finds the entries of one kind by an index, without reading the others."""

    def read_entries_of_kind(self, kind: str, start: int, end: int) -> list[bytes]:
        """Bodies of the entries of ``kind`` among ``start .. end-1``, in seq order."""
        ...


class ProjectionListing(Protocol):
    """Pages of the holdings projection, for lists that a client walks with a cursor.

    Every method returns at most ``limit`` records whose key is greater than ``after`` (all of
    them from the start when ``after`` is ``None``), in increasing key order. String keys
    compare in code-point order whatever the database's collation, as a cursor's key does.
    """

    def parties(self, after: str | None, limit: int) -> list[Party]: ...

    def registries(self, after: str | None, limit: int) -> list[Registry]: ...

    def cooperative_approaches(
        self, after: str | None, limit: int
    ) -> list[CooperativeApproach]: ...

    def accounts(
        self, after: str | None, limit: int, *, registry_id: str | None = None
    ) -> list[Account]: ...

    def authorizations(
        self, after: int | None, limit: int, *, party: str | None = None
    ) -> list[Authorization]:
        """Every version of every authorization, keyed by the seq that recorded it."""
        ...

    def authorized_entities(self, after: str | None, limit: int) -> list[AuthorizedEntity]: ...

    def blocks(
        self,
        after: int | None,
        limit: int,
        *,
        account_id: str | None = None,
        include_superseded: bool = False,
    ) -> list[UnitBlock]:
        """Unit blocks keyed by block id: the current ones, or with ``include_superseded``
        the split parents too."""
        ...

    def account_blocks(self, account_id: str) -> list[UnitBlock]:
        """The current blocks in an account by block id, retired ones included (a terminal
        account holds the units used or cancelled into it)."""
        ...


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as stored: only the SHA-256 of its secret, never the secret itself.

    ``role`` is one of ``admin``, ``registry`` (then ``registry_id`` names the registry it acts
    for), ``reconciler`` and ``auditor``. Tokens are revoked, never deleted."""

    token_id: str
    name: str
    role: str
    registry_id: str | None
    secret_hash: bytes
    created_at: datetime
    revoked_at: datetime | None = None


class TokenRepository(Protocol):
    """API tokens. Issuing and revoking one is also recorded in the ledger (``ledger.access``)."""

    def add(self, token: TokenRecord) -> None: ...

    def get(self, token_id: str) -> TokenRecord | None: ...

    def revoke(self, token_id: str, revoked_at: datetime) -> None: ...

    def all(self) -> list[TokenRecord]:
        """Every token ever issued, oldest first (then by token id), revoked ones included."""
        ...


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The response of a write made with an ``Idempotency-Key``, kept so a retry replays it.

    Keyed by the token that made the write and the key; ``fingerprint`` identifies the request
    (method, path and canonical body). ``first_seq``/``last_seq`` are the entries the write
    appended (both ``None`` if none) and ``tree_size`` the size of the log after it."""

    token_id: str
    key: str
    fingerprint: bytes
    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    created_at: datetime
    first_seq: int | None = None
    last_seq: int | None = None
    tree_size: int | None = None


class IdempotencyRepository(Protocol):
    def get(self, token_id: str, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    """A witness's cosignature of the checkpoint of ``tree_size``, as verified and recorded.

    ``key_id`` is the witness key ID as 8 hex digits; ``signature_line`` the cosignature line
    without its final newline; ``seq`` the ``checkpoint.cosigned`` entry that records it. The
    root is not stored: it is recomputed from the log whenever the line is checked."""

    tree_size: int
    key_id: str
    key_name: str
    timestamp: int
    signature_line: str
    seq: int
    recorded_at: datetime


class CosignatureRepository(Protocol):
    """Witness cosignatures, append-only: one per tree size and witness key."""

    def of_tree_size(self, tree_size: int) -> list[StoredCosignature]:
        """The cosignatures of one tree size, by key ID."""
        ...

    def get(self, tree_size: int, key_id: str) -> StoredCosignature | None: ...

    def add(self, cosignature: StoredCosignature) -> None: ...

    def latest_tree_size(self) -> int | None:
        """The largest tree size any witness cosigned; ``None`` before the first."""
        ...

    def latest_tree_size_of(self, key_id: str) -> int | None:
        """The largest tree size the witness key ``key_id`` cosigned; ``None`` before the first."""
        ...


@dataclass(frozen=True, slots=True)
class WitnessedCheckpoint:
    """A partner log's checkpoint that this instance, as its witness, cosigned (C2SP
    tlog-witness): the latest one of an origin is what the next ``add-checkpoint`` must extend.

    ``signed_note`` is the checkpoint note exactly as the log submitted it."""

    origin: str
    tree_size: int
    root_hash: bytes
    signed_note: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class WitnessEvidence:
    """A partner log's signed checkpoint that this witness refused because it does not extend
    the checkpoint it cosigned last: evidence that the log forked (or sent a wrong proof).

    ``reason`` is the rule broken (the problem's rule); ``old_size`` and ``proof`` are the
    request's; ``cosigned_note`` is the note of the last checkpoint cosigned for the origin."""

    origin: str
    reason: str
    old_size: int
    proof: tuple[bytes, ...]
    submitted_note: str
    cosigned_note: str
    recorded_at: datetime


class WitnessRepository(Protocol):
    """What this instance saw as the witness of partner logs, append-only: the checkpoints it
    cosigned, and the evidence of the ones it refused."""

    def latest(self, origin: str) -> WitnessedCheckpoint | None:
        """The largest checkpoint of ``origin`` cosigned; ``None`` before the first."""
        ...

    def add(self, checkpoint: WitnessedCheckpoint) -> None: ...

    def add_evidence(self, evidence: WitnessEvidence) -> None: ...

    def evidence(self, origin: str) -> list[WitnessEvidence]:
        """The evidence kept about ``origin``, oldest first."""
        ...


class UnitOfWork(Protocol):
    """One request = one unit of work = one transaction."""

    @property
    def log(self) -> LedgerLog: ...

    @property
    def projection(self) -> ProjectionRepository: ...

    @property
    def listing(self) -> ProjectionListing: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def cosignatures(self) -> CosignatureRepository: ...

    @property
    def witnessed(self) -> WitnessRepository: ...

    def now(self) -> datetime: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@runtime_checkable
class BatchingUnitOfWork(Protocol):
    """A write unit of work that can run a batch of many actions with the projection's reads
    and writes held in memory and its rows sent at the end, one statement per table (a history
    import's batches: ``ledger.imports.run``). The actions see what they would see one by one;
    leaving the batch by an exception leaves the unit of work to be rolled back."""

    def batched(self) -> AbstractContextManager[UnitOfWork]: ...


class Storage(Protocol):
    """Where units of work come from: the service's database."""

    def unit_of_work(self, *, write: bool) -> UnitOfWork:
        """A unit of work to use in a ``with`` block. A writing one holds the log's append lock
        from its first statement, so what it checks and what it appends see the same head; a
        reading one sees one consistent snapshot."""
        ...


class UnstorableValue(InvalidInput):
    """A value cannot be stored.

    Raised by a unit of work when the database refuses a value that passed validation (a NUL
    character, which PostgreSQL text cannot hold, or a value longer than its field)."""

    problem_type = "unstorable-value"
    title = "A value cannot be stored"
    rule = "storable-values"
