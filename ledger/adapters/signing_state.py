"""Where the service remembers the largest tree it signed: every layer, opened from settings.

- the database's ``signed_checkpoint`` table (``ledger.adapters.sql.signed_trees``): shared by
  every replica on the database, written under the append lock;
- the process's memory (``ledger.log.checkpoints.MemoryCheckpointState``);
- the signer's own file (``ledger.adapters.checkpoint_state.FileCheckpointState``), on the
  signer's host, outside the database: a restore of an old backup cannot reach it.

Signing checks and records all three (database first: it verifies the tree under the append
lock). Writes check the two outside the database in their own transaction, and the table through
``SqlLedgerLog.check_extendable`` on their first append, so a write never needs a second
connection while it holds the append lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.adapters.checkpoint_state import FileCheckpointState
from ledger.adapters.sql.db import PoolLimits, create_ledger_engine
from ledger.adapters.sql.signed_trees import DatabaseCheckpointState
from ledger.log.checkpoints import LayeredCheckpointState, MemoryCheckpointState

SIGNER_POOL = PoolLimits(size=1, overflow=1, timeout=30.0)
"""The signer's own connections: one, and one more while a signature waits for the append
lock."""


@dataclass(frozen=True)
class SigningState:
    """``everywhere``: every layer, for signing and readiness; ``outside_database``: the layers a
    write checks in its own transaction; ``database``: the shared table's layer."""

    everywhere: LayeredCheckpointState
    outside_database: LayeredCheckpointState
    database: DatabaseCheckpointState

    def dispose(self) -> None:
        self.database.dispose()


def open_signing_state(
    database_url: str, state_path: Path, clock: Callable[[], datetime]
) -> SigningState:
    database = DatabaseCheckpointState(create_ledger_engine(database_url, pool=SIGNER_POOL), clock)
    outside = LayeredCheckpointState(MemoryCheckpointState(), FileCheckpointState(state_path))
    return SigningState(LayeredCheckpointState(database, outside), outside, database)
