"""In-memory fakes of the storage ports (``ledger.ports``), so use cases run without a database.

``FakeUnitOfWork`` is a drop-in for ``SqlAlchemyUnitOfWork`` in service tests; its
``FakeLedgerLog`` keeps the real hash chain and Merkle tree.
"""

from tests.fakes.log import FakeLedgerLog
from tests.fakes.records import (
    InMemoryCosignatures,
    InMemoryIdempotency,
    InMemoryListing,
    InMemoryTokens,
)
from tests.fakes.uow import FakeUnitOfWork

__all__ = [
    "FakeLedgerLog",
    "FakeUnitOfWork",
    "InMemoryCosignatures",
    "InMemoryIdempotency",
    "InMemoryListing",
    "InMemoryTokens",
]
