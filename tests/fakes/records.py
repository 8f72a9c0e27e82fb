"""In-memory fakes of the service's own record ports (``ledger.ports``): paged lists over an
``InMemoryProjection``, API tokens, idempotency records and witness cosignatures.

They keep the SQL adapters' contracts: pages in key order (code-point order for string keys),
tokens oldest first, cosignatures by key ID. ``FakeUnitOfWork`` snapshots the record stores on
commit and restores them on rollback, as it does the projection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from ledger.ports import (
    IdempotencyRecord,
    StoredCosignature,
    TokenRecord,
    WitnessedCheckpoint,
    WitnessEvidence,
)
from ledger.registry.model import (
    Account,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    Party,
    Registry,
    UnitBlock,
)
from ledger.registry.projection import InMemoryProjection

T = TypeVar("T")
K = TypeVar("K", int, str)


def _page(records: Iterable[T], key: Callable[[T], K], after: K | None, limit: int) -> list[T]:
    found = sorted((r for r in records if after is None or key(r) > after), key=key)
    return found[:limit]


class InMemoryListing:
    """The ``ProjectionListing`` port over an ``InMemoryProjection``."""

    def __init__(self, projection: InMemoryProjection) -> None:
        self._projection = projection

    def parties(self, after: str | None, limit: int) -> list[Party]:
        return _page(self._projection.parties(), lambda p: p.code, after, limit)

    def registries(self, after: str | None, limit: int) -> list[Registry]:
        return _page(self._projection.registries(), lambda r: r.registry_id, after, limit)

    def cooperative_approaches(self, after: str | None, limit: int) -> list[CooperativeApproach]:
        return _page(self._projection.cooperative_approaches(), lambda a: a.ca_id, after, limit)

    def accounts(
        self, after: str | None, limit: int, *, registry_id: str | None = None
    ) -> list[Account]:
        found = (
            a
            for a in self._projection.accounts()
            if registry_id is None or a.registry_id == registry_id
        )
        return _page(found, lambda a: a.account_id, after, limit)

    def authorizations(
        self, after: int | None, limit: int, *, party: str | None = None
    ) -> list[Authorization]:
        found = (a for a in self._projection.authorizations() if party is None or a.party == party)
        return _page(found, lambda a: a.recorded_seq, after, limit)

    def authorized_entities(self, after: str | None, limit: int) -> list[AuthorizedEntity]:
        return _page(self._projection.entities(), lambda e: e.entity_id, after, limit)

    def blocks(
        self,
        after: int | None,
        limit: int,
        *,
        account_id: str | None = None,
        include_superseded: bool = False,
    ) -> list[UnitBlock]:
        found = (
            b
            for b in self._projection.block_by_id.values()
            if (account_id is None or b.account_id == account_id)
            and (include_superseded or b.block_id not in self._projection.superseded)
        )
        return _page(found, lambda b: b.block_id, after, limit)

    def account_blocks(self, account_id: str) -> list[UnitBlock]:
        return self.blocks(None, len(self._projection.block_by_id), account_id=account_id)


class InMemoryTokens:
    """The ``TokenRepository`` port in a dict."""

    def __init__(self) -> None:
        self.by_id: dict[str, TokenRecord] = {}

    def add(self, token: TokenRecord) -> None:
        if token.token_id in self.by_id:
            raise KeyError(f"token {token.token_id} exists")
        self.by_id[token.token_id] = token

    def get(self, token_id: str) -> TokenRecord | None:
        return self.by_id.get(token_id)

    def revoke(self, token_id: str, revoked_at: datetime) -> None:
        self.by_id[token_id] = replace(self.by_id[token_id], revoked_at=revoked_at)

    def all(self) -> list[TokenRecord]:
        return sorted(self.by_id.values(), key=lambda t: (t.created_at, t.token_id))


class InMemoryIdempotency:
    """The ``IdempotencyRepository`` port in a dict."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], IdempotencyRecord] = {}

    def get(self, token_id: str, key: str) -> IdempotencyRecord | None:
        return self.by_key.get((token_id, key))

    def add(self, record: IdempotencyRecord) -> None:
        if (record.token_id, record.key) in self.by_key:
            raise KeyError(f"idempotency key {record.key!r} of {record.token_id} exists")
        self.by_key[(record.token_id, record.key)] = record


class InMemoryCosignatures:
    """The ``CosignatureRepository`` port in a dict: append-only, one per tree size and key."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[int, str], StoredCosignature] = {}

    def of_tree_size(self, tree_size: int) -> list[StoredCosignature]:
        return [self.by_key[k] for k in sorted(self.by_key) if k[0] == tree_size]

    def get(self, tree_size: int, key_id: str) -> StoredCosignature | None:
        return self.by_key.get((tree_size, key_id))

    def add(self, cosignature: StoredCosignature) -> None:
        key = (cosignature.tree_size, cosignature.key_id)
        if key in self.by_key:
            raise KeyError(f"tree size {key[0]} is already cosigned by {key[1]}")
        self.by_key[key] = cosignature

    def latest_tree_size(self) -> int | None:
        return max((size for size, _ in self.by_key), default=None)

    def latest_tree_size_of(self, key_id: str) -> int | None:
        return max((size for size, key in self.by_key if key == key_id), default=None)


class InMemoryWitnessed:
    """The ``WitnessRepository`` port in a dict and a list: append-only."""

    def __init__(self) -> None:
        self.checkpoints: dict[tuple[str, int], WitnessedCheckpoint] = {}
        self.evidence_kept: list[WitnessEvidence] = []

    def latest(self, origin: str) -> WitnessedCheckpoint | None:
        sizes = [size for name, size in self.checkpoints if name == origin]
        return self.checkpoints[(origin, max(sizes))] if sizes else None

    def add(self, checkpoint: WitnessedCheckpoint) -> None:
        key = (checkpoint.origin, checkpoint.tree_size)
        if key in self.checkpoints:
            raise KeyError(f"tree size {key[1]} of {key[0]} is already witnessed")
        self.checkpoints[key] = checkpoint

    def add_evidence(self, evidence: WitnessEvidence) -> None:
        self.evidence_kept.append(evidence)

    def evidence(self, origin: str) -> list[WitnessEvidence]:
        return [e for e in self.evidence_kept if e.origin == origin]


@dataclass
class InMemoryRecords:
    """The record stores of one fake database, copied whole on commit and rollback."""

    tokens: InMemoryTokens = field(default_factory=InMemoryTokens)
    idempotency: InMemoryIdempotency = field(default_factory=InMemoryIdempotency)
    cosignatures: InMemoryCosignatures = field(default_factory=InMemoryCosignatures)
    witnessed: InMemoryWitnessed = field(default_factory=InMemoryWitnessed)
