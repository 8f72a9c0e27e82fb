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

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from ledger.log import merkle, merkle_store
from ledger.log.chain import GENESIS_PREV_HASH, Entry, MalformedEntry, entry_hash
from ledger.registry.audit import LedgerAudit
from ledger.registry.projection import UNBOUND, InMemoryProjection

BATCH = 2000


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
    """Compare the Merkle nodes a batch of entries completed with the stored ones: one primary
    key range scan per level (the nodes a run of appends completes on a level are consecutive),
    reporting the lowest entry under a missing or altered node."""
    by_level: dict[int, dict[int, bytes]] = {}
    for (level, idx), value in expected.items():
        by_level.setdefault(level, {})[idx] = value
    faults: list[tuple[int, int, int, str]] = []
    for level, wanted in by_level.items():
        stored = {
            idx: bytes(node)
            for idx, node in conn.execute(
                select(merkle_node.c.idx, merkle_node.c.hash).where(
                    merkle_node.c.level == level,
                    merkle_node.c.idx >= min(wanted),
                    merkle_node.c.idx <= max(wanted),
                )
            )
        }
        for idx in sorted(wanted):
            if stored.get(idx) != wanted[idx]:
                what = "missing" if idx not in stored else "altered"
                faults.append((idx << level, level, idx, what))
                break
    if faults:
        seq, level, idx, what = min(faults)
        raise _Fault(seq, f"Merkle node (level {level}, index {idx}) is {what}")


def verify_database(engine: Engine, on_entry: Callable[[int], None] | None = None) -> VerifyReport:
    """Re-derive every hash, link and Merkle node from storage, and the projection from a replay
    of the log through the registry rules; ``on_entry(1)`` is called after each entry (progress).
    """
    with engine.connect() as conn, conn.begin():
        prev = GENESIS_PREV_HASH
        frontier: list[tuple[int, bytes]] = []
        pending: dict[merkle_store.NodeKey, bytes] = {}
        expected_seq = 0
        audit = LedgerAudit()
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
                try:
                    audit.feed(entry, digest)
                except EntryBreaksRule as exc:
                    raise _Fault(seq, exc.message) from exc
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
                if on_entry is not None:
                    on_entry(1)
            _check_nodes(conn, pending)
            stored_nodes = conn.execute(select(func.count()).select_from(merkle_node)).scalar_one()
            expected_nodes = 2 * expected_seq - bin(expected_seq).count("1")
            if stored_nodes != expected_nodes:
                raise _Fault(
                    expected_seq,
                    f"{stored_nodes} Merkle nodes stored, {expected_nodes} expected",
                )
            try:
                audit.finish()
            except EntryBreaksRule as exc:
                raise _Fault(int(exc.details["seq"]), exc.message) from exc
        except _Fault as fault:
            return VerifyReport(expected_seq, b"", fault.seq, fault.reason)
        root = merkle.EMPTY_ROOT
        if frontier:
            root = frontier[-1][1]
            for _level, node in reversed(frontier[:-1]):
                root = merkle.node_hash(node, root)
        difference = compare_projection(conn, audit.state)
        if difference is not None:
            return VerifyReport(expected_seq, root, None, difference.reason, difference.row)
        return VerifyReport(expected_seq, root, None, None)


# --- the projection --------------------------------------------------------------------------


def expected_rows(state: InMemoryProjection) -> dict[Table, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every projection row a replay of the ledger implies, bound as the service binds them."""
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
    expected[entry_tag] = {
        (tag, seq): {"tag": tag, "seq": seq} for tag, seqs in state.tagged.items() for seq in seqs
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
    where = describe_key(table, key)
    if stored is None:
        assert expected is not None
        written = f" (written by seq {expected['seq']})" if "entry_hash" in expected else ""
        return RowDifference(where, f"the ledger has this row{written}, storage does not")
    if expected is None:
        return RowDifference(where, "storage has this row, no ledger entry wrote it")
    for column in table.columns:
        name = column.name
        if not _same(stored[name], expected[name]):
            return RowDifference(
                where,
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
