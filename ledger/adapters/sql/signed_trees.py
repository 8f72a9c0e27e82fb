"""The signed trees every replica shares: ``signed_checkpoint`` as a ``CheckpointState`` layer.

Replicas of the service on one database sign checkpoints of one chain (appends are serialized
by the append lock), so any two of their checkpoints are consistent as long as the stored
history is the one they signed. The table records each signed tree larger than every tree
recorded before, inserted in a write transaction (under the append lock) after checking that the
stored log holds exactly that tree; every replica refuses to sign, and to append
(``SqlLedgerLog.check_extendable``), once the stored log no longer holds the largest row.

It uses an engine of its own (one connection, one more under load): a request that holds a
connection of the service's pool and signs waits only for this small pool, whose connections
never wait for the service's pool, so signing cannot deadlock the pool however many requests
sign at once. What this table cannot see is a restore of the whole database from an old backup
(the table goes back with the log): the signer's own file and the process's memory
(``ledger.log.checkpoints``) and the witnesses' cosignatures cover that (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from ledger.adapters.sql.db import begin_read, begin_write
from ledger.adapters.sql.log import SqlLedgerLog
from ledger.log.checkpoints import InconsistentCheckpointRefused


class DatabaseCheckpointState:
    """The largest tree any replica signed, from the database's ``signed_checkpoint`` table."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self._clock = clock
        # The largest tree this process saw recorded: smaller or equal ones need no transaction.
        self._recorded = 0

    def last_signed(self) -> tuple[int, bytes] | None:
        conn = begin_read(self.engine)
        try:
            return SqlLedgerLog(conn, self._clock).largest_signed()
        finally:
            conn.close()

    def record_signed(self, size: int, root: bytes) -> None:
        """Record the tree of ``size`` unless a tree at least as large is recorded; refuse if the
        stored log does not hold exactly this tree (the caller must not publish the note)."""
        if size == 0 or size <= self._recorded:
            return
        conn = begin_write(self.engine)
        try:
            log = SqlLedgerLog(conn, self._clock)
            log.check_extendable()
            if log.size() < size or log.root(size) != root:
                raise InconsistentCheckpointRefused(
                    f"the tree of size {size} to sign is not the stored one: refusing to sign",
                    signed_size=size,
                )
            log.record_signed(size, root, self._clock())
            conn.commit()
        finally:
            conn.close()
        self._recorded = max(self._recorded, size)

    def dispose(self) -> None:
        self.engine.dispose()
