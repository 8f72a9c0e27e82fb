"""An in-memory ``LedgerLog``: the real hash chain and RFC 9162 Merkle tree, kept in lists and
dicts instead of tables.

It builds entries, hashes and tree nodes with the same pure functions as the SQL adapter
(``ledger.log.chain``, ``ledger.log.merkle``, ``ledger.log.merkle_store``), so an action recorded
here gives byte for byte the entries and the root it gives in a database. ``truncate`` is the
fake's rollback: the unit of work calls it to drop what was appended since its last commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from ledger.errors import MerkleTreeAheadOfLog
from ledger.log import merkle, merkle_store, tiles
from ledger.log.canonical import JsonValue
from ledger.log.chain import GENESIS_PREV_HASH, Entry, entry_hash
from ledger.log.merkle_store import TreeSizeOutOfRange
from ledger.ports import AppendedEntry


class FakeLedgerLog:
    """The ``LedgerLog`` port in memory, with the SQL adapter's range checks and errors."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._bodies: list[bytes] = []
        self._hashes: list[bytes] = []
        # Perfect-subtree hashes keyed (level, index), as the merkle_node table stores them.
        self._nodes: dict[merkle_store.NodeKey, bytes] = {}
        self._appender = merkle_store.MerkleAppender(self, 0)

    # --- the node store the Merkle functions read ----------------------------------------------

    def read_nodes(
        self, keys: Sequence[merkle_store.NodeKey]
    ) -> Mapping[merkle_store.NodeKey, bytes]:
        return {key: self._nodes[key] for key in keys if key in self._nodes}

    # --- the LedgerLog port --------------------------------------------------------------------

    def size(self) -> int:
        return len(self._bodies)

    def head_hash(self) -> bytes:
        """Entry hash of the last entry (32 zero bytes for the empty log)."""
        return self._hashes[-1] if self._hashes else GENESIS_PREV_HASH

    def check_extendable(self) -> None:
        if (0, self.size()) in self._nodes:
            raise MerkleTreeAheadOfLog(
                f"the Merkle tree has a leaf at {self.size()} beyond the last entry",
                log_size=self.size(),
            )

    def append(self, kind: str, payload: Mapping[str, JsonValue], actor: str) -> AppendedEntry:
        self.check_extendable()
        seq = self.size()
        entry = Entry(
            seq=seq,
            kind=kind,
            timestamp=self._clock(),
            actor=actor,
            prev_hash=self.head_hash(),
            payload=payload,
        )
        body = entry.canonical_bytes()
        digest = entry_hash(body)
        for key, node in self._appender.append(merkle.leaf_hash(body)):
            self._nodes[key] = node
        self._bodies.append(body)
        self._hashes.append(digest)
        return AppendedEntry(seq=seq, kind=kind, entry_hash=digest, tree_size=seq + 1)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """Bodies of the entries with ``start <= seq < end`` (out-of-range bounds select fewer
        entries, as the SQL query does)."""
        return self._bodies[max(start, 0) : max(end, 0)]

    def read_seqs(self, seqs: Sequence[int]) -> list[bytes]:
        return [self._bodies[seq] for seq in seqs]

    def _check_size(self, size: int) -> None:
        current = self.size()
        if size < 0 or size > current:
            raise TreeSizeOutOfRange(
                f"tree size {size} is outside 0..{current}", tree_size=size, log_size=current
            )

    def root(self, size: int) -> bytes:
        self._check_size(size)
        return merkle_store.tree_root(self, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        if not 0 <= index < size:
            raise TreeSizeOutOfRange(
                f"index {index} is not below tree size {size}", index=index, tree_size=size
            )
        return merkle_store.inclusion_proof(self, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        self._check_size(size2)
        if not 0 < size1 <= size2:
            raise TreeSizeOutOfRange(
                f"consistency needs 0 < first <= second, got {size1}, {size2}",
                first=size1,
                second=size2,
            )
        return merkle_store.consistency_proof(self, size1, size2)

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        tiles.require_tile(self.size(), tiles.Tile(level, index, width))
        return tiles.read_tile(self, level, index, width)

    # --- rollback ------------------------------------------------------------------------------

    def truncate(self, size: int) -> None:
        """Forget every entry from ``size`` on, and every tree node over a forgotten leaf."""
        self._check_size(size)
        del self._bodies[size:]
        del self._hashes[size:]
        self._nodes = {
            (level, index): node
            for (level, index), node in self._nodes.items()
            if (index + 1) << level <= size
        }
        self._appender = merkle_store.MerkleAppender(self, size)
