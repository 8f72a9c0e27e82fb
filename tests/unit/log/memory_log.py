"""An in-memory log for the export tests, and the log key they sign with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from ledger.log import merkle, merkle_store, note
from ledger.log.canonical import JsonValue
from ledger.log.chain import GENESIS_PREV_HASH, Entry, entry_hash
from ledger.log.keys import format_skey
from ledger.ports import AppendedEntry

ORIGIN = "a6ledger.test/unit"
SIGNER = note.Signer(format_skey(ORIGIN, bytes(range(32))))
VKEY = SIGNER.vkey
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class MemoryLog:
    """A tiny ``LedgerLog``: canonical entries, hash chain and an RFC 9162 tree in memory."""

    def __init__(self, step: timedelta = timedelta(minutes=1)) -> None:
        self.step = step
        self.store = merkle_store.MemoryNodeStore()
        self.appender = merkle_store.MerkleAppender(self.store, 0)
        self.bodies: list[bytes] = []
        self.head = GENESIS_PREV_HASH

    def append(self, kind: str, payload: Mapping[str, JsonValue], actor: str) -> AppendedEntry:
        seq = len(self.bodies)
        entry = Entry(seq, kind, T0 + seq * self.step, actor, self.head, payload)
        body = entry.canonical_bytes()
        self.store.put_many(self.appender.append(merkle.leaf_hash(body)))
        self.bodies.append(body)
        self.head = entry_hash(body)
        return AppendedEntry(seq, kind, self.head, seq + 1)

    def size(self) -> int:
        return len(self.bodies)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        return self.bodies[start:end]

    def root(self, size: int) -> bytes:
        return merkle_store.tree_root(self.store, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle_store.inclusion_proof(self.store, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle_store.consistency_proof(self.store, size1, size2)


def memory_log(size: int, tag: str = "a", step: timedelta = timedelta(minutes=1)) -> MemoryLog:
    """``size`` entries, ``step`` apart: whole minutes by default; with microseconds, the
    verifiers' fast path (``ledger.log.chain_run``) checks them."""
    log = MemoryLog(step)
    for n in range(size):
        log.append("test.entry", {"n": n, "tag": tag, "tonnes": 1000 + n}, "tester")
    return log
