"""SQL implementation of the ``CosignatureRepository`` port (table ``checkpoint_cosignature``)."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, func, insert, select

from ledger.adapters.sql.orm_witness import checkpoint_cosignature
from ledger.adapters.sql.times import as_utc
from ledger.ports import StoredCosignature

_t = checkpoint_cosignature.c


def _stored(row: RowMapping) -> StoredCosignature:
    return StoredCosignature(
        tree_size=int(row["tree_size"]),
        key_id=row["key_id"],
        key_name=row["key_name"],
        timestamp=int(row["timestamp"]),
        signature_line=row["signature_line"],
        seq=int(row["seq"]),
        recorded_at=as_utc(row["recorded_at"]),
    )


class SqlCosignatureRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def of_tree_size(self, tree_size: int) -> list[StoredCosignature]:
        query = select(checkpoint_cosignature).where(_t.tree_size == tree_size).order_by(_t.key_id)
        return [_stored(row) for row in self._conn.execute(query).mappings()]

    def get(self, tree_size: int, key_id: str) -> StoredCosignature | None:
        query = select(checkpoint_cosignature).where(_t.tree_size == tree_size, _t.key_id == key_id)
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _stored(row)

    def add(self, cosignature: StoredCosignature) -> None:
        self._conn.execute(
            insert(checkpoint_cosignature).values(
                tree_size=cosignature.tree_size,
                key_id=cosignature.key_id,
                key_name=cosignature.key_name,
                timestamp=cosignature.timestamp,
                signature_line=cosignature.signature_line,
                seq=cosignature.seq,
                recorded_at=cosignature.recorded_at,
            )
        )

    def latest_tree_size(self) -> int | None:
        size = self._conn.execute(select(func.max(_t.tree_size))).scalar()
        return None if size is None else int(size)

    def latest_tree_size_of(self, key_id: str) -> int | None:
        query = select(func.max(_t.tree_size)).where(_t.key_id == key_id)
        size = self._conn.execute(query).scalar()
        return None if size is None else int(size)
