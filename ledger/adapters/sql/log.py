"""SQL implementation of the ``LedgerLog`` port: entries, chain head and Merkle nodes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    event,
    func,
    insert,
    or_,
    select,
)

from ledger.adapters.sql.bulk_insert import insert_rows
from ledger.adapters.sql.orm import ledger_entry, merkle_node, signed_checkpoint
from ledger.errors import MerkleTreeAheadOfLog, NotFound
from ledger.log import merkle, merkle_store, tiles
from ledger.log.canonical import JsonValue
from ledger.log.chain import GENESIS_PREV_HASH, Entry, entry_hash
from ledger.log.checkpoints import (
    CheckpointState,
    InconsistentCheckpointRefused,
    guard_consistency,
)
from ledger.log.merkle_store import TreeSizeOutOfRange
from ledger.ports import AppendedEntry

#: Seqs per query when entries are read by seq.
SEQ_CHUNK = 500

Clock = Callable[[], datetime]

# Per database, the Merkle frontier this process left at its last commit: (tree size, head entry
# hash, level -> hash). A writer that finds the same head uses it instead of reading the
# frontier's nodes (a query, and a statement to build, per write); any other head (another
# process wrote) reads them as before. The size and the chained head hash identify the tree.
_FRONTIERS: WeakKeyDictionary[Engine, tuple[int, bytes, dict[int, bytes]]] = WeakKeyDictionary()


def node_keys_condition(keys: Sequence[merkle_store.NodeKey]) -> ColumnElement[bool]:
    """``(level, idx) IN keys`` written so both databases use the primary key: one
    ``level = L AND idx IN (...)`` per level (a row-value IN makes SQLite scan the table)."""
    by_level: dict[int, list[int]] = {}
    for level, idx in keys:
        by_level.setdefault(level, []).append(idx)
    return or_(
        *(
            and_(merkle_node.c.level == level, merkle_node.c.idx.in_(indexes))
            for level, indexes in sorted(by_level.items())
        )
    )


class SqlNodeReader:
    """Reads perfect-subtree hashes in one query; sees nodes pending in this transaction too."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def read_nodes(
        self, keys: Sequence[merkle_store.NodeKey]
    ) -> Mapping[merkle_store.NodeKey, bytes]:
        wanted = list(dict.fromkeys(keys))
        found: dict[merkle_store.NodeKey, bytes] = {}
        for chunk_start in range(0, len(wanted), 500):
            chunk = wanted[chunk_start : chunk_start + 500]
            rows = self._conn.execute(
                select(merkle_node.c.level, merkle_node.c.idx, merkle_node.c.hash).where(
                    node_keys_condition(chunk)
                )
            )
            for level, idx, node in rows:
                found[(level, idx)] = bytes(node)
        return found


@dataclass(frozen=True)
class LogMark:
    """A point in a write transaction (``SqlLedgerLog.mark``): the head and the Merkle
    frontier (tree size, level -> hash) as they were there, ``None`` when not yet loaded."""

    head: tuple[int, bytes] | None
    frontier: tuple[int, dict[int, bytes]] | None
    pending: tuple[int, int, int]  # rows buffered: entries, Merkle nodes, deferred rows
    flushes: int  # flushes that sent rows before the mark


class SqlLedgerLog:
    """The log as seen inside one transaction. Writers must hold the append lock."""

    def __init__(
        self, conn: Connection, clock: Clock, signed_elsewhere: CheckpointState | None = None
    ) -> None:
        self._conn = conn
        self._clock = clock
        # Signed trees remembered outside the database (the signer's file, the process's
        # memory): checked with the shared table before the first append of a transaction.
        self._signed_elsewhere = signed_elsewhere
        self._reader = SqlNodeReader(conn)
        self._head: tuple[int, bytes] | None = None
        self._appender: merkle_store.MerkleAppender | None = None
        # Rows appended but not yet sent: written in one executemany per table by flush(),
        # which every read of the log tables and the commit call first.
        self._pending_entries: list[dict[str, object]] = []
        self._pending_nodes: list[dict[str, object]] = []
        # Rows of other insert-only tables deferred the same way (``defer``), in order.
        self._pending_rows: list[tuple[Table, dict[str, object]]] = []
        self._flushes = 0
        self._flushing = False
        #: Every flush by ``COPY`` (see :meth:`flush`): set for an import batch only.
        self.copy_flushes = False
        self._extendable = False
        self._roots: dict[int, bytes] = {}
        # Any other statement on this connection sees the appended rows: flush before it runs.
        event.listen(conn, "before_execute", self._flush_before_other_statements)

    def _flush_before_other_statements(self, *_args: Any) -> None:
        if not self._flushing and (
            self._pending_entries or self._pending_nodes or self._pending_rows
        ):
            self.flush(copy=self.copy_flushes)

    def flush(self, *, copy: bool = False) -> None:
        """Send buffered entry, Merkle node and deferred rows to the database (same
        transaction): one executemany per table, entries first. ``copy``: on PostgreSQL, many
        rows of a table as one ``COPY`` (``bulk_insert``), which the unit of work's count of
        writes does not see: for callers that never undo part of a transaction (an import
        batch, ``ledger.adapters.sql.batch``)."""
        entries, nodes, rows = self._pending_entries, self._pending_nodes, self._pending_rows
        self._pending_entries, self._pending_nodes, self._pending_rows = [], [], []
        if not (entries or nodes or rows):
            return
        self._flushes += 1
        by_table: dict[Table, list[dict[str, object]]] = {}
        for table, row in rows:
            by_table.setdefault(table, []).append(row)
        self._flushing = True
        try:
            send = partial(insert_rows, self._conn) if copy else self._insert
            if entries:
                send(ledger_entry, entries)
            if nodes:
                send(merkle_node, nodes)
            for table, table_rows in by_table.items():
                send(table, table_rows)
        finally:
            self._flushing = False

    def _insert(self, table: Table, rows: list[dict[str, object]]) -> None:
        self._conn.execute(insert(table), rows)

    def defer(self, table: Table, rows: Sequence[dict[str, object]]) -> None:
        """Insert ``rows`` into ``table`` (an insert-only table whose rows nothing reads before
        the next statement) with the log's next flush: before any other statement on the
        connection, or at the commit."""
        self._pending_rows.extend((table, row) for row in rows)

    def mark(self) -> LogMark:
        """What this object remembers of the transaction, to return to with :meth:`reset_to`
        after a rollback to a savepoint taken now, or, when nothing was flushed since, after a
        command that wrote nothing to the database failed."""
        appender = self._appender
        return LogMark(
            head=self._head,
            frontier=None if appender is None else (appender.size, appender.frontier()),
            pending=(
                len(self._pending_entries),
                len(self._pending_nodes),
                len(self._pending_rows),
            ),
            flushes=self._flushes,
        )

    def reset_to(self, mark: LogMark) -> None:
        """Forget what was appended since ``mark``: the head, the Merkle frontier, the rows
        buffered since (all buffered rows if a flush sent rows since: the database rolled
        them back to the savepoint), the roots of larger trees."""
        if self._flushes != mark.flushes:
            self._pending_entries, self._pending_nodes, self._pending_rows = [], [], []
        else:
            entries, nodes, rows = mark.pending
            del self._pending_entries[entries:]
            del self._pending_nodes[nodes:]
            del self._pending_rows[rows:]
        self._head = mark.head
        if mark.frontier is None:
            self._appender = None
        else:
            size, frontier = mark.frontier
            self._appender = merkle_store.MerkleAppender(self._reader, size, frontier)
        limit = -1 if mark.head is None else mark.head[0]
        self._roots = {size: root for size, root in self._roots.items() if size <= limit}

    def committed(self) -> None:
        """After the transaction committed: keep the frontier for the next writer."""
        if self._appender is not None and self._head is not None:
            size, head = self._head
            _FRONTIERS[self._conn.engine] = (size, head, self._appender.frontier())

    def _load_head(self) -> tuple[int, bytes]:
        if self._head is None:
            row = self._conn.execute(
                select(ledger_entry.c.seq, ledger_entry.c.entry_hash)
                .order_by(ledger_entry.c.seq.desc())
                .limit(1)
            ).first()
            self._head = (0, GENESIS_PREV_HASH) if row is None else (row[0] + 1, bytes(row[1]))
        return self._head

    def size(self) -> int:
        return self._load_head()[0]

    def head_hash(self) -> bytes:
        """Entry hash of the last entry (32 zero bytes for the empty log)."""
        return self._load_head()[1]

    def largest_signed(self) -> tuple[int, bytes] | None:
        """The largest tree recorded in ``signed_checkpoint`` (any replica's), or ``None``."""
        row = self._conn.execute(
            select(signed_checkpoint.c.tree_size, signed_checkpoint.c.root_hash)
            .order_by(signed_checkpoint.c.tree_size.desc())
            .limit(1)
        ).first()
        return None if row is None else (row[0], bytes(row[1]))

    def check_extendable(self) -> None:
        """Raise unless the next entry may be appended: no Merkle leaf at or beyond the next
        position (entries deleted behind the service's back would otherwise end in a clash of
        node keys), and the log still holds the largest tree recorded as signed."""
        size = self.size()
        # One round trip: the last Merkle leaf at or beyond the next position, and the largest
        # recorded signed tree.
        largest = select(signed_checkpoint.c.tree_size, signed_checkpoint.c.root_hash).order_by(
            signed_checkpoint.c.tree_size.desc()
        )
        leaf, signed_size, signed_root = self._conn.execute(
            select(
                select(func.max(merkle_node.c.idx))
                .where(merkle_node.c.level == 0, merkle_node.c.idx >= size)
                .scalar_subquery(),
                largest.with_only_columns(signed_checkpoint.c.tree_size).limit(1).scalar_subquery(),
                largest.with_only_columns(signed_checkpoint.c.root_hash).limit(1).scalar_subquery(),
            )
        ).one()
        if leaf is not None:
            raise MerkleTreeAheadOfLog(
                f"the Merkle tree has a leaf at index {leaf} but the log ends at {size}: entries "
                "were removed outside the service; nothing is appended until the database is "
                "restored (run `a6ledger verify-db`)",
                log_size=size,
                last_leaf=leaf,
            )
        if signed_size is not None and (
            size < signed_size or self.root(signed_size) != bytes(signed_root)
        ):
            raise InconsistentCheckpointRefused(
                f"the stored log no longer contains the signed tree of size {signed_size}: "
                "refusing to append or sign; run `a6ledger verify-db`",
                signed_size=signed_size,
            )
        guard_consistency(self, self._signed_elsewhere)
        self._extendable = True

    def record_signed(self, size: int, root: bytes, at: datetime) -> None:
        """Record that the tree of ``size`` with ``root`` was signed, if it is larger than every
        tree recorded before. The caller holds the append lock (a write transaction)."""
        signed = self.largest_signed()
        if signed is not None and signed[0] >= size:
            return
        self._conn.execute(
            insert(signed_checkpoint).values(tree_size=size, root_hash=root, signed_at=at)
        )

    def append(self, kind: str, payload: Mapping[str, JsonValue], actor: str) -> AppendedEntry:
        if not self._extendable:
            # Once per transaction: the append lock is held, so nobody else moves the head.
            self.check_extendable()
        seq, prev_hash = self._load_head()
        moment = self._clock()
        entry = Entry(
            seq=seq, kind=kind, timestamp=moment, actor=actor, prev_hash=prev_hash, payload=payload
        )
        body = entry.canonical_bytes()
        digest = entry_hash(body)
        if self._appender is None:
            known = _FRONTIERS.get(self._conn.engine)
            frontier = known[2] if known is not None and known[:2] == (seq, prev_hash) else None
            self._appender = merkle_store.MerkleAppender(self._reader, seq, frontier)
        nodes = self._appender.append(merkle.leaf_hash(body))
        self._pending_entries.append(
            {
                "seq": seq,
                "kind": kind,
                "actor": actor,
                "recorded_at": moment,
                "prev_hash": prev_hash,
                "entry_hash": digest,
                "body": body,
            }
        )
        self._pending_nodes.extend(
            {"level": level, "idx": idx, "hash": node} for (level, idx), node in nodes
        )
        self._head = (seq + 1, digest)
        return AppendedEntry(seq=seq, kind=kind, entry_hash=digest, tree_size=seq + 1)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        self.flush()
        rows = self._conn.execute(
            select(ledger_entry.c.body)
            .where(ledger_entry.c.seq >= start, ledger_entry.c.seq < end)
            .order_by(ledger_entry.c.seq)
        )
        return [bytes(body) for (body,) in rows]

    def read_entries_of_kind(self, kind: str, start: int, end: int) -> list[bytes]:
        """Bodies of the entries of ``kind`` among ``start .. end-1`` (index on kind, seq)."""
        self.flush()
        rows = self._conn.execute(
            select(ledger_entry.c.body)
            .where(
                ledger_entry.c.kind == kind, ledger_entry.c.seq >= start, ledger_entry.c.seq < end
            )
            .order_by(ledger_entry.c.seq)
        )
        return [bytes(body) for (body,) in rows]

    def read_seqs(self, seqs: Sequence[int]) -> list[bytes]:
        self.flush()
        bodies: list[bytes] = []
        for low in range(0, len(seqs), SEQ_CHUNK):
            rows = self._conn.execute(
                select(ledger_entry.c.body)
                .where(ledger_entry.c.seq.in_(seqs[low : low + SEQ_CHUNK]))
                .order_by(ledger_entry.c.seq)
            )
            bodies.extend(bytes(body) for (body,) in rows)
        return bodies

    def read_entry(self, seq: int) -> Entry:
        self.flush()
        body = self._conn.execute(
            select(ledger_entry.c.body).where(ledger_entry.c.seq == seq)
        ).scalar_one_or_none()
        if body is None:
            raise NotFound(f"no ledger entry with seq {seq}", seq=seq)
        return Entry.from_canonical(bytes(body))

    def _check_size(self, size: int) -> None:
        self.flush()
        current = self.size()
        if size < 0 or size > current:
            raise TreeSizeOutOfRange(
                f"tree size {size} is outside 0..{current}", tree_size=size, log_size=current
            )

    def root(self, size: int) -> bytes:
        self._check_size(size)
        # The log is append-only: the root of a size it holds never changes within a transaction.
        root = self._roots.get(size)
        if root is None:
            root = self._roots[size] = merkle_store.tree_root(self._reader, size)
        return root

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        if not 0 <= index < size:
            raise TreeSizeOutOfRange(
                f"index {index} is not below tree size {size}", index=index, tree_size=size
            )
        return merkle_store.inclusion_proof(self._reader, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        self._check_size(size2)
        if not 0 < size1 <= size2:
            raise TreeSizeOutOfRange(
                f"consistency needs 0 < first <= second, got {size1}, {size2}",
                first=size1,
                second=size2,
            )
        return merkle_store.consistency_proof(self._reader, size1, size2)

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        self.flush()
        tiles.require_tile(self.size(), tiles.Tile(level, index, width))
        return tiles.read_tile(self._reader, level, index, width)
