"""SQL implementation of the registry projection (``ProjectionRepository``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, and_, func, insert, or_, select, update

from ledger.adapters.sql.orm import (
    account,
    aef_submission,
    authorization,
    authorized_entity,
    block_event,
    cooperative_approach,
    first_transfer_definition,
    party,
    registry,
    unit_block,
)
from ledger.log.canonical import canonical_bytes
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
from ledger.registry.projection import BlockEvent, BlockKey, block_key

T = TypeVar("T")


def _body(record: Any) -> str:
    return canonical_bytes(to_json(record)).decode("utf-8")


def _load(cls: type[T], body: str) -> T:
    return from_json(cls, json.loads(body))


class SqlProjection:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # generic upsert by primary key: projection rows are replaced, never edited in place
    def _upsert(self, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        condition = and_(*(table.c[k] == v for k, v in key.items()))
        exists = self._conn.execute(select(func.count()).select_from(table).where(condition))
        if exists.scalar_one():
            self._conn.execute(update(table).where(condition).values(**values))
        else:
            self._conn.execute(insert(table).values(**key, **values))

    def _one(self, cls: type[T], table: Table, **key: Any) -> T | None:
        condition = and_(*(table.c[k] == v for k, v in key.items()))
        body = self._conn.execute(select(table.c.body).where(condition)).scalar_one_or_none()
        return None if body is None else _load(cls, body)

    def _all(self, cls: type[T], table: Table) -> list[T]:
        """Every record, ordered by primary key in code-point order (the same on every
        database and collation, and the order the API's string cursors compare in)."""
        keys = list(table.primary_key.columns)
        rows = sorted(
            self._conn.execute(select(*keys, table.c.body)).all(),
            key=lambda row: tuple(row[: len(keys)]),
        )
        return [_load(cls, row[-1]) for row in rows]

    def get_party(self, code: str) -> Party | None:
        return self._one(Party, party, code=code)

    def put_party(self, value: Party) -> None:
        self._upsert(party, {"code": value.code}, {"body": _body(value)})

    def parties(self) -> list[Party]:
        return self._all(Party, party)

    def get_registry(self, registry_id: str) -> Registry | None:
        return self._one(Registry, registry, registry_id=registry_id)

    def put_registry(self, value: Registry) -> None:
        self._upsert(
            registry,
            {"registry_id": value.registry_id},
            {"party": value.party, "body": _body(value)},
        )

    def registries(self) -> list[Registry]:
        return self._all(Registry, registry)

    def get_cooperative_approach(self, ca_id: str) -> CooperativeApproach | None:
        return self._one(CooperativeApproach, cooperative_approach, ca_id=ca_id)

    def put_cooperative_approach(self, value: CooperativeApproach) -> None:
        self._upsert(cooperative_approach, {"ca_id": value.ca_id}, {"body": _body(value)})

    def cooperative_approaches(self) -> list[CooperativeApproach]:
        return self._all(CooperativeApproach, cooperative_approach)

    def get_first_transfer_definition(
        self, party_code: str, ca_id: str
    ) -> FirstTransferDefinition | None:
        value = self._conn.execute(
            select(first_transfer_definition.c.definition).where(
                first_transfer_definition.c.party == party_code,
                first_transfer_definition.c.ca_id == ca_id,
            )
        ).scalar_one_or_none()
        return None if value is None else FirstTransferDefinition(value)

    def put_first_transfer_definition(
        self, party_code: str, ca_id: str, definition: FirstTransferDefinition
    ) -> None:
        self._upsert(
            first_transfer_definition,
            {"party": party_code, "ca_id": ca_id},
            {"definition": definition.value},
        )

    def get_authorization(
        self, authorization_id: str, version: int | None = None
    ) -> Authorization | None:
        query = select(authorization.c.body).where(
            authorization.c.authorization_id == authorization_id
        )
        if version is not None:
            query = query.where(authorization.c.version == version)
        body = self._conn.execute(
            query.order_by(authorization.c.version.desc()).limit(1)
        ).scalar_one_or_none()
        return None if body is None else _load(Authorization, body)

    def put_authorization(self, value: Authorization) -> None:
        self._upsert(
            authorization,
            {"authorization_id": value.authorization_id, "version": value.version},
            {"body": _body(value)},
        )

    def authorizations(self) -> list[Authorization]:
        return self._all(Authorization, authorization)

    def get_entity(self, entity_id: str) -> AuthorizedEntity | None:
        return self._one(AuthorizedEntity, authorized_entity, entity_id=entity_id)

    def put_entity(self, value: AuthorizedEntity) -> None:
        self._upsert(authorized_entity, {"entity_id": value.entity_id}, {"body": _body(value)})

    def entities(self) -> list[AuthorizedEntity]:
        return self._all(AuthorizedEntity, authorized_entity)

    def get_account(self, account_id: str) -> Account | None:
        return self._one(Account, account, account_id=account_id)

    def put_account(self, value: Account) -> None:
        self._upsert(
            account,
            {"account_id": value.account_id},
            {"registry_id": value.registry_id, "body": _body(value)},
        )

    def accounts(self) -> list[Account]:
        return self._all(Account, account)

    def get_block(self, block_id: int) -> UnitBlock | None:
        return self._one(UnitBlock, unit_block, block_id=block_id)

    def put_block(self, block: UnitBlock) -> None:
        a = block.attributes
        self._upsert(
            unit_block,
            {"block_id": block.block_id},
            {
                "ca_id": a.ca_id,
                "registry_id": a.registry_id,
                "first_transferring_party": a.first_transferring_party,
                "vintage": a.vintage,
                "first_serial": block.first,
                "last_serial": block.last,
                "account_id": block.account_id,
                "active": True,
                "retired": block.retired,
                "authorization_id": block.authorization_id,
                "body": _body(block),
            },
        )

    def supersede_block(self, block_id: int, seq: int) -> None:
        self._conn.execute(
            update(unit_block)
            .where(unit_block.c.block_id == block_id)
            .values(active=False, superseded_seq=seq)
        )

    def _blocks(self, *conditions: Any) -> list[UnitBlock]:
        rows = self._conn.execute(
            select(unit_block.c.body).where(*conditions).order_by(unit_block.c.block_id)
        )
        return [_load(UnitBlock, body) for (body,) in rows]

    def held_blocks(self, account_id: str) -> list[UnitBlock]:
        return self._blocks(
            unit_block.c.account_id == account_id,
            unit_block.c.active.is_(True),
            unit_block.c.retired.is_(False),
        )

    def held_blocks_for(self, account_id: str, selection: UnitSelection) -> Iterator[UnitBlock]:
        """Held blocks that may match ``selection``, streamed in selection order (oldest vintage
        first), so a quantity is filled without decoding the whole account."""
        conditions: list[Any] = [
            unit_block.c.account_id == account_id,
            unit_block.c.active.is_(True),
            unit_block.c.retired.is_(False),
        ]
        for column, value in (
            (unit_block.c.ca_id, selection.ca_id),
            (unit_block.c.registry_id, selection.originating_registry),
            (unit_block.c.first_transferring_party, selection.first_transferring_party),
            (unit_block.c.vintage, selection.vintage),
        ):
            if value is not None:
                conditions.append(column == value)
        if selection.ranges:
            conditions.append(
                or_(
                    *(
                        and_(
                            unit_block.c.first_serial <= r.last, unit_block.c.last_serial >= r.first
                        )
                        for r in selection.ranges
                    )
                )
            )
        rows = self._conn.execute(
            select(unit_block.c.body)
            .where(*conditions)
            .order_by(
                unit_block.c.vintage,
                unit_block.c.ca_id,
                unit_block.c.registry_id,
                unit_block.c.first_transferring_party,
                unit_block.c.first_serial,
            )
        ).all()  # fetched at once (no cursor left open); decoded lazily, as far as needed
        for (body,) in rows:
            yield _load(UnitBlock, body)

    def active_blocks(self) -> list[UnitBlock]:
        return self._blocks(unit_block.c.active.is_(True))

    def authorized_quantity(self, authorization_id: str) -> int:
        total = self._conn.execute(
            select(
                func.coalesce(func.sum(unit_block.c.last_serial - unit_block.c.first_serial + 1), 0)
            ).where(
                unit_block.c.authorization_id == authorization_id, unit_block.c.active.is_(True)
            )
        ).scalar_one()
        return int(total)

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
        return self._blocks(
            self._key_condition(key),
            unit_block.c.active.is_(True),
            unit_block.c.first_serial <= last,
            unit_block.c.last_serial >= first,
        )

    def next_block_id(self) -> int:
        current = self._conn.execute(select(func.max(unit_block.c.block_id))).scalar_one()
        return 1 if current is None else int(current) + 1

    def next_serial(self, key: BlockKey) -> int:
        current = self._conn.execute(
            select(func.max(unit_block.c.last_serial)).where(self._key_condition(key))
        ).scalar_one()
        return 1 if current is None else int(current) + 1

    def record_block_event(self, event: BlockEvent) -> None:
        self._conn.execute(
            insert(block_event).values(
                seq=event.seq,
                block_id=event.block_id,
                kind=event.kind,
                first_serial=event.first,
                last_serial=event.last,
                account_id=event.account_id,
            )
        )

    def block_history(self, key: BlockKey, serial: int) -> list[BlockEvent]:
        ids = select(unit_block.c.block_id).where(
            self._key_condition(key),
            unit_block.c.first_serial <= serial,
            unit_block.c.last_serial >= serial,
        )
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

    def put_submission(self, party: str, reported_year: int, version: str, seq: int) -> None:
        self._conn.execute(
            insert(aef_submission).values(
                party=party, reported_year=reported_year, version=version, seq=seq
            )
        )

    def submitted_versions(self, party: str, reported_year: int) -> list[str]:
        rows = self._conn.execute(
            select(aef_submission.c.version)
            .where(aef_submission.c.party == party, aef_submission.c.reported_year == reported_year)
            .order_by(aef_submission.c.seq)
        )
        return [version for (version,) in rows]


__all__ = ["SqlProjection", "block_key"]
