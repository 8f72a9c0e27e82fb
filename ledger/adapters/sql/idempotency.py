"""SQL implementation of the ``IdempotencyRepository`` port (table ``idempotency_record``).

The stored headers are a JSON array of ``[name, value]`` pairs."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence

from sqlalchemy import Connection, RowMapping, Table, and_, insert, or_, select

from ledger.adapters.sql.orm_api import idempotency_record
from ledger.adapters.sql.times import as_utc
from ledger.ports import IdempotencyRecord

_t = idempotency_record.c


def _record(row: RowMapping) -> IdempotencyRecord:
    headers = tuple((str(name), str(value)) for name, value in json.loads(row["response_headers"]))
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


class SqlIdempotencyRepository:
    """``defer``: insert records later in the same transaction (``SqlLedgerLog.defer``)."""

    def __init__(
        self,
        conn: Connection,
        defer: Callable[[Table, Sequence[dict[str, object]]], None] | None = None,
    ) -> None:
        self._conn = conn
        self._defer = defer

    def get(self, token_id: str, key: str) -> IdempotencyRecord | None:
        return self.get_many([(token_id, key)]).get((token_id, key))

    def get_many(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], IdempotencyRecord]:
        """The records stored under any of ``keys`` ((token id, key) pairs), in one query."""
        by_token: dict[str, list[str]] = {}
        for token_id, key in keys:
            by_token.setdefault(token_id, []).append(key)
        if not by_token:
            return {}
        rows = self._conn.execute(
            select(idempotency_record).where(
                or_(
                    *(
                        and_(_t.token_id == token_id, _t.idempotency_key.in_(wanted))
                        for token_id, wanted in by_token.items()
                    )
                )
            )
        ).mappings()
        records = (_record(row) for row in rows)
        return {(record.token_id, record.key): record for record in records}

    def add(self, record: IdempotencyRecord) -> None:
        row: dict[str, object] = {
            "token_id": record.token_id,
            "idempotency_key": record.key,
            "request_fingerprint": record.fingerprint,
            "request_method": record.method,
            "request_path": record.path,
            "response_status": record.status,
            "response_headers": json.dumps(
                [list(pair) for pair in record.headers], separators=(",", ":")
            ),
            "response_body": record.body,
            "created_at": record.created_at,
            "first_seq": record.first_seq,
            "last_seq": record.last_seq,
            "tree_size": record.tree_size,
        }
        if self._defer is not None:
            self._defer(idempotency_record, [row])
        else:
            self._conn.execute(insert(idempotency_record).values(**row))
