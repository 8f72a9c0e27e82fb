"""Ports: what the domain services need from storage (cosmicpython's repository + unit of work).

The SQLAlchemy adapter implements them in ``ledger.adapters``; unit tests may use fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from ledger.log.canonical import JsonValue
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

    def root(self, size: int) -> bytes: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]: ...


class UnitOfWork(Protocol):
    """One request = one unit of work = one transaction."""

    @property
    def log(self) -> LedgerLog: ...

    @property
    def projection(self) -> ProjectionRepository: ...

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
