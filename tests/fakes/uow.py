"""An in-memory unit of work: a ``FakeLedgerLog``, an ``InMemoryProjection`` and the record
stores of ``tests.fakes.records`` (tokens, idempotency records, cosignatures, what the witness saw).

It behaves as ``SqlAlchemyUnitOfWork`` does for the services: ``commit`` keeps what was recorded;
``rollback``, an exception, or leaving the ``with`` block without committing discards everything
appended to the log, applied to the projection or stored since the last commit. Unlike the SQL
unit of work, one fake lives across many ``with`` blocks (it is its own database), and its log
and projection stay readable outside them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from ledger.ports import (
    CosignatureRepository,
    IdempotencyRepository,
    ProjectionListing,
    TokenRepository,
    WitnessRepository,
)
from ledger.registry.projection import InMemoryProjection, ProjectionRepository
from tests.fakes.log import FakeLedgerLog
from tests.fakes.records import InMemoryListing, InMemoryRecords


def utc_now() -> datetime:
    return datetime.now(UTC)


class FakeUnitOfWork:
    """``with uow: ...; uow.commit()``, as with the SQL unit of work, on in-memory storage."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.commits = 0
        self._log = FakeLedgerLog(lambda: self.clock())
        self._projection = InMemoryProjection()
        self._committed_size = 0
        self._committed_projection = copy.deepcopy(self._projection)
        self._records = InMemoryRecords()
        self._committed_records = copy.deepcopy(self._records)

    @property
    def log(self) -> FakeLedgerLog:
        return self._log

    @property
    def projection(self) -> ProjectionRepository:
        # Typed as the port: mypy checks that InMemoryProjection implements all of it.
        return self._projection

    @property
    def listing(self) -> ProjectionListing:
        return InMemoryListing(self._projection)

    @property
    def tokens(self) -> TokenRepository:
        return self._records.tokens

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self._records.idempotency

    @property
    def cosignatures(self) -> CosignatureRepository:
        return self._records.cosignatures

    @property
    def witnessed(self) -> WitnessRepository:
        return self._records.witnessed

    def now(self) -> datetime:
        return self.clock()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        self._committed_size = self._log.size()
        self._committed_projection = copy.deepcopy(self._projection)
        self._committed_records = copy.deepcopy(self._records)
        self.commits += 1

    def rollback(self) -> None:
        self._log.truncate(self._committed_size)
        self._projection = copy.deepcopy(self._committed_projection)
        self._records = copy.deepcopy(self._committed_records)
