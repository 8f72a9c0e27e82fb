"""``verify-db``: re-derive every hash, the chain, the Merkle tree and the projection from storage.

It trusts nothing the service wrote except the entry bodies' order by ``seq``: every stored hash
column, every link and every Merkle node is recomputed and compared, and the first bad ``seq`` is
named. It streams the log, holding one batch and the O(log n) Merkle frontier, plus the
projection replayed so far: every entry is re-checked against the registry rules as it is
replayed (``ledger.registry.audit``), and the replayed projection is then compared with the
stored one row by row, naming the first row that differs.

``ProjectionScan`` is the cheaper check ``/readyz`` runs, a window of rows per probe: each stored
projection row against its digest and its binding against the ledger entry it names, and each
table's row count (``check_projection`` runs it over every row at once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, func, select, tuple_

from ledger.adapters.sql.orm import (
    PROJECTION_TABLES,
    account,
    aef_submission,
    authorization,
    authorized_entity,
    block_event,
    cooperative_approach,
    entry_tag,
    first_transfer_definition,
    jc_decision,
    ledger_entry,
    merkle_node,
    party,
    projection_count,
    registry,
    unit_block,
)
from ledger.adapters.sql.projection import (
    account_row,
    approach_row,
    authorization_row,
    block_row,
    bound_row,
    count_row,
    decision_row,
    definition_row,
    describe_key,
    entity_row,
    key_of,
    party_row,
    registry_row,
    row_digest,
    submission_row,
)
from ledger.errors import EntryBreaksRule
from ledger.log import merkle
from ledger.log.chain import GENESIS_PREV_HASH, Entry, MalformedEntry, entry_hash
from ledger.log.chain_run import EntryShape, check_run
from ledger.registry.audit import LedgerAudit
from ledger.registry.projection import UNBOUND, InMemoryProjection

BATCH = 2000
_SEQ_COLUMN, _KIND_COLUMN, _PREV_COLUMN, _HASH_COLUMN, _BODY_COLUMN = map(itemgetter, range(5))
_SEQ, _KIND, _TIMESTAMP, _ACTOR, _PAYLOAD = map(
    attrgetter, ("seq", "kind", "timestamp", "actor", "payload")
)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    tree_size: int
    root_hash: bytes
    first_bad_seq: int | None
    reason: str | None
    bad_row: str | None = None
    """The first stored projection row that differs from the ledger's, e.g.
    ``unit_block[block_id=3]`` (``reason`` says how)."""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and self.bad_row is None


@dataclass(frozen=True, slots=True)
class RowDifference:
    """A stored projection row that is not what the ledger wrote."""

    row: str
    reason: str

    def __str__(self) -> str:
        return f"{self.row}: {self.reason}"


class _Fault(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def _fetch(conn: Connection, sql: str) -> list[Any]:
    """The rows of ``sql`` (which interpolates integers only) from the driver's own cursor, in
    the connection's transaction: verify-db reads every entry and every Merkle node, and result
    objects per row would cost more than the hashing being verified."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _batches(conn: Connection) -> Iterator[list[tuple[int, str, bytes, bytes, bytes]]]:
    """The ledger's rows by ``seq``, ``BATCH`` at a time: seq, kind, prev_hash, entry_hash,
    body (the driver gives bytes for binary columns on SQLite and PostgreSQL)."""
    last = -1
    while True:
        batch = _fetch(
            conn,
            "SELECT seq, kind, prev_hash, entry_hash, body FROM ledger_entry "
            f"WHERE seq > {int(last)} ORDER BY seq LIMIT {BATCH}",
        )
        if not batch:
            return
        yield batch
        last = batch[-1][0]


class _Tree:
    """The Merkle tree of the leaves fed so far, level by level: each level's nodes completed
    by a batch are hashed in one list comprehension, and the last unpaired node of each level
    (the frontier) is carried to the next batch."""

    def __init__(self) -> None:
        self.size = 0
        self.carry: list[bytes | None] = []

    def extend(self, leaves: list[bytes]) -> dict[int, tuple[int, list[bytes]]]:
        """Add ``leaves``; returns the nodes they complete: level -> (first index, hashes)."""
        completed: dict[int, tuple[int, list[bytes]]] = {}
        sha256 = hashlib.sha256
        nodes, level, first = leaves, 0, self.size
        self.size += len(leaves)
        while nodes:
            completed[level] = (first, nodes)
            if level == len(self.carry):
                self.carry.append(None)
            left = self.carry[level]
            paired = nodes if left is None else [left, *nodes]
            self.carry[level] = paired[-1] if len(paired) % 2 else None
            pairs = iter(paired[: len(paired) - len(paired) % 2])
            nodes = [sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
            level += 1
            first //= 2
        return completed

    def root(self) -> bytes:
        root: bytes | None = None
        for node in self.carry:  # lowest level first: the frontier, right to left
            if node is not None:
                root = node if root is None else merkle.node_hash(node, root)
        return merkle.EMPTY_ROOT if root is None else root


def _check_nodes(conn: Connection, completed: dict[int, tuple[int, list[bytes]]]) -> None:
    """Compare the Merkle nodes a batch of entries completed with the stored ones: one primary
    key range scan per level (the nodes a run of appends completes on a level are consecutive),
    reporting the lowest entry under a missing or altered node."""
    faults: list[tuple[int, int, int, str]] = []
    for level, (first, wanted) in completed.items():
        window = f"level = {int(level)} AND idx >= {int(first)} AND idx < {first + len(wanted)}"
        hashes = _fetch(conn, f"SELECT hash FROM merkle_node WHERE {window} ORDER BY idx")
        if len(hashes) == len(wanted) and [node for (node,) in hashes] == wanted:
            continue  # the range holds exactly len(wanted) distinct indices: all of them
        rows = _fetch(conn, f"SELECT idx, hash FROM merkle_node WHERE {window}")
        stored = {idx: bytes(node) for idx, node in rows}
        for idx, value in enumerate(wanted, first):
            if stored.get(idx) != value:
                what = "missing" if idx not in stored else "altered"
                faults.append((idx << level, level, idx, what))
                break
    if faults:
        seq, level, idx, what = min(faults)
        raise _Fault(seq, f"Merkle node (level {level}, index {idx}) is {what}")


def _check_entry(
    seq: int, kind: str, prev_col: bytes, digest_col: bytes, body: bytes, prev: bytes
) -> tuple[Entry, bytes]:
    """The exact check of one row (:meth:`Entry.from_canonical`), naming what is wrong."""
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
    return entry, digest


def _fast_run(
    rows: Sequence[tuple[int, str, bytes, bytes, bytes]],
    bodies: list[bytes],
    first: int,
    seq: int,
    prev: bytes,
) -> tuple[list[EntryShape], list[str]]:
    """The rows from ``first`` on that the fast path (:func:`ledger.log.chain_run.check_run`)
    vouches for and whose columns (seq, kind, prev_hash, entry_hash) agree with their bodies:
    their fields and entry hashes (hex). The row after them, if any, takes the exact path."""
    shapes, hexes = check_run(bodies, first, seq, prev, len(bodies) - first)
    if not shapes:
        return [], []
    run = rows[first : first + len(shapes)]
    # Whole columns at once: one join and one hex per column, not one call per row.
    if (
        list(map(_SEQ_COLUMN, run)) == list(range(seq, seq + len(run)))
        and list(map(_KIND_COLUMN, run)) == list(map(_KIND, shapes))
        and b"".join(map(_PREV_COLUMN, run)).hex() == prev.hex() + "".join(hexes[:-1])
        and b"".join(map(_HASH_COLUMN, run)).hex() == "".join(hexes)
    ):
        return shapes, hexes
    links = [prev.hex(), *hexes[:-1]]
    for count, (row, shape, link, digest) in enumerate(zip(run, shapes, links, hexes, strict=True)):
        if (row[0], row[1], row[2].hex(), row[3].hex()) != (seq + count, shape.kind, link, digest):
            return shapes[:count], hexes[:count]
    raise AssertionError("a column differs, but no row does")  # pragma: no cover


def verify_database(
    engine: Engine, on_entry: Callable[[int], None] | None = None, *, replay: bool = True
) -> VerifyReport:
    """Re-derive every hash, link and Merkle node from storage, and (``replay``, the default)
    the projection from a replay of the log through the registry rules; ``on_entry(1)`` is
    called after each entry (progress).

    ``replay=False`` checks the chain and the tree only (every body canonical, every link,
    every stored hash and Merkle node, the root): the part a bare hash of the bytes is
    compared with in ``bench/exports.py``.
    """
    with engine.connect() as conn, conn.begin():
        prev = GENESIS_PREV_HASH
        tree = _Tree()
        expected_seq = 0
        audit = LedgerAudit()
        sha256 = hashlib.sha256
        try:
            for rows in _batches(conn):
                bodies = list(map(_BODY_COLUMN, rows))
                index = 0
                while index < len(rows):
                    shapes, hexes = _fast_run(rows, bodies, index, expected_seq, prev)
                    if shapes:
                        count = len(shapes)
                        digests = list(map(bytes.fromhex, hexes)) if replay else []
                        if replay:
                            _replay(audit, _entries(shapes, prev, digests), digests)
                        prev = digests[-1] if replay else bytes.fromhex(hexes[-1])
                    else:
                        seq, kind, prev_col, digest_col, body = rows[index]
                        if seq != expected_seq:
                            raise _Fault(expected_seq, f"entry {expected_seq} is missing")
                        entry, prev = _check_entry(seq, kind, prev_col, digest_col, body, prev)
                        count = 1
                        if replay:
                            _replay(audit, [entry], [prev])
                    index += count
                    expected_seq += count
                    if on_entry is not None:
                        for _ in range(count):
                            on_entry(1)
                _check_nodes(
                    conn, tree.extend([sha256(b"\x00" + body).digest() for body in bodies])
                )
            stored_nodes = conn.execute(select(func.count()).select_from(merkle_node)).scalar_one()
            expected_nodes = 2 * expected_seq - bin(expected_seq).count("1")
            if stored_nodes != expected_nodes:
                raise _Fault(
                    expected_seq,
                    f"{stored_nodes} Merkle nodes stored, {expected_nodes} expected",
                )
            if replay:
                try:
                    audit.finish()
                except EntryBreaksRule as exc:
                    raise _Fault(int(exc.details["seq"]), exc.message) from exc
        except _Fault as fault:
            return VerifyReport(expected_seq, b"", fault.seq, fault.reason)
        root = tree.root()
        if replay:
            difference = compare_projection(conn, audit.state)
            if difference is not None:
                return VerifyReport(expected_seq, root, None, difference.reason, difference.row)
        return VerifyReport(expected_seq, root, None, None)


def _entries(shapes: Sequence[EntryShape], prev: bytes, digests: list[bytes]) -> list[Entry]:
    """The entries the fast path decoded, built column by column (each ``prev_hash`` is the
    entry hash of the entry before, which the fast path compared with its text)."""
    return list(
        map(
            Entry,
            map(_SEQ, shapes),
            map(_KIND, shapes),
            map(_TIMESTAMP, shapes),
            map(_ACTOR, shapes),
            [prev, *digests[:-1]],
            map(_PAYLOAD, shapes),
        )
    )


def _replay(audit: LedgerAudit, entries: Sequence[Entry], digests: Sequence[bytes]) -> None:
    """Feed ``entries`` to the rule-checking replay; the first that breaks a rule is the fault."""
    feed = audit.feed
    entry: Entry | None = None
    try:
        for entry, digest in zip(entries, digests, strict=True):
            feed(entry, digest)
    except EntryBreaksRule as exc:
        assert entry is not None
        raise _Fault(entry.seq, exc.message) from exc


# --- the projection --------------------------------------------------------------------------


def expected_rows(state: InMemoryProjection) -> dict[Table, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every projection row a replay of the ledger implies, bound as the service binds them,
    but the entry index (``entry_tag``: a row per entry and tag, compared as a stream by
    :func:`compare_projection`)."""
    rows: dict[Table, list[dict[str, Any]]] = {
        party: [party_row(p) for p in state.party_by_code.values()],
        registry: [registry_row(r) for r in state.registry_by_id.values()],
        cooperative_approach: [approach_row(a) for a in state.approach_by_id.values()],
        first_transfer_definition: [
            definition_row(code, ca_id, definition)
            for (code, ca_id), definition in state.definition_by_key.items()
        ],
        authorization: [authorization_row(a) for a in state.authorization_by_key.values()],
        authorized_entity: [entity_row(e) for e in state.entity_by_id.values()],
        account: [account_row(a) for a in state.account_by_id.values()],
        unit_block: [
            block_row(b, state.superseded.get(b.block_id)) for b in state.block_by_id.values()
        ],
        aef_submission: [submission_row(*key) for key in state.submissions],
        jc_decision: [decision_row(*item) for item in state.decisions.items()],
    }
    expected: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = {}
    counts: list[dict[str, Any]] = []
    for table, plain in rows.items():
        bound: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in plain:
            key = key_of(table, row)
            bound[key] = bound_row(table, row, state.bindings.get((table.name, key), UNBOUND))
        expected[table] = bound
        if plain:
            binding = state.last_insert.get(table.name, UNBOUND)
            counts.append(bound_row(projection_count, count_row(table.name, len(plain)), binding))
    expected[projection_count] = {key_of(projection_count, row): row for row in counts}
    expected[block_event] = {
        (e.seq, e.block_id): {
            "seq": e.seq,
            "block_id": e.block_id,
            "kind": e.kind,
            "first_serial": e.first,
            "last_serial": e.last,
            "account_id": e.account_id,
        }
        for e in state.events
    }
    return expected


def _shown(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()[:16] + "…"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _same(stored: Any, expected: Any) -> bool:
    if isinstance(stored, bytearray | memoryview):
        stored = bytes(stored)
    return isinstance(stored, bool) is isinstance(expected, bool) and bool(stored == expected)


def _row_difference(
    table: Table,
    key: tuple[Any, ...],
    stored: Mapping[Any, Any] | None,
    expected: dict[str, Any] | None,
) -> RowDifference | None:
    if stored is None:
        assert expected is not None
        written = f" (written by seq {expected['seq']})" if "entry_hash" in expected else ""
        return RowDifference(
            describe_key(table, key), f"the ledger has this row{written}, storage does not"
        )
    if expected is None:
        return RowDifference(
            describe_key(table, key), "storage has this row, no ledger entry wrote it"
        )
    for column in table.columns:
        name = column.name
        if not _same(stored[name], expected[name]):
            return RowDifference(
                describe_key(table, key),
                f"{name} is {_shown(stored[name])} in storage, {_shown(expected[name])} in the "
                "ledger",
            )
    return None


def compare_projection(conn: Connection, state: InMemoryProjection) -> RowDifference | None:
    """The first stored projection row that differs from ``state`` (a replay of the ledger):
    tables in a fixed order, rows by primary key."""
    for table, expected in expected_rows(state).items():
        stored = {key_of(table, row): row for row in conn.execute(select(table)).mappings().all()}
        for key in sorted(stored.keys() | expected.keys()):
            difference = _row_difference(table, key, stored.get(key), expected.get(key))
            if difference is not None:
                return difference
    return _tag_difference(conn, state.tagged)


TAG_CHUNK = 10_000


def _tag_seqs(conn: Connection, tag: str) -> Iterator[list[int]]:
    """The seqs stored under ``tag`` in order, :data:`TAG_CHUNK` at a time, each chunk one
    query from the last seq on (the primary key's order) through the driver's cursor: one
    Python int per row, no result object, and one chunk in memory on either database."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"SELECT seq FROM entry_tag WHERE tag = {mark} AND seq > {mark} "
        f"ORDER BY seq LIMIT {TAG_CHUNK}"
    )
    last = -1
    while True:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, (tag, last))
            chunk = list(map(_SEQ_COLUMN, cursor.fetchall()))
        finally:
            cursor.close()
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


def _tag_difference(conn: Connection, tagged: Mapping[str, list[int]]) -> RowDifference | None:
    """The first stored ``entry_tag`` row (by tag, then seq) that differs from ``tagged``: each
    tag's seqs streamed in order and compared a chunk at a time, so memory holds one chunk, not
    a row object per entry and tag."""
    stored_tags = set(conn.execute(select(entry_tag.c.tag).distinct()).scalars())
    for tag in sorted(stored_tags | tagged.keys()):
        wanted = tagged.get(tag, [])
        if any(a >= b for a, b in zip(wanted, islice(wanted, 1, None), strict=False)):
            wanted = sorted(set(wanted))
        position = 0
        for chunk in _tag_seqs(conn, tag):
            if chunk == wanted[position : position + len(chunk)]:
                position += len(chunk)
                continue
            for offset, seq in enumerate(chunk):
                expected = wanted[position + offset] if position + offset < len(wanted) else None
                if expected is None or seq < expected:
                    return RowDifference(
                        describe_key(entry_tag, (tag, seq)),
                        "storage has this row, no ledger entry wrote it",
                    )
                if seq > expected:
                    return RowDifference(
                        describe_key(entry_tag, (tag, expected)),
                        "the ledger has this row, storage does not",
                    )
        if position < len(wanted):
            return RowDifference(
                describe_key(entry_tag, (tag, wanted[position])),
                "the ledger has this row, storage does not",
            )
    return None


SCANNED = (*PROJECTION_TABLES, projection_count)


def _count_difference(conn: Connection) -> RowDifference | None:
    """Each projection table's row count against ``projection_count`` (whose rows are checked
    against their digests)."""
    recorded: dict[str, int] = {}
    for row in conn.execute(select(projection_count)).mappings().all():
        where = describe_key(projection_count, key_of(projection_count, row))
        if row_digest(projection_count.name, row) != bytes(row["digest"]):
            return RowDifference(where, "the row does not match its digest")
        recorded[str(row["table_name"])] = int(row["row_count"])
    for table in PROJECTION_TABLES:
        stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
        written = recorded.pop(table.name, 0)
        if stored != written:
            return RowDifference(
                table.name, f"the table holds {stored} rows, the service wrote {written}"
            )
    for name in recorded:
        return RowDifference(f"projection_count[table_name={name!r}]", "no such table")
    return None


class ProjectionScan:
    """Checks stored projection rows against their digests and bindings, ``window`` rows per
    :meth:`step` (all of them when ``window`` is None), resuming where the previous step ended
    and starting over after the last table; every step also checks each table's row count.

    ``/readyz`` runs one step per probe, so a probe costs O(window) whatever the size of the
    projection, and an edited row is reported within ``rows / window`` probes. A row found bad
    is re-checked first by every later step, so readiness stays failed until it is restored."""

    def __init__(self, window: int | None = 2000) -> None:
        self.window = window
        self._position: tuple[int, tuple[Any, ...] | None] = (0, None)
        self._failing: tuple[Table, tuple[Any, ...]] | None = None

    def step(self, conn: Connection) -> RowDifference | None:
        difference = _count_difference(conn)
        if difference is not None:
            return difference
        if self._failing is not None:
            table, key = self._failing
            condition = and_(*(c == v for c, v in zip(table.primary_key.columns, key, strict=True)))
            rows = conn.execute(select(table).where(condition)).mappings().all()
            difference = self._check(conn, table, rows)
            if difference is not None:
                return difference
            self._failing = None
        budget = self.window
        start = self._position
        while budget is None or budget > 0:
            index, after = self._position
            table = SCANNED[index]
            keys = list(table.primary_key.columns)
            query = select(table).order_by(*keys)
            if after is not None:
                query = query.where(tuple_(*keys) > tuple_(*after))
            if budget is not None:
                query = query.limit(budget)
            rows = conn.execute(query).mappings().all()
            difference = self._check(conn, table, rows)
            if difference is not None:
                return difference
            if budget is not None:
                budget -= len(rows)
            if budget is not None and budget <= 0 and rows:
                self._position = (index, key_of(table, rows[-1]))
            else:  # the table is done
                self._position = ((index + 1) % len(SCANNED), None)
                if self._position == (0, None) or self._position == start:
                    break
        return None

    def _check(self, conn: Connection, table: Table, rows: Sequence[Any]) -> RowDifference | None:
        bound_to: dict[int, tuple[bytes, tuple[Any, ...]]] = {}
        for row in rows:
            key = key_of(table, row)
            seq, digest = int(row["seq"]), bytes(row["entry_hash"])
            if row_digest(table.name, row) != bytes(row["digest"]):
                return self._fail(table, key, "the row does not match its digest")
            if bound_to.setdefault(seq, (digest, key))[0] != digest:
                return self._fail(table, key, f"bound to seq {seq} with another entry hash")
        seqs = sorted(bound_to)
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            stored = dict(
                conn.execute(
                    select(ledger_entry.c.seq, ledger_entry.c.entry_hash).where(
                        ledger_entry.c.seq.in_(chunk)
                    )
                ).all()
            )
            for seq in chunk:
                digest, key = bound_to[seq]
                if seq not in stored or bytes(stored[seq]) != digest:
                    return self._fail(
                        table, key, f"bound to seq {seq}, which is not that ledger entry"
                    )
        return None

    def _fail(self, table: Table, key: tuple[Any, ...], reason: str) -> RowDifference:
        self._failing = (table, key)
        return RowDifference(describe_key(table, key), reason)


def check_projection(conn: Connection) -> RowDifference | None:
    """Every stored projection row against its digest and binding, and every table's row count:
    the first problem, or ``None`` (one full :class:`ProjectionScan`, O(rows), no replay)."""
    return ProjectionScan(window=None).step(conn)
