"""SQL implementation of the ``IdempotencyRepository`` port (table ``idempotency_record``).

The stored headers are a JSON array of ``[name, value]`` pairs."""

from __future__ import annotations

import json

from sqlalchemy import Connection, insert, select

from ledger.adapters.sql.orm_api import idempotency_record
from ledger.adapters.sql.times import as_utc
from ledger.ports import IdempotencyRecord

_t = idempotency_record.c


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, token_id: str, key: str) -> IdempotencyRecord | None:
        row = (
            self._conn.execute(
                select(idempotency_record).where(_t.token_id == token_id, _t.idempotency_key == key)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        headers = tuple(
            (str(name), str(value)) for name, value in json.loads(row["response_headers"])
        )
        return IdempotencyRecord(
            token_id=row["token_id"],
            key=row["idempotency_key"],
            fingerprint=bytes(row["request_fingerprint"]),
            method=str(row["request_method"]),
            path=str(row["request_path"]),
            status=int(row["response_status"]),
            headers=headers,
            body=bytes(row["response_body"]),
            created_at=as_utc(row["created_at"]),
            first_seq=row["first_seq"],
            last_seq=row["last_seq"],
            tree_size=row["tree_size"],
        )

    def add(self, record: IdempotencyRecord) -> None:
        self._conn.execute(
            insert(idempotency_record).values(
                token_id=record.token_id,
                idempotency_key=record.key,
                request_fingerprint=record.fingerprint,
                request_method=record.method,
                request_path=record.path,
                response_status=record.status,
                response_headers=json.dumps(
                    [list(pair) for pair in record.headers], separators=(",", ":")
                ),
                response_body=record.body,
                created_at=record.created_at,
                first_seq=record.first_seq,
                last_seq=record.last_seq,
                tree_size=record.tree_size,
            )
        )
