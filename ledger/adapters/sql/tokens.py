"""SQL implementation of the ``TokenRepository`` port (table ``api_token``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select, update

from ledger.adapters.sql.orm_api import api_token
from ledger.adapters.sql.times import as_utc, as_utc_or_none
from ledger.ports import TokenRecord


def _record(row: RowMapping) -> TokenRecord:
    return TokenRecord(
        token_id=row["token_id"],
        name=row["name"],
        role=row["role"],
        registry_id=row["registry_id"],
        secret_hash=bytes(row["secret_hash"]),
        created_at=as_utc(row["created_at"]),
        revoked_at=as_utc_or_none(row["revoked_at"]),
    )


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, token: TokenRecord) -> None:
        self._conn.execute(
            insert(api_token).values(
                token_id=token.token_id,
                name=token.name,
                role=token.role,
                registry_id=token.registry_id,
                secret_hash=token.secret_hash,
                created_at=token.created_at,
                revoked_at=token.revoked_at,
            )
        )

    def get(self, token_id: str) -> TokenRecord | None:
        row = (
            self._conn.execute(select(api_token).where(api_token.c.token_id == token_id))
            .mappings()
            .first()
        )
        return None if row is None else _record(row)

    def unrevoked(self, token_ids: Collection[str]) -> set[str]:
        """Which of ``token_ids`` exist and are not revoked, in one query."""
        if not token_ids:
            return set()
        rows = self._conn.execute(
            select(api_token.c.token_id).where(
                api_token.c.token_id.in_(sorted(set(token_ids))), api_token.c.revoked_at.is_(None)
            )
        )
        return {str(token_id) for (token_id,) in rows}

    def revoke(self, token_id: str, revoked_at: datetime) -> None:
        self._conn.execute(
            update(api_token).where(api_token.c.token_id == token_id).values(revoked_at=revoked_at)
        )

    def all(self) -> list[TokenRecord]:
        rows = self._conn.execute(
            select(api_token).order_by(api_token.c.created_at, api_token.c.token_id)
        ).mappings()
        return [_record(row) for row in rows]
