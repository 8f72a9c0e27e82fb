"""Which statements may change the projection and API tables: only the service's own.

Migration 0008 installs triggers that refuse INSERT and UPDATE of the projection tables (and of
``api_token``, ``idempotency_record``, ``block_event``) unless the statement runs in a write
transaction opened by this adapter (:func:`ledger.adapters.sql.db.begin_write`), and refuse
DELETE (and TRUNCATE on PostgreSQL) always. How a transaction says "this is the service":

- PostgreSQL: the transaction-local setting ``a6ledger.writer = 'service'``
  (``set_config(..., true)``), which ends with the transaction; the triggers read it with
  ``current_setting('a6ledger.writer', true)``.
- SQLite has no session variables. Every connection this adapter opens gets the SQL function
  ``a6ledger_writer()``, which answers 1 only inside a write transaction of this process. The
  triggers call it, so a statement from any other client (the ``sqlite3`` shell, another
  program) fails with "no such function" or is refused.

Neither is a security boundary against whoever controls the database: a PostgreSQL role that may
set the variable or disable triggers, or anyone who can write the SQLite file, can still edit the
rows. Such edits are caught afterwards: every projection row carries a digest bound to the ledger
entry that wrote it, checked whenever the service reads the row, and ``a6ledger verify-db``
re-derives the whole projection from the log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event, text

WRITER_SETTING = "a6ledger.writer"
WRITER_VALUE = "service"
SQLITE_WRITER_FUNCTION = "a6ledger_writer"
_INFO_KEY = "a6ledger.writer"


def install(engine: Engine) -> None:
    """Give every connection of ``engine`` the writer flag and, on SQLite, the function the
    triggers ask; the flag ends with each transaction."""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, record: Any) -> None:
            info = record.info
            dbapi_connection.create_function(
                SQLITE_WRITER_FUNCTION, 0, lambda: 1 if info.get(_INFO_KEY) else 0
            )

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        conn.info.pop(_INFO_KEY, None)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        conn.info.pop(_INFO_KEY, None)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info.pop(_INFO_KEY, None)


def mark_writer(conn: Connection, *, also: str | None = None, **params: Any) -> None:
    """Declare the current transaction of ``conn`` the service's own write transaction.

    On PostgreSQL ``also`` (an SQL expression, with ``params``) is evaluated in the same
    statement, saving a round trip (``begin_write`` takes the append lock this way)."""
    conn.info[_INFO_KEY] = True
    if conn.dialect.name == "postgresql":
        first = f"{also}, " if also else ""
        conn.execute(
            text(f"SELECT {first}set_config(:a6_writer_name, :a6_writer_value, true)"),
            {"a6_writer_name": WRITER_SETTING, "a6_writer_value": WRITER_VALUE, **params},
        )


def is_writer(conn: Connection) -> bool:
    """Is the current transaction of ``conn`` one of the service's write transactions?"""
    return bool(conn.info.get(_INFO_KEY))
