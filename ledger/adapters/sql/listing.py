"""SQL implementation of the ``ProjectionListing`` port: keyset pages of the projection tables.

A page is ``key > after ORDER BY key LIMIT limit``. String keys are compared in code-point order
on every database, as the API's string cursors are: PostgreSQL compares them under the ``"C"``
collation (byte order of UTF-8, whatever the database's default collation); SQLite's default
``BINARY`` collation already is that order.

Every row read is checked against its digest first (``check_row``): a page never shows a row that
was changed outside the service.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Table, select

from ledger.adapters.sql.orm import (
    account,
    authorization,
    authorized_entity,
    cooperative_approach,
    party,
    registry,
    unit_block,
)
from ledger.adapters.sql.projection import check_row
from ledger.registry.codec import from_json
from ledger.registry.model import (
    Account,
    Authorization,
    AuthorizedEntity,
    CooperativeApproach,
    Party,
    Registry,
    UnitBlock,
)

T = TypeVar("T")


def _decoded(cls: type[T], table: Table, rows: Any) -> list[T]:
    """The records of ``rows`` (whole rows of ``table``), each checked against its digest."""
    return [from_json(cls, json.loads(check_row(table, row)["body"])) for row in rows.mappings()]


class SqlProjectionListing:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgresql = conn.dialect.name == "postgresql"

    def _string_key(self, column: Column[Any]) -> ColumnElement[Any]:
        return column.collate("C") if self._postgresql else column

    def _after_key(self, after: str) -> str:
        """``after`` as a bound value. PostgreSQL text cannot hold NUL, so no stored key holds
        one, and for such keys ``key > p + NUL + rest`` is exactly ``key > p``: the cursor is
        cut at its first NUL instead of failing."""
        return after.split("\0", 1)[0] if self._postgresql else after

    def _page(
        self,
        cls: type[T],
        table: Table,
        key: Column[Any],
        after: str | None,
        limit: int,
        *conditions: ColumnElement[bool],
    ) -> list[T]:
        ordered = self._string_key(key)
        query = select(table).where(*conditions)
        if after is not None:
            query = query.where(ordered > self._after_key(after))
        rows = self._conn.execute(query.order_by(ordered).limit(limit))
        return _decoded(cls, table, rows)

    def parties(self, after: str | None, limit: int) -> list[Party]:
        return self._page(Party, party, party.c.code, after, limit)

    def registries(self, after: str | None, limit: int) -> list[Registry]:
        return self._page(Registry, registry, registry.c.registry_id, after, limit)

    def cooperative_approaches(self, after: str | None, limit: int) -> list[CooperativeApproach]:
        return self._page(
            CooperativeApproach, cooperative_approach, cooperative_approach.c.ca_id, after, limit
        )

    def accounts(
        self, after: str | None, limit: int, *, registry_id: str | None = None
    ) -> list[Account]:
        conditions = [] if registry_id is None else [account.c.registry_id == registry_id]
        return self._page(Account, account, account.c.account_id, after, limit, *conditions)

    def authorizations(
        self, after: int | None, limit: int, *, party: str | None = None
    ) -> list[Authorization]:
        # The recording seq and the Party are held only in the record's body, so the versions
        # are decoded, then filtered and ordered here.
        rows = self._conn.execute(select(authorization))
        found = sorted(
            (
                a
                for a in _decoded(Authorization, authorization, rows)
                if (party is None or a.party == party) and (after is None or a.recorded_seq > after)
            ),
            key=lambda a: a.recorded_seq,
        )
        return found[:limit]

    def authorized_entities(self, after: str | None, limit: int) -> list[AuthorizedEntity]:
        return self._page(
            AuthorizedEntity, authorized_entity, authorized_entity.c.entity_id, after, limit
        )

    def blocks(
        self,
        after: int | None,
        limit: int,
        *,
        account_id: str | None = None,
        include_superseded: bool = False,
    ) -> list[UnitBlock]:
        query = select(unit_block)
        if account_id is not None:
            query = query.where(unit_block.c.account_id == account_id)
        if not include_superseded:
            query = query.where(unit_block.c.active.is_(True))
        if after is not None:
            query = query.where(unit_block.c.block_id > after)
        rows = self._conn.execute(query.order_by(unit_block.c.block_id).limit(limit))
        return _decoded(UnitBlock, unit_block, rows)

    def account_blocks(self, account_id: str) -> list[UnitBlock]:
        rows = self._conn.execute(
            select(unit_block)
            .where(unit_block.c.account_id == account_id, unit_block.c.active.is_(True))
            .order_by(unit_block.c.block_id)
        )
        return _decoded(UnitBlock, unit_block, rows)
