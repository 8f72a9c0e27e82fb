"""``verify-db``: re-derive every hash, the chain and the Merkle tree from storage.

It trusts nothing the service wrote except the entry bodies' order by ``seq``: every stored hash
column, every link and every Merkle node is recomputed and compared, and the first bad ``seq`` is
named. It streams, holding only one batch and the O(log n) Merkle frontier in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select

from ledger.adapters.sql.log import node_keys_condition
from ledger.adapters.sql.orm import ledger_entry, merkle_node
from ledger.log import merkle, merkle_store
from ledger.log.chain import GENESIS_PREV_HASH, Entry, MalformedEntry, entry_hash

BATCH = 2000


@dataclass(frozen=True, slots=True)
class VerifyReport:
    tree_size: int
    root_hash: bytes
    first_bad_seq: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


class _Fault(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def _rows(conn: Connection) -> Iterator[tuple[int, str, bytes, bytes, bytes]]:
    last = -1
    while True:
        batch = conn.execute(
            select(
                ledger_entry.c.seq,
                ledger_entry.c.kind,
                ledger_entry.c.prev_hash,
                ledger_entry.c.entry_hash,
                ledger_entry.c.body,
            )
            .where(ledger_entry.c.seq > last)
            .order_by(ledger_entry.c.seq)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for seq, kind, prev, digest, body in batch:
            yield seq, kind, bytes(prev), bytes(digest), bytes(body)
        last = batch[-1][0]


def _check_nodes(conn: Connection, expected: dict[merkle_store.NodeKey, bytes]) -> None:
    keys = sorted(expected, key=lambda k: (k[1] << k[0], k[0]))
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        stored = {
            (level, idx): bytes(node)
            for level, idx, node in conn.execute(
                select(merkle_node.c.level, merkle_node.c.idx, merkle_node.c.hash).where(
                    node_keys_condition(chunk)
                )
            )
        }
        for key in chunk:
            if stored.get(key) != expected[key]:
                level, idx = key
                what = "missing" if key not in stored else "altered"
                raise _Fault(idx << level, f"Merkle node (level {level}, index {idx}) is {what}")


def verify_database(engine: Engine) -> VerifyReport:
    with engine.connect() as conn, conn.begin():
        prev = GENESIS_PREV_HASH
        frontier: list[tuple[int, bytes]] = []
        pending: dict[merkle_store.NodeKey, bytes] = {}
        expected_seq = 0
        try:
            for seq, kind, prev_col, digest_col, body in _rows(conn):
                if seq != expected_seq:
                    raise _Fault(expected_seq, f"entry {expected_seq} is missing")
                try:
                    entry = Entry.from_canonical(body)
                except MalformedEntry as exc:
                    raise _Fault(seq, f"body is not a canonical entry: {exc}") from exc
                digest = entry_hash(body)
                if entry.seq != seq or entry.kind != kind:
                    raise _Fault(seq, "body's seq or kind differ from the row")
                if entry.prev_hash != prev or prev_col != prev:
                    raise _Fault(seq, "prev_hash does not link to the previous entry")
                if digest_col != digest:
                    raise _Fault(seq, "stored entry_hash differs from SHA-256 of the body")
                node = merkle.leaf_hash(body)
                pending[(0, seq)] = node
                level = 0
                while frontier and frontier[-1][0] == level:
                    node = merkle.node_hash(frontier.pop()[1], node)
                    level += 1
                    pending[(level, seq >> level)] = node
                frontier.append((level, node))
                if len(pending) >= 4 * BATCH:
                    _check_nodes(conn, pending)
                    pending.clear()
                prev = digest
                expected_seq += 1
            _check_nodes(conn, pending)
            stored_nodes = conn.execute(select(func.count()).select_from(merkle_node)).scalar_one()
            expected_nodes = 2 * expected_seq - bin(expected_seq).count("1")
            if stored_nodes != expected_nodes:
                raise _Fault(
                    expected_seq,
                    f"{stored_nodes} Merkle nodes stored, {expected_nodes} expected",
                )
        except _Fault as fault:
            return VerifyReport(expected_seq, b"", fault.seq, fault.reason)
        root = merkle.EMPTY_ROOT
        if frontier:
            root = frontier[-1][1]
            for _level, node in reversed(frontier[:-1]):
                root = merkle.node_hash(node, root)
        return VerifyReport(expected_seq, root, None, None)
