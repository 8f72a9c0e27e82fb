"""Many rows into one table in one statement: ``COPY ... FROM STDIN`` on PostgreSQL (several
times faster than an executemany of INSERTs, which sends each row as a statement of its own),
an executemany of the INSERT elsewhere. Triggers fire for every row either way (PostgreSQL runs
row-level ``BEFORE INSERT`` triggers for ``COPY``), and the rows join the connection's open
transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

#: Fewer rows than this go in as an executemany (a COPY costs a round trip of its own).
COPY_FROM = 32


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each with the same keys, the table's column names) into ``table``."""
    if not rows:
        return
    if conn.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        conn.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    columns = ", ".join(f'"{table.c[name].name}"' for name in names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
    finally:
        cursor.close()
