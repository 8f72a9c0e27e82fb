"""A SQLite ledger of many synthetic entries, written fast: the test of a streamed export of
200,000 entries (``tests/integration/test_export_200k.py``) and the benchmarks need one, and
appending through the service (``record_entry``) takes minutes at that size.

The rows are the ones ``ledger.adapters.sql.log.SqlLedgerLog.append`` writes (``ledger_entry``
and ``merkle_node``, in the same tables, in one transaction, the append-only and chain-link
triggers firing as for any insert), for ``log.note`` entries that name no Party, account or
authorization, so the entry index (``entry_tag``) and the projection rightly stay empty; or,
with ``party``, entries that name that Party, each indexed under its tags
(:func:`ledger.registry.entry_tags.entry_tags`, one ``entry_tag`` row per tag, as
``record_entry`` writes them), so that ``verify-db`` replays and compares an index the size of
the log (``bench/exports.py``). Two shortcuts make it fast, neither of which changes a byte:

- the canonical bytes (RFC 8785) of these entries, whose values are only ASCII strings without
  escapes and small integers, are what the standard library's ``json.dumps`` with sorted keys
  and no whitespace writes; the first entry of every batch is checked against
  :meth:`ledger.log.chain.Entry.canonical_bytes`, and every verifier re-checks every entry;
- the Merkle nodes come from :class:`ledger.log.merkle_store.MerkleAppender` kept in memory,
  as the adapter keeps it across appends within a transaction.

``a6ledger verify-db`` accepts the result (``tests/bench/test_exports.py`` checks it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.log import merkle
from ledger.log.chain import GENESIS_PREV_HASH, Entry, entry_hash, format_timestamp
from ledger.log.merkle_store import MerkleAppender, NodeKey
from ledger.registry.entry_tags import entry_tags

START = datetime(2026, 1, 1, tzinfo=UTC)
KIND = "log.note"
ACTOR = "bench"
BATCH = 10_000


class _EmptyTree:
    """The node reader of a new log: nothing is stored yet."""

    def read_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        return {}


def _payload(seq: int, party: str | None) -> dict[str, int | str]:
    payload: dict[str, int | str] = {
        "n": seq,
        "note": "synthetic entry of a registry-like size",
        "quantity": 1000 + seq % 97,
        "vintage": 2020 + seq % 6,
    }
    if party is not None:
        payload |= {"account": f"{party}01-GOV", "party": party}
    return payload


def _moment(seq: int) -> tuple[datetime, str, str]:
    """The entry's time (``seq`` milliseconds and 1 microsecond after :data:`START`, within
    2026-01-01 up to 86,400,000 entries), as the entry spells it and as SQLite stores
    ``recorded_at``. Never a whole second, as a time the service records almost never is (the
    verifiers' fast path leaves those to the exact check, ``ledger.log.chain_run``)."""
    seconds, milliseconds = divmod(seq, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    clock = f"{hour:02d}:{minute:02d}:{second:02d}.{milliseconds:03d}001"
    moment = START + timedelta(milliseconds=seq, microseconds=1)
    return moment, f"2026-01-01T{clock}Z", f"2026-01-01 {clock}"


ENTRY_ROW = (
    "INSERT INTO ledger_entry (seq, kind, actor, recorded_at, prev_hash, entry_hash, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
NODE_ROW = "INSERT INTO merkle_node (level, idx, hash) VALUES (?, ?, ?)"
TAG_ROW = "INSERT INTO entry_tag (tag, seq) VALUES (?, ?)"


def bulk_log(path: Path, size: int, party: str | None = None) -> bytes:
    """Create the SQLite ledger ``path`` (migrated to head) holding ``size`` synthetic entries
    one millisecond apart from 2026-01-01T00:00:00.000001Z (naming ``party`` and one of its
    accounts, and indexed under their tags, if given); return the root of its tree.

    The rows go in through the driver (``sqlite3``) in one transaction, in the storage format
    SQLAlchemy gives them (``recorded_at`` as ``YYYY-MM-DD HH:MM:SS.ffffff`` text, hashes and
    bodies as blobs), without its per-row parameter processing; the journal is kept in memory
    and not synced, since the file is a throwaway built for one run."""
    import sqlite3

    from ledger.adapters.sql.guard import SQLITE_WRITER_FUNCTION
    from ledger.adapters.sql.migrations import upgrade_to_head

    if not 0 < size <= 86_400_000:
        raise ValueError(f"size {size} is not in 1..86,400,000")
    upgrade_to_head(f"sqlite:///{path}")
    appender = MerkleAppender(_EmptyTree(), 0, {})
    prev_hash = GENESIS_PREV_HASH
    dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode
    connection = sqlite3.connect(path, isolation_level=None)
    # This connection is the log's writer: the projection guard's triggers (``entry_tag``)
    # ask it, as they ask the service's write transactions (ledger.adapters.sql.guard).
    connection.create_function(SQLITE_WRITER_FUNCTION, 0, lambda: 1)
    try:
        connection.execute("PRAGMA journal_mode = MEMORY")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("BEGIN IMMEDIATE")
        for low in range(0, size, BATCH):
            entries: list[tuple[object, ...]] = []
            nodes: list[tuple[int, int, bytes]] = []
            tags: list[tuple[str, int]] = []
            for seq in range(low, min(size, low + BATCH)):
                moment, timestamp, recorded_at = _moment(seq)
                payload = _payload(seq, party)
                body = dumps(
                    {
                        "actor": ACTOR,
                        "kind": KIND,
                        "payload": payload,
                        "prev_hash": prev_hash.hex(),
                        "seq": seq,
                        "timestamp": timestamp,
                        "v": 1,
                    }
                ).encode("ascii")
                if seq == low:
                    entry = Entry(seq, KIND, moment, ACTOR, prev_hash, payload)
                    if body != entry.canonical_bytes() or timestamp != format_timestamp(moment):
                        raise AssertionError(f"entry {seq} is not in its canonical form")
                digest = entry_hash(body)
                entries.append((seq, KIND, ACTOR, recorded_at, prev_hash, digest, body))
                nodes.extend(
                    (level, idx, node)
                    for (level, idx), node in appender.append(merkle.leaf_hash(body))
                )
                tags.extend((tag, seq) for tag in entry_tags(KIND, payload))
                prev_hash = digest
            connection.executemany(ENTRY_ROW, entries)
            connection.executemany(NODE_ROW, nodes)
            connection.executemany(TAG_ROW, tags)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return appender.root()


if __name__ == "__main__":
    import sys
    import time

    started = time.perf_counter()
    root = bulk_log(Path(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:4])
    print(json.dumps({"root": root.hex(), "seconds": time.perf_counter() - started}))
