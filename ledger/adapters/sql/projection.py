"""SQL implementation of the registry projection (``ProjectionRepository``), tamper-evident.

Every row is bound to the ledger entry that last wrote it (columns ``seq`` and ``entry_hash``,
from ``bind_entry``) and carries ``digest`` = SHA-256 over the canonical bytes of the row's
columns and binding followed by the record's canonical JSON (:func:`row_digest`). Every row this
adapter reads is checked against its digest before anything is decided on it, and in a write
transaction each projection table's row count is checked, the first time the table is used,
against ``projection_count`` (which this adapter keeps, bound and digested the same way). A
mismatch raises ``ProjectionMismatch``: the service refuses to act on a projection that was
changed outside it.

The digest is not a secret-keyed MAC: whoever can rewrite rows and digests consistently is caught
by ``a6ledger verify-db``, which re-derives every row from the log (``ledger.adapters.sql.verify``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Table,
    Update,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.engine import RowMapping

from ledger.adapters.sql import guard
from ledger.adapters.sql.orm import (
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
    party,
    projection_count,
    registry,
    unit_block,
)
from ledger.errors import ProjectionMismatch
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.registry.codec import from_json, to_json
from ledger.registry.model import (
    Account,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    FirstTransferDefinition,
    Party,
    Registry,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.projection import UNBOUND, Binding, BlockEvent, BlockKey, block_key

if TYPE_CHECKING:
    from ledger.adapters.sql.verify import ProjectionScan

T = TypeVar("T")

# The readiness scan of each database (``SqlProjection.check_stored``).
_SCANS: WeakKeyDictionary[Engine, ProjectionScan] = WeakKeyDictionary()

# Counting a table's rows reads the whole table (PostgreSQL: ~50 ms at 250,000 unit blocks, more
# than the action itself), which would make every action cost more as the history grows. A
# write transaction therefore counts a table of fewer than COUNT_EVERY_ROWS rows each time it
# uses it, and a larger one in one of every ``rows // COUNT_EVERY_ROWS`` transactions of the
# process that use it: on average the cost of counting COUNT_EVERY_ROWS rows. Rows added or
# deleted outside the service (past the triggers) are then refused within that many actions
# instead of at the next one; the readiness scan and ``verify-db`` count every row, and the
# digests are checked on every read as before. (The count is a tripwire, not a proof: whoever
# can bypass the triggers can also rewrite ``projection_count``; ``verify-db`` is the proof.)
COUNT_EVERY_ROWS = 20_000
_COUNTS_SKIPPED: WeakKeyDictionary[Engine, dict[str, int]] = WeakKeyDictionary()


def _count_due(engine: Engine, table_name: str, recorded: int) -> bool:
    """Whether this transaction counts the rows of ``table_name`` (``COUNT_EVERY_ROWS``)."""
    skipped = _COUNTS_SKIPPED.setdefault(engine, {})
    if skipped.get(table_name, 0) + 1 >= recorded // COUNT_EVERY_ROWS:
        skipped[table_name] = 0
        return True
    skipped[table_name] = skipped.get(table_name, 0) + 1
    return False


DIGEST_DOMAIN = b"a6ledger projection row v1\n"
_UNDIGESTED = ("body", "digest")
#: Ranges per query when an action names serial ranges (SQLite caps an expression's depth).
RANGE_CHUNK = 100
#: Tags per entry-index query.
TAG_CHUNK = 500
# Pages of an account's held blocks (``held_blocks_for``): most actions take one or two blocks.
FIRST_PAGE = 16
LAST_PAGE = 1024

# The predicates of the partial indexes on unit_block (migration 0012), spelled as the indexes
# spell them: SQLite uses a partial index only for a query term that matches it exactly.
ACTIVE = unit_block.c.active == true()
HELD = (ACTIVE, unit_block.c.retired == false())
KEY_COLUMNS = ("ca_id", "registry_id", "first_transferring_party", "vintage")
# Selection order (``ledger.registry.rules.selection_order``), the held blocks' index order.
SELECTION_ORDER = (
    unit_block.c.vintage,
    unit_block.c.ca_id,
    unit_block.c.registry_id,
    unit_block.c.first_transferring_party,
    unit_block.c.first_serial,
)


def _from_neighbour(first: int, last: int, equal: Mapping[str, Any], *, held: bool) -> Any:
    """Active (``held``: and not retired) blocks with the ``equal`` column values, of one key,
    that overlap ``first``..``last``. Such blocks never overlap one another, so they are those
    from the last one that starts at or before ``first`` up to ``last``: both bounds are index
    bounds, and the cost follows the blocks found, not the key's history."""
    inner = unit_block.alias("neighbour")
    among = [inner.c[name] == value for name, value in equal.items()]
    among += [inner.c.active == true()] + ([inner.c.retired == false()] if held else [])
    neighbour = (
        select(inner.c.first_serial)
        .where(*among, inner.c.first_serial <= first)
        .order_by(inner.c.first_serial.desc())
        .limit(1)
        .scalar_subquery()
    )
    return and_(
        unit_block.c.first_serial >= func.coalesce(neighbour, first),
        unit_block.c.first_serial <= last,
        unit_block.c.last_serial >= first,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def row_digest(table_name: str, row: Mapping[Any, Any]) -> bytes:
    """SHA-256 of a projection row: a domain prefix, the canonical JSON of ``{"table", "row"}``
    (every column but ``body`` and ``digest``; binary values in hex), a newline, and ``body``
    (the record's canonical JSON) when the table has one.

    The header holds only strings, integers within ±(2^53-1), booleans and nulls, for which
    sorted-key, whitespace-free JSON without ASCII escaping is exactly RFC 8785."""
    columns = {k: _plain(v) for k, v in row.items() if k not in _UNDIGESTED}
    header = {"table": table_name, "row": columns}
    body = row.get("body")
    data = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    content = body.encode("utf-8") if isinstance(body, str) else b""
    return hashlib.sha256(DIGEST_DOMAIN + data.encode("utf-8") + b"\n" + content).digest()


def bound_row(table: Table, row: Mapping[str, Any], binding: Binding) -> dict[str, Any]:
    """``row`` with its binding and digest: what the adapter stores."""
    seq, entry_hash = binding
    values = {**row, "seq": seq, "entry_hash": entry_hash}
    values["digest"] = row_digest(table.name, values)
    return values


def key_of(table: Table, row: Mapping[Any, Any]) -> tuple[Any, ...]:
    return tuple(row[column.name] for column in table.primary_key.columns)


def describe_key(table: Table, key: Sequence[Any]) -> str:
    names = [column.name for column in table.primary_key.columns]
    return f"{table.name}[{', '.join(f'{n}={v!r}' for n, v in zip(names, key, strict=True))}]"


# --- rows of each record (also what verify-db expects from a replay) ---------------------------


def _body(record: Any) -> str:
    return canonical_bytes(to_json(record)).decode("utf-8")


def party_row(value: Party) -> dict[str, Any]:
    return {"code": value.code, "body": _body(value)}


def registry_row(value: Registry) -> dict[str, Any]:
    return {"registry_id": value.registry_id, "party": value.party, "body": _body(value)}


def approach_row(value: CooperativeApproach) -> dict[str, Any]:
    return {"ca_id": value.ca_id, "body": _body(value)}


def definition_row(
    party_code: str, ca_id: str, definition: FirstTransferDefinition
) -> dict[str, Any]:
    return {"party": party_code, "ca_id": ca_id, "definition": definition.value}


def authorization_row(value: Authorization) -> dict[str, Any]:
    return {
        "authorization_id": value.authorization_id,
        "version": value.version,
        "body": _body(value),
    }


def entity_row(value: AuthorizedEntity) -> dict[str, Any]:
    return {"entity_id": value.entity_id, "body": _body(value)}


def account_row(value: Account) -> dict[str, Any]:
    return {"account_id": value.account_id, "registry_id": value.registry_id, "body": _body(value)}


def block_row(block: UnitBlock, superseded_seq: int | None = None) -> dict[str, Any]:
    a = block.attributes
    return {
        "block_id": block.block_id,
        "ca_id": a.ca_id,
        "registry_id": a.registry_id,
        "first_transferring_party": a.first_transferring_party,
        "vintage": a.vintage,
        "first_serial": block.first,
        "last_serial": block.last,
        "account_id": block.account_id,
        "active": superseded_seq is None,
        "retired": block.retired,
        "authorization_id": block.authorization_id,
        "superseded_seq": superseded_seq,
        "body": _body(block),
    }


def submission_row(party_code: str, reported_year: int, version: str) -> dict[str, Any]:
    return {"party": party_code, "reported_year": reported_year, "version": version}


def decision_row(decision_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "body": canonical_bytes(cast(JsonValue, record)).decode("utf-8"),
    }


def count_row(table_name: str, row_count: int) -> dict[str, Any]:
    return {"table_name": str(table_name), "row_count": row_count}


@dataclass(frozen=True, slots=True)
class _Statements:
    """A table's insert, and its update of every column by primary key (``key_<name>``): built
    once, so a block-heavy entry pays no statement construction per row."""

    insert: Insert
    update: Update


@cache
def _statements(table: Table) -> _Statements:
    keys = [column.name for column in table.primary_key.columns]
    by_key = and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
    columns: dict[str, Any] = {
        c.name: bindparam(c.name) for c in table.columns if c.name not in keys
    }
    return _Statements(insert(table), update(table).where(by_key).values(columns))


def _keyed(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of ``_statements(table).update``."""
    keys = {column.name for column in table.primary_key.columns}
    return {(f"key_{k}" if k in keys else k): v for k, v in values.items()}


def _load(cls: type[T], row: RowMapping) -> T:
    return from_json(cls, json.loads(row["body"]))


def check_row(table: Table, row: RowMapping) -> RowMapping:
    """``row`` if its digest matches its columns and binding; ``ProjectionMismatch`` if not."""
    if row_digest(table.name, row) != bytes(row["digest"]):
        where = describe_key(table, key_of(table, row))
        raise ProjectionMismatch(
            f"the stored projection row {where} does not match its digest: it was changed "
            "outside the service, which will not act on it until the projection is restored "
            "from the ledger (`a6ledger verify-db` names the rows that differ)",
            table=table.name,
            row=where,
        )
    return row


@dataclass(frozen=True)
class ProjectionMark:
    """A point in a write transaction (``SqlProjection.mark``)."""

    binding: Binding | None
    counts: dict[str, int]
    read: dict[str, dict[Any, Any]]


#: Inserts rows into an insert-only table later, in the same transaction (``SqlLedgerLog.defer``).
Defer = Callable[[Table, Sequence[dict[str, object]]], None]


class SqlProjection:
    def __init__(self, conn: Connection, defer: Defer | None = None) -> None:
        self._conn = conn
        self._defer = defer
        self._binding: Binding | None = None
        self._counts: dict[str, int] = {}  # tables whose row count was checked: rows now
        # Records read in this transaction, by table and key (``None``: the whole table), so a
        # request that looks up its Party or registry twice reads it once. A write to a table
        # forgets the table's records.
        self._read: dict[str, dict[Any, Any]] = {}

    def mark(self) -> ProjectionMark:
        """What this object remembers of the transaction (binding, row counts, records read),
        to return to with :meth:`reset_to` after a rollback to a savepoint taken now."""
        return ProjectionMark(
            self._binding,
            dict(self._counts),
            {table: dict(records) for table, records in self._read.items()},
        )

    def reset_to(self, mark: ProjectionMark) -> None:
        """Forget what the rows rolled back since ``mark`` made this object remember."""
        self._binding = mark.binding
        self._counts = dict(mark.counts)
        self._read = {table: dict(records) for table, records in mark.read.items()}

    def bind_entry(self, seq: int, entry_hash: bytes) -> None:
        self._binding = (seq, entry_hash)

    def _current_binding(self) -> Binding:
        """The entry rows are bound to: the last ``bind_entry``, else (a write that no entry
        made, which only tests do) the log's head, which ``verify-db`` will then report."""
        if self._binding is None:
            head = self._conn.execute(
                select(ledger_entry.c.seq, ledger_entry.c.entry_hash)
                .order_by(ledger_entry.c.seq.desc())
                .limit(1)
            ).first()
            self._binding = UNBOUND if head is None else (head[0], bytes(head[1]))
        return self._binding

    # --- for a batch of actions whose rows are held in memory (``ledger.adapters.sql.batch``)

    def current_binding(self) -> Binding:
        """The entry rows written now are bound to."""
        return self._current_binding()

    def count(self, table: Table) -> int:
        """The table's row count as recorded, checked as before a write (:meth:`_count`)."""
        return self._count(table)

    def recount(self, table: Table, rows: int) -> None:
        """The table now holds ``rows`` rows (written and counted by the caller)."""
        self._counts[table.name] = rows

    def forget(self, table: Table) -> None:
        """Forget the records of ``table`` read so far (the caller wrote to it)."""
        self._read.pop(table.name, None)

    def stored_block(self, block_id: int) -> RowMapping | None:
        """The stored row of a unit block, active or not, checked against its digest."""
        row: RowMapping | None = self._first(unit_block, unit_block.c.block_id == block_id)
        return row

    # --- row counts ------------------------------------------------------------------------

    def _count(self, table: Table) -> int:
        """The table's row count as the service recorded it (``projection_count``), compared
        once per transaction with the rows the table holds (see ``COUNT_EVERY_ROWS``)."""
        if table.name not in self._counts:
            recorded_row = (
                self._conn.execute(
                    select(projection_count).where(projection_count.c.table_name == table.name)
                )
                .mappings()
                .first()
            )
            recorded = 0
            if recorded_row is not None:
                recorded = int(check_row(projection_count, recorded_row)["row_count"])
            if _count_due(self._conn.engine, table.name, recorded):
                stored = self._conn.execute(select(func.count()).select_from(table)).scalar_one()
                if stored != recorded:
                    raise ProjectionMismatch(
                        f"the projection table {table.name} holds {stored} rows where the "
                        f"service wrote {recorded}: rows were added or deleted outside the "
                        "service, which will not act until the projection is restored from the "
                        "ledger (`a6ledger verify-db` names the rows that differ)",
                        table=table.name,
                        stored_rows=int(stored),
                        written_rows=recorded,
                    )
            self._counts[table.name] = recorded
        return self._counts[table.name]

    def _touch(self, table: Table) -> None:
        """Before a write transaction reads a table: check its row count."""
        if guard.is_writer(self._conn):
            self._count(table)

    # --- generic reads and writes -----------------------------------------------------------

    def _select(self, table: Table, *conditions: Any, order_by: Sequence[Any] = ()) -> list[Any]:
        self._touch(table)
        query = select(table).where(*conditions)
        if order_by:
            query = query.order_by(*order_by)
        return list(self._conn.execute(query).mappings().all())

    def _checked(self, table: Table, *conditions: Any, order_by: Sequence[Any] = ()) -> list[Any]:
        rows = self._select(table, *conditions, order_by=order_by)
        return [check_row(table, row) for row in rows]

    def _first(self, table: Table, *conditions: Any, order_by: Sequence[Any] = ()) -> Any | None:
        self._touch(table)
        query = select(table).where(*conditions).order_by(*order_by).limit(1)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else check_row(table, row)

    def _key_condition_of(self, table: Table, key: Mapping[str, Any]) -> Any:
        return and_(*(table.c[k] == v for k, v in key.items()))

    def _put(self, table: Table, row: Mapping[str, Any]) -> None:
        """Write ``row`` (a whole row but its binding), bound to the current entry: replaced if
        its key exists, added (and counted) if not."""
        self._read.pop(table.name, None)
        values = bound_row(table, row, self._current_binding())
        statements = _statements(table)
        self._touch(table)
        if self._conn.execute(statements.update, _keyed(table, values)).rowcount:
            return
        rows = self._count(table) + 1
        self._conn.execute(statements.insert, values)
        self._counts[table.name] = rows
        counted = bound_row(projection_count, count_row(table.name, rows), self._current_binding())
        counts = _statements(projection_count)
        if rows == 1:
            self._conn.execute(counts.insert, counted)
        else:
            self._conn.execute(counts.update, _keyed(projection_count, counted))

    def _one(self, cls: type[T], table: Table, **key: Any) -> T | None:
        read = self._read.setdefault(table.name, {})
        wanted = tuple(sorted(key.items()))
        if wanted not in read:
            row = self._first(table, self._key_condition_of(table, key))
            read[wanted] = None if row is None else _load(cls, row)
        found: T | None = read[wanted]
        return found

    def _all(self, cls: type[T], table: Table) -> list[T]:
        """Every record, ordered by primary key in code-point order (the same on every
        database and collation, and the order the API's string cursors compare in)."""
        read = self._read.setdefault(table.name, {})
        if None not in read:
            rows = sorted(self._checked(table), key=lambda row: key_of(table, row))
            read[None] = [_load(cls, row) for row in rows]
        records: list[T] = list(read[None])
        return records

    # --- records ----------------------------------------------------------------------------

    def get_party(self, code: str) -> Party | None:
        return self._one(Party, party, code=code)

    def put_party(self, value: Party) -> None:
        self._put(party, party_row(value))

    def parties(self) -> list[Party]:
        return self._all(Party, party)

    def get_registry(self, registry_id: str) -> Registry | None:
        return self._one(Registry, registry, registry_id=registry_id)

    def put_registry(self, value: Registry) -> None:
        self._put(registry, registry_row(value))

    def registries(self) -> list[Registry]:
        return self._all(Registry, registry)

    def get_cooperative_approach(self, ca_id: str) -> CooperativeApproach | None:
        return self._one(CooperativeApproach, cooperative_approach, ca_id=ca_id)

    def put_cooperative_approach(self, value: CooperativeApproach) -> None:
        self._put(cooperative_approach, approach_row(value))

    def cooperative_approaches(self) -> list[CooperativeApproach]:
        return self._all(CooperativeApproach, cooperative_approach)

    def get_first_transfer_definition(
        self, party_code: str, ca_id: str
    ) -> FirstTransferDefinition | None:
        row = self._first(
            first_transfer_definition,
            first_transfer_definition.c.party == party_code,
            first_transfer_definition.c.ca_id == ca_id,
        )
        return None if row is None else FirstTransferDefinition(row["definition"])

    def put_first_transfer_definition(
        self, party_code: str, ca_id: str, definition: FirstTransferDefinition
    ) -> None:
        self._put(first_transfer_definition, definition_row(party_code, ca_id, definition))

    def get_authorization(
        self, authorization_id: str, version: int | None = None
    ) -> Authorization | None:
        conditions = [authorization.c.authorization_id == authorization_id]
        if version is not None:
            conditions.append(authorization.c.version == version)
        row = self._first(authorization, *conditions, order_by=[authorization.c.version.desc()])
        return None if row is None else _load(Authorization, row)

    def put_authorization(self, value: Authorization) -> None:
        self._put(authorization, authorization_row(value))

    def authorizations(self) -> list[Authorization]:
        return self._all(Authorization, authorization)

    def get_entity(self, entity_id: str) -> AuthorizedEntity | None:
        return self._one(AuthorizedEntity, authorized_entity, entity_id=entity_id)

    def put_entity(self, value: AuthorizedEntity) -> None:
        self._put(authorized_entity, entity_row(value))

    def entities(self) -> list[AuthorizedEntity]:
        return self._all(AuthorizedEntity, authorized_entity)

    def get_account(self, account_id: str) -> Account | None:
        return self._one(Account, account, account_id=account_id)

    def put_account(self, value: Account) -> None:
        self._put(account, account_row(value))

    def accounts(self) -> list[Account]:
        return self._all(Account, account)

    # --- unit blocks ------------------------------------------------------------------------

    def get_block(self, block_id: int) -> UnitBlock | None:
        return self._one(UnitBlock, unit_block, block_id=block_id)

    def put_block(self, block: UnitBlock) -> None:
        self._put(unit_block, block_row(block))

    def supersede_block(self, block_id: int, seq: int) -> None:
        row = self._first(unit_block, unit_block.c.block_id == block_id)
        if row is None:
            raise ProjectionMismatch(
                f"unit block {block_id} is missing from the projection",
                table=unit_block.name,
                row=describe_key(unit_block, (block_id,)),
            )
        values = {k: v for k, v in row.items() if k not in ("seq", "entry_hash", "digest")}
        values |= {"active": False, "superseded_seq": seq}
        self._put(unit_block, values)

    def _blocks(self, *conditions: Any) -> list[UnitBlock]:
        rows = self._checked(unit_block, *conditions, order_by=[unit_block.c.block_id])
        return [_load(UnitBlock, row) for row in rows]

    def held_blocks(self, account_id: str) -> list[UnitBlock]:
        return self._blocks(
            unit_block.c.account_id == account_id,
            unit_block.c.active.is_(True),
            unit_block.c.retired.is_(False),
        )

    def held_blocks_for(self, account_id: str, selection: UnitSelection) -> Iterator[UnitBlock]:
        """Held blocks that may match ``selection``, streamed in selection order (oldest vintage
        first) from the partial index on held blocks, a page at a time, so an action reads the
        blocks it takes and a few more, not the whole account. Each row is checked against its
        digest as it is decoded.

        Explicit serial ranges are read per range from the held block that starts at or before
        the range (held blocks never overlap) up to its end, ``RANGE_CHUNK`` ranges per query
        (SQLite refuses an expression tree of a thousand ranges), the rows merged in selection
        order."""
        equal: dict[str, Any] = {"account_id": account_id}
        for column, value in (
            (unit_block.c.ca_id, selection.ca_id),
            (unit_block.c.registry_id, selection.originating_registry),
            (unit_block.c.first_transferring_party, selection.first_transferring_party),
            (unit_block.c.vintage, selection.vintage),
        ):
            if value is not None:
                equal[column.name] = value
        conditions: list[Any] = [*(unit_block.c[k] == v for k, v in equal.items()), *HELD]
        if not selection.ranges:
            yield from self._held_pages(conditions)
            return
        ranges = sorted(selection.ranges, key=lambda r: (r.first, r.last))
        by_id: dict[int, Any] = {}
        for start in range(0, len(ranges), RANGE_CHUNK):
            chunk = ranges[start : start + RANGE_CHUNK]
            overlapping = or_(
                *(
                    _from_neighbour(r.first, r.last, equal, held=True)
                    if len(equal) == len(KEY_COLUMNS) + 1
                    else and_(
                        unit_block.c.first_serial <= r.last, unit_block.c.last_serial >= r.first
                    )
                    for r in chunk
                )
            )
            for row in self._select(unit_block, *conditions, overlapping):
                by_id[row["block_id"]] = row
        rows = sorted(by_id.values(), key=lambda r: tuple(r[c.name] for c in SELECTION_ORDER))
        for row in rows:  # fetched at once (no cursor left open); decoded lazily, as needed
            yield _load(UnitBlock, check_row(unit_block, row))

    def _held_pages(self, conditions: list[Any]) -> Iterator[UnitBlock]:
        """Rows matching ``conditions`` in selection order, by keyset pages that grow from
        ``FIRST_PAGE`` (each page is fetched whole, so no cursor stays open between them)."""
        order = tuple_(*SELECTION_ORDER)
        after: Any = None
        size = FIRST_PAGE
        while True:
            page = conditions if after is None else [*conditions, order > tuple_(*after)]
            self._touch(unit_block)
            query = select(unit_block).where(*page).order_by(*SELECTION_ORDER).limit(size)
            rows = self._conn.execute(query).mappings().all()
            for row in rows:
                yield _load(UnitBlock, check_row(unit_block, row))
            if len(rows) < size:
                return
            after = tuple(rows[-1][c.name] for c in SELECTION_ORDER)
            size = min(size * 4, LAST_PAGE)

    def active_blocks(self) -> list[UnitBlock]:
        return self._blocks(unit_block.c.active.is_(True))

    def authorized_quantity(self, authorization_id: str) -> int:
        """Units in the active blocks under the authorization: one SUM over the partial index
        ``ix_unit_block_authorized`` (migration 0013), which reads no row of the table, so
        issuing under an authorization does not cost more as its blocks accumulate.

        The blocks summed are not checked against their digests here (that would read them
        all): an edited ``first_serial``/``last_serial`` is caught by the digest check of
        every action that reads the block, by the readiness scan and by ``verify-db``, whose
        replay also re-checks every issuance against its authorization's quantity."""
        self._touch(unit_block)
        units = func.coalesce(func.sum(unit_block.c.last_serial - unit_block.c.first_serial + 1), 0)
        query = select(units).where(unit_block.c.authorization_id == authorization_id, ACTIVE)
        return int(self._conn.execute(query).scalar_one())

    def authorized_blocks(self, authorization_id: str) -> list[UnitBlock]:
        return self._blocks(
            unit_block.c.authorization_id == authorization_id, unit_block.c.active.is_(True)
        )

    def _key_condition(self, key: BlockKey) -> Any:
        ca_id, registry_id, ftp, vintage = key
        return and_(
            unit_block.c.ca_id == ca_id,
            unit_block.c.registry_id == registry_id,
            unit_block.c.first_transferring_party == ftp,
            unit_block.c.vintage == vintage,
        )

    def overlapping_blocks(self, key: BlockKey, first: int, last: int) -> list[UnitBlock]:
        """Active blocks of ``key`` overlapping ``first``..``last``: from the active block that
        starts at or before ``first`` (active blocks never overlap) up to ``last``."""
        equal = dict(zip(KEY_COLUMNS, key, strict=True))
        return self._blocks(
            self._key_condition(key), ACTIVE, _from_neighbour(first, last, equal, held=False)
        )

    def next_block_id(self) -> int:
        row = self._first(unit_block, order_by=[unit_block.c.block_id.desc()])
        return 1 if row is None else int(row["block_id"]) + 1

    def next_serial(self, key: BlockKey) -> int:
        """One past the key's highest serial. The active blocks of a key never overlap and,
        with the retired ones among them, cover every serial the key's blocks ever held (an
        action supersedes a block only by pieces that cover it), so the active block that
        starts last ends last: one probe of the active blocks' index."""
        row = self._first(
            unit_block,
            self._key_condition(key),
            ACTIVE,
            order_by=[unit_block.c.first_serial.desc()],
        )
        return 1 if row is None else int(row["last_serial"]) + 1

    def record_block_event(self, event: BlockEvent) -> None:
        self._conn.execute(
            _statements(block_event).insert,
            {
                "seq": event.seq,
                "block_id": event.block_id,
                "kind": event.kind,
                "first_serial": event.first,
                "last_serial": event.last,
                "account_id": event.account_id,
            },
        )

    def tag_entry(self, seq: int, tags: tuple[str, ...]) -> None:
        rows: list[dict[str, object]] = [{"tag": tag, "seq": seq} for tag in tags]
        if self._defer is not None:
            self._defer(entry_tag, rows)  # sent with the entry itself (insert-only table)
        elif rows:
            self._conn.execute(insert(entry_tag), rows)

    def tagged_seqs(self, tags: Iterable[str], end: int) -> list[int]:
        wanted = sorted(set(tags))
        found: set[int] = set()
        for low in range(0, len(wanted), TAG_CHUNK):
            rows = self._conn.execute(
                select(entry_tag.c.seq).where(
                    entry_tag.c.tag.in_(wanted[low : low + TAG_CHUNK]), entry_tag.c.seq < end
                )
            ).scalars()
            found.update(int(seq) for seq in rows)
        return sorted(found)

    def check_stored(self) -> str | None:
        """One step of this database's ``ProjectionScan`` (shared by every unit of work on the
        engine, so successive calls cover the whole projection)."""
        from ledger.adapters.sql.verify import ProjectionScan

        scan = _SCANS.setdefault(self._conn.engine, ProjectionScan())
        difference = scan.step(self._conn)
        return None if difference is None else str(difference)

    def block_history(self, key: BlockKey, serial: int) -> list[BlockEvent]:
        ids = [
            row["block_id"]
            for row in self._checked(
                unit_block,
                self._key_condition(key),
                unit_block.c.first_serial <= serial,
                unit_block.c.last_serial >= serial,
            )
        ]
        if not ids:
            return []
        rows = self._conn.execute(
            select(block_event)
            .where(
                block_event.c.block_id.in_(ids),
                block_event.c.first_serial <= serial,
                block_event.c.last_serial >= serial,
            )
            .order_by(block_event.c.seq)
        )
        return [
            BlockEvent(r.seq, r.kind, r.block_id, r.first_serial, r.last_serial, r.account_id)
            for r in rows
        ]

    def get_decision(self, decision_id: str) -> Mapping[str, Any] | None:
        """Read (and checked against its digest) on every call: a group-commit batch rolls
        back a refused command's rows to a savepoint, so nothing of it is remembered here."""
        row = self._first(jc_decision, jc_decision.c.decision_id == decision_id)
        if row is None:
            return None
        record: Mapping[str, Any] = json.loads(row["body"])
        return record

    def put_decision(self, decision_id: str, record: Mapping[str, Any]) -> None:
        self._put(jc_decision, decision_row(decision_id, record))

    def put_submission(self, party: str, reported_year: int, version: str, seq: int) -> None:
        """``seq`` is the ``aef.submitted`` entry's, which the row is bound to."""
        if self._binding is None or self._binding[0] != seq:
            raise ValueError(f"a submission row is bound to its entry {seq}: bind_entry first")
        self._put(aef_submission, submission_row(party, reported_year, version))

    def submitted_versions(self, party: str, reported_year: int) -> list[str]:
        rows = self._checked(
            aef_submission,
            aef_submission.c.party == party,
            aef_submission.c.reported_year == reported_year,
            order_by=[aef_submission.c.seq],
        )
        return [row["version"] for row in rows]


__all__ = ["SqlProjection", "block_key", "row_digest"]
