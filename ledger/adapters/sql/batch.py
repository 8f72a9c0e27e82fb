"""Many actions in one write transaction with their projection writes held in memory: the bulk
path of a history import (``ledger.imports.run``).

A history import runs hundreds of actions per transaction through the registry's use cases,
every rule applied. Row by row, each action re-reads the records its checks need (the
authorization three times, the registry, the approach, the account), each read a statement
checked against its digest, and writes its projection rows one statement each (an UPDATE, an
INSERT, the ``projection_count`` row). :class:`SqlBatchProjection` serves the same use cases
from memory instead:

- **reads**: a record is read from the database (and checked against its digest) the first time
  the batch needs it, then answered from memory, with the batch's own writes applied; the serial
  counter of a key, the next block id and the units under an authorization are read once and
  kept up to date with the blocks the batch writes;
- **writes**: each projection row the batch writes is kept in memory in its last state, bound to
  the entry that last wrote it, and sent at the end of the batch with one executemany per table
  (updates of stored rows first, then inserts, so the unit-block overlap trigger sees every
  intermediate state as a subset of the final active blocks), block events after the blocks, and
  each table's ``projection_count`` row once, bound to the entry of its last insert. The stored
  result is, row for row and byte for byte, what the row-by-row path writes
  (``tests/integration/test_import_bulk.py``);
- **the blocks an account holds that match a selection** (``held_blocks_for``, what a
  transfer, a use or a cancellation takes its units from): the stored blocks, as of the last
  time the held rows were sent, streamed in selection order by the stored projection without
  the blocks the batch wrote since, merged in that order with the blocks the batch wrote since
  that the account holds and the selection matches: the same blocks in the same order as the
  stored projection answers once every held row is sent, without sending them;
- **anything else** (all the blocks an account holds, the blocks overlapping a range, the
  history of a serial, the lists of records): the held rows are sent first, then the question
  is asked of the stored projection (:class:`~ledger.adapters.sql.projection.SqlProjection`),
  which answers it as for a single action.

The log's entries, Merkle nodes and entry-index rows are buffered by the log itself
(``SqlLedgerLog``) and sent with the projection rows; on PostgreSQL the inserts of many rows
go in as ``COPY`` (``ledger.adapters.sql.bulk_insert``), the triggers firing for each row. A
batch that fails is not undone here: leaving
:meth:`~ledger.adapters.sql.uow.SqlAlchemyUnitOfWork.batched` by an exception forgets the held
rows, and the caller rolls the transaction back.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy import Connection, Table, and_, select
from sqlalchemy.engine import RowMapping

from ledger.adapters.sql.bulk_insert import insert_rows
from ledger.adapters.sql.log import SqlLedgerLog
from ledger.adapters.sql.orm import (
    account,
    aef_submission,
    authorization,
    authorized_entity,
    block_event,
    cooperative_approach,
    first_transfer_definition,
    jc_decision,
    party,
    projection_count,
    registry,
    unit_block,
)
from ledger.adapters.sql.projection import (
    SqlProjection,
    _keyed,
    _load,
    _statements,
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
    party_row,
    registry_row,
    submission_row,
)
from ledger.errors import ProjectionMismatch
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
from ledger.registry.projection import Binding, BlockEvent, BlockKey, block_key
from ledger.registry.rules import matches_selection, selection_order

if TYPE_CHECKING:
    from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
    from ledger.ports import (
        CosignatureRepository,
        IdempotencyRepository,
        LedgerLog,
        ProjectionListing,
        TokenRepository,
        WitnessRepository,
    )

#: The order in which held rows are sent: records, then blocks, then block events.
TABLES: tuple[Table, ...] = (
    party,
    registry,
    cooperative_approach,
    first_transfer_definition,
    authorization,
    authorized_entity,
    account,
    jc_decision,
    aef_submission,
    unit_block,
)

Key = tuple[Any, ...]


class SqlBatchProjection:
    """The registry projection of one batch of actions (module docstring): a
    ``ProjectionRepository`` over ``inner``, the stored projection of the same transaction."""

    def __init__(self, inner: SqlProjection, log: SqlLedgerLog, conn: Connection) -> None:
        self._inner = inner
        self._log = log
        self._conn = conn
        self._binding: Binding | None = None
        # Records as this batch sees them, by table name and primary key (None: no such row).
        self._records: dict[str, dict[Key, Any]] = {}
        self._latest: dict[str, Authorization | None] = {}  # authorization id -> latest version
        # Whether a row is stored (as of the last flush), by table name and primary key.
        self._stored: dict[str, dict[Key, bool]] = {}
        # Rows held: table name -> key -> (row without binding, binding), last state.
        self._held: dict[str, dict[Key, tuple[dict[str, Any], Binding]]] = {}
        # New rows per table since the last flush, and the binding of the last one.
        self._inserted: dict[str, tuple[int, Binding]] = {}
        self._events: list[dict[str, Any]] = []
        # Blocks: as written in this batch (block, active), or as read (None: no such block).
        self._blocks: dict[int, tuple[UnitBlock, bool]] = {}
        self._block_rows: dict[int, dict[str, Any]] = {}  # rows of the blocks written
        self._read_blocks: dict[int, tuple[UnitBlock, bool, RowMapping] | None] = {}
        self._first_new_block: int | None = None  # the stored next block id, at the first ask
        self._next_block = 0  # one past the highest block id written in the batch
        self._serial_floor: dict[BlockKey, int] = {}  # the stored next serial, once read
        self._serial_top: dict[BlockKey, int] = {}  # one past the last serial written, per key
        self._authorized: dict[str, int] = {}  # stored units under an authorization, once read
        self._authorized_delta: dict[str, int] = {}  # the batch's change since the last flush
        self._submitted: dict[tuple[str, int], list[str]] = {}
        # Blocks written since the last flush that an account holds (active, not retired), by
        # account: what the stored projection does not know yet of ``held_blocks_for``.
        self._held_since_flush: dict[str, dict[int, UnitBlock]] = {}
        # The stored held blocks read for an account and selection attributes, until a flush.
        self._stored_held: dict[tuple[Any, ...], _Replay] = {}

    # --- binding -----------------------------------------------------------------------------

    def bind_entry(self, seq: int, entry_hash: bytes) -> None:
        self._binding = (seq, entry_hash)
        self._inner.bind_entry(seq, entry_hash)

    def _bound(self) -> Binding:
        if self._binding is None:
            self._binding = self._inner.current_binding()
        return self._binding

    # --- held rows -----------------------------------------------------------------------------

    def _is_stored(self, table: Table, key: Key) -> bool:
        known = self._stored.setdefault(table.name, {})
        if key not in known:
            condition = and_(
                *(column == value for column, value in zip(table.primary_key, key, strict=True))
            )
            found = self._conn.execute(select(*table.primary_key).where(condition)).first()
            known[key] = found is not None
        return known[key]

    def _hold(self, table: Table, key: Key, row: dict[str, Any]) -> None:
        """Write ``row`` of ``table`` (a whole row but its binding), bound to the current entry."""
        held = self._held.setdefault(table.name, {})
        binding = self._bound()
        if key not in held and not self._is_stored(table, key):
            count, _ = self._inserted.get(table.name, (0, binding))
            self._inserted[table.name] = (count + 1, binding)
        held[key] = (row, binding)

    def flush(self) -> None:
        """Send the held rows (module docstring); the log's buffered rows go first."""
        self._log.flush(copy=True)
        if not (self._held or self._events):
            return
        for table in TABLES:
            held = self._held.pop(table.name, None)
            if held:
                self._send(table, held)
        if self._events:
            insert_rows(self._conn, block_event, self._events)
            self._events = []
        self._held.clear()
        self._inserted.clear()
        self._held_since_flush.clear()
        self._stored_held.clear()
        for authorization_id, delta in self._authorized_delta.items():
            if authorization_id in self._authorized:
                self._authorized[authorization_id] += delta
        self._authorized_delta.clear()

    def _send(self, table: Table, held: Mapping[Key, tuple[dict[str, Any], Binding]]) -> None:
        stored = self._stored.setdefault(table.name, {})
        inserted, last_insert = self._inserted.get(table.name, (0, self._bound()))
        # The row count is checked (``SqlProjection.count``) before the table changes.
        recorded = self._inner.count(table)
        updates: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        for key, (row, binding) in held.items():
            values = bound_row(table, row, binding)
            if stored[key]:
                updates.append(_keyed(table, values))
            else:
                inserts.append(values)
                stored[key] = True
        if len(inserts) != inserted:
            raise AssertionError(f"{table.name}: {len(inserts)} rows to insert, {inserted} counted")
        sent = _statements(table)
        if updates:
            changed = self._conn.execute(sent.update, updates).rowcount
            if changed != len(updates):
                raise ProjectionMismatch(
                    f"the projection table {table.name} lost rows during an import batch: "
                    f"{changed} of {len(updates)} updated",
                    table=table.name,
                )
        if inserts:
            insert_rows(self._conn, table, inserts)
            rows = recorded + len(inserts)
            counted = bound_row(projection_count, count_row(table.name, rows), last_insert)
            counts = _statements(projection_count)
            if recorded == 0:
                self._conn.execute(counts.insert, counted)
            else:
                self._conn.execute(counts.update, _keyed(projection_count, counted))
            self._inner.recount(table, rows)
        self._inner.forget(table)

    def _flushed(self) -> SqlProjection:
        """The stored projection, once it holds every row of the batch so far."""
        self.flush()
        return self._inner

    # --- records -------------------------------------------------------------------------------

    def _record(self, table: Table, key: Key, read: Any) -> Any:
        records = self._records.setdefault(table.name, {})
        if key not in records:
            found = read()
            records[key] = found
            self._stored.setdefault(table.name, {})[key] = found is not None
        return records[key]

    def _put_record(self, table: Table, key: Key, value: Any, row: dict[str, Any]) -> None:
        self._hold(table, key, row)
        self._records.setdefault(table.name, {})[key] = value

    def get_party(self, code: str) -> Party | None:
        return cast(Party | None, self._record(party, (code,), lambda: self._inner.get_party(code)))

    def put_party(self, value: Party) -> None:
        self._put_record(party, (value.code,), value, party_row(value))

    def parties(self) -> list[Party]:
        return self._flushed().parties()

    def get_registry(self, registry_id: str) -> Registry | None:
        return cast(
            Registry | None,
            self._record(registry, (registry_id,), lambda: self._inner.get_registry(registry_id)),
        )

    def put_registry(self, value: Registry) -> None:
        self._put_record(registry, (value.registry_id,), value, registry_row(value))

    def registries(self) -> list[Registry]:
        return self._flushed().registries()

    def get_cooperative_approach(self, ca_id: str) -> CooperativeApproach | None:
        return cast(
            CooperativeApproach | None,
            self._record(
                cooperative_approach,
                (ca_id,),
                lambda: self._inner.get_cooperative_approach(ca_id),
            ),
        )

    def put_cooperative_approach(self, value: CooperativeApproach) -> None:
        self._put_record(cooperative_approach, (value.ca_id,), value, approach_row(value))

    def cooperative_approaches(self) -> list[CooperativeApproach]:
        return self._flushed().cooperative_approaches()

    def get_first_transfer_definition(
        self, party_code: str, ca_id: str
    ) -> FirstTransferDefinition | None:
        return cast(
            FirstTransferDefinition | None,
            self._record(
                first_transfer_definition,
                (party_code, ca_id),
                lambda: self._inner.get_first_transfer_definition(party_code, ca_id),
            ),
        )

    def put_first_transfer_definition(
        self, party_code: str, ca_id: str, definition: FirstTransferDefinition
    ) -> None:
        self._put_record(
            first_transfer_definition,
            (party_code, ca_id),
            definition,
            definition_row(party_code, ca_id, definition),
        )

    def get_authorization(
        self, authorization_id: str, version: int | None = None
    ) -> Authorization | None:
        if version is None:
            if authorization_id not in self._latest:
                latest = self._inner.get_authorization(authorization_id)
                self._latest[authorization_id] = latest
                if latest is not None:
                    self._records.setdefault(authorization.name, {})[
                        (authorization_id, latest.version)
                    ] = latest
                    self._stored.setdefault(authorization.name, {})[
                        (authorization_id, latest.version)
                    ] = True
            return self._latest[authorization_id]
        return cast(
            Authorization | None,
            self._record(
                authorization,
                (authorization_id, version),
                lambda: self._inner.get_authorization(authorization_id, version),
            ),
        )

    def put_authorization(self, value: Authorization) -> None:
        key = (value.authorization_id, value.version)
        self._put_record(authorization, key, value, authorization_row(value))
        latest = self.get_authorization(value.authorization_id)
        if latest is None or value.version >= latest.version:
            self._latest[value.authorization_id] = value

    def authorizations(self) -> list[Authorization]:
        return self._flushed().authorizations()

    def get_entity(self, entity_id: str) -> AuthorizedEntity | None:
        return cast(
            AuthorizedEntity | None,
            self._record(
                authorized_entity, (entity_id,), lambda: self._inner.get_entity(entity_id)
            ),
        )

    def put_entity(self, value: AuthorizedEntity) -> None:
        self._put_record(authorized_entity, (value.entity_id,), value, entity_row(value))

    def entities(self) -> list[AuthorizedEntity]:
        return self._flushed().entities()

    def get_account(self, account_id: str) -> Account | None:
        return cast(
            Account | None,
            self._record(account, (account_id,), lambda: self._inner.get_account(account_id)),
        )

    def put_account(self, value: Account) -> None:
        self._put_record(account, (value.account_id,), value, account_row(value))

    def accounts(self) -> list[Account]:
        return self._flushed().accounts()

    def get_decision(self, decision_id: str) -> Mapping[str, Any] | None:
        return cast(
            Mapping[str, Any] | None,
            self._record(
                jc_decision, (decision_id,), lambda: self._inner.get_decision(decision_id)
            ),
        )

    def put_decision(self, decision_id: str, record: Mapping[str, Any]) -> None:
        row = decision_row(decision_id, record)
        # What a read of the row gives back (the stored body, decoded).
        self._put_record(jc_decision, (decision_id,), json.loads(row["body"]), row)

    def put_submission(self, party_code: str, reported_year: int, version: str, seq: int) -> None:
        if self._binding is None or self._binding[0] != seq:
            raise ValueError(f"a submission row is bound to its entry {seq}: bind_entry first")
        versions = self.submitted_versions(party_code, reported_year)
        self._hold(
            aef_submission,
            (party_code, reported_year, version),
            submission_row(party_code, reported_year, version),
        )
        if version not in versions:
            versions.append(version)

    def submitted_versions(self, party_code: str, reported_year: int) -> list[str]:
        key = (party_code, reported_year)
        if key not in self._submitted:
            self._submitted[key] = self._inner.submitted_versions(party_code, reported_year)
            for version in self._submitted[key]:
                self._stored.setdefault(aef_submission.name, {})[
                    (party_code, reported_year, version)
                ] = True
        return self._submitted[key]

    # --- unit blocks ---------------------------------------------------------------------------

    def _first_new(self) -> int:
        if self._first_new_block is None:
            self._first_new_block = self._inner.next_block_id()
        return self._first_new_block

    def _stored_block(self, block_id: int) -> tuple[UnitBlock, bool, RowMapping] | None:
        """The stored block (as of the batch's start), whether it is active, and its row."""
        if block_id not in self._read_blocks:
            found: tuple[UnitBlock, bool, RowMapping] | None = None
            if block_id < self._first_new():
                row = self._inner.stored_block(block_id)
                if row is not None:
                    found = (_load(UnitBlock, row), bool(row["active"]), row)
            self._read_blocks[block_id] = found
            self._stored.setdefault(unit_block.name, {})[(block_id,)] = found is not None
        return self._read_blocks[block_id]

    def _current_block(self, block_id: int) -> tuple[UnitBlock, bool] | None:
        """The block as the batch sees it, and whether it is active."""
        if block_id in self._blocks:
            return self._blocks[block_id]
        stored = self._stored_block(block_id)
        return None if stored is None else (stored[0], stored[1])

    def _count_authorized(self, block: UnitBlock, active: bool, sign: int) -> None:
        if active and block.authorization_id is not None:
            delta = self._authorized_delta.get(block.authorization_id, 0)
            self._authorized_delta[block.authorization_id] = delta + sign * block.quantity

    def _write_block(self, block: UnitBlock, active: bool, row: dict[str, Any]) -> None:
        before = self._current_block(block.block_id)
        if before is not None:
            self._count_authorized(*before, -1)
            self._held_since_flush.get(before[0].account_id, {}).pop(block.block_id, None)
        if active and not block.retired:
            self._held_since_flush.setdefault(block.account_id, {})[block.block_id] = block
        self._count_authorized(block, active, +1)
        self._blocks[block.block_id] = (block, active)
        self._block_rows[block.block_id] = row
        self._hold(unit_block, (block.block_id,), row)
        self._next_block = max(self._next_block, block.block_id + 1)
        key = block_key(block)
        self._serial_top[key] = max(self._serial_top.get(key, 1), block.last + 1)

    def get_block(self, block_id: int) -> UnitBlock | None:
        current = self._current_block(block_id)
        return None if current is None else current[0]

    def put_block(self, block: UnitBlock) -> None:
        self._write_block(block, True, block_row(block))

    def supersede_block(self, block_id: int, seq: int) -> None:
        current = self._current_block(block_id)
        if current is None:
            raise ProjectionMismatch(
                f"unit block {block_id} is missing from the projection",
                table=unit_block.name,
                row=describe_key(unit_block, (block_id,)),
            )
        written = self._block_rows.get(block_id)
        if written is not None:
            row = dict(written)
        else:
            stored = self._stored_block(block_id)
            assert stored is not None
            row = {k: v for k, v in stored[2].items() if k not in ("seq", "entry_hash", "digest")}
        row |= {"active": False, "superseded_seq": seq}
        self._write_block(current[0], False, row)

    def held_blocks(self, account_id: str) -> list[UnitBlock]:
        return self._flushed().held_blocks(account_id)

    def held_blocks_for(self, account_id: str, selection: UnitSelection) -> Iterator[UnitBlock]:
        """The stored projection's answer as if every held row were sent (module docstring):
        its stored blocks but those written since the last flush, merged in selection order
        with the blocks written since that the account holds and ``selection`` matches (held
        blocks never overlap, so no two of them share a place in that order). Without serial
        ranges, the stored blocks read for an account and the attributes a selection names
        are kept until the next flush and read again from memory (:class:`_Replay`)."""
        written = dict(self._held.get(unit_block.name, {}))  # by (block_id,), as of this call
        source: Iterable[UnitBlock]
        if selection.ranges:
            source = self._inner.held_blocks_for(account_id, selection)
        else:
            named = (
                account_id,
                selection.ca_id,
                selection.originating_registry,
                selection.first_transferring_party,
                selection.vintage,
            )
            if named not in self._stored_held:
                self._stored_held[named] = _Replay(
                    self._inner.held_blocks_for(account_id, selection)
                )
            source = self._stored_held[named]
        stored = (block for block in source if (block.block_id,) not in written)
        recent = sorted(
            (
                block
                for block in self._held_since_flush.get(account_id, {}).values()
                if _selected(block, selection)
            ),
            key=selection_order,
        )
        if not recent:
            return stored
        return heapq.merge(stored, recent, key=selection_order)

    def active_blocks(self) -> list[UnitBlock]:
        return self._flushed().active_blocks()

    def authorized_quantity(self, authorization_id: str) -> int:
        if authorization_id not in self._authorized:
            self._authorized[authorization_id] = self._inner.authorized_quantity(authorization_id)
        return self._authorized[authorization_id] + self._authorized_delta.get(authorization_id, 0)

    def authorized_blocks(self, authorization_id: str) -> list[UnitBlock]:
        return self._flushed().authorized_blocks(authorization_id)

    def overlapping_blocks(self, key: BlockKey, first: int, last: int) -> list[UnitBlock]:
        return self._flushed().overlapping_blocks(key, first, last)

    def next_block_id(self) -> int:
        return max(self._first_new(), self._next_block)

    def next_serial(self, key: BlockKey) -> int:
        """One past the key's highest serial: the stored answer, read once, or one past the
        last serial of a block this batch wrote (the pieces of a split block cover it, so the
        highest serial of a key only grows)."""
        if key not in self._serial_floor:
            self._serial_floor[key] = self._inner.next_serial(key)
        return max(self._serial_floor[key], self._serial_top.get(key, 1))

    def record_block_event(self, event: BlockEvent) -> None:
        self._events.append(
            {
                "seq": event.seq,
                "block_id": event.block_id,
                "kind": event.kind,
                "first_serial": event.first,
                "last_serial": event.last,
                "account_id": event.account_id,
            }
        )

    def block_history(self, key: BlockKey, serial: int) -> list[BlockEvent]:
        return self._flushed().block_history(key, serial)

    # --- entry index and checks ---------------------------------------------------------------

    def tag_entry(self, seq: int, tags: tuple[str, ...]) -> None:
        self._inner.tag_entry(seq, tags)

    def tagged_seqs(self, tags: Iterable[str], end: int) -> list[int]:
        return self._inner.tagged_seqs(tags, end)

    def check_stored(self) -> str | None:
        return self._flushed().check_stored()


class _Replay:
    """The blocks of a stored-projection stream, read from it once, as far as some iteration
    went, and yielded again from memory to later iterations (the stored rows do not change
    until the batch's next flush, which drops it)."""

    def __init__(self, source: Iterator[UnitBlock]) -> None:
        self._source: Iterator[UnitBlock] | None = source
        self._read: list[UnitBlock] = []

    def __iter__(self) -> Iterator[UnitBlock]:
        position = 0
        while True:
            if position < len(self._read):
                yield self._read[position]
                position += 1
                continue
            if self._source is None:
                return
            block = next(self._source, None)
            if block is None:
                self._source = None
                return
            self._read.append(block)


def _selected(block: UnitBlock, selection: UnitSelection) -> bool:
    """Whether ``SqlProjection.held_blocks_for`` answers ``block`` (held by the account) for
    ``selection``: the attributes it names, and a serial in one of its ranges if it has any."""
    return matches_selection(block, selection) and (
        not selection.ranges
        or any(r.first <= block.last and r.last >= block.first for r in selection.ranges)
    )


class BatchUnitOfWork:
    """The write unit of work ``uow`` with the projection of a batch (:class:`SqlBatchProjection`):
    what the actions of an import batch run in. Everything but the projection is ``uow``'s."""

    def __init__(self, uow: SqlAlchemyUnitOfWork, projection: SqlBatchProjection) -> None:
        self._uow = uow
        self.projection = projection

    @property
    def log(self) -> LedgerLog:
        return self._uow.log

    @property
    def listing(self) -> ProjectionListing:
        self.projection.flush()
        return self._uow.listing

    @property
    def tokens(self) -> TokenRepository:
        return self._uow.tokens

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self._uow.idempotency

    @property
    def cosignatures(self) -> CosignatureRepository:
        return self._uow.cosignatures

    @property
    def witnessed(self) -> WitnessRepository:
        return self._uow.witnessed

    def now(self) -> datetime:
        return self._uow.now()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        self.projection.flush()
        self._uow.commit()

    def rollback(self) -> None:
        self._uow.rollback()
