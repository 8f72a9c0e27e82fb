"""Tamper-evident projection: rows bound to ledger entries, row digests and counts, and triggers
that refuse changes outside the service.

1. Every projection table (party, registry, cooperative_approach, first_transfer_definition,
   authorization, authorized_entity, account, unit_block, aef_submission) gains ``seq`` (which
   aef_submission already has) and ``entry_hash``, the ledger entry that last wrote the row,
   and ``digest``, the SHA-256 of the row and its binding
   (format v1, ``ledger.adapters.sql.projection.row_digest``; repeated below so that this
   migration keeps computing v1 digests whatever the code becomes). ``projection_count`` holds
   each table's row count, bound and digested the same way. Existing rows are bound by scanning
   the log for the entry that last wrote each one; a row no entry wrote is bound to seq -1, so
   ``a6ledger verify-db`` reports it.
2. Triggers refuse INSERT and UPDATE of those tables, of ``projection_count``, ``block_event``
   (inserts), ``api_token`` and ``idempotency_record`` outside the service's write transactions,
   and DELETE always (TRUNCATE too, on PostgreSQL). ``api_token`` accepts one UPDATE only: a
   revocation (``revoked_at`` from NULL to a time, nothing else changed); ``idempotency_record``
   is insert-only.
   - PostgreSQL: the service's transactions set ``a6ledger.writer = 'service'`` locally
     (``SELECT set_config('a6ledger.writer', 'service', true)``).
   - SQLite has no session variables: the triggers call ``a6ledger_writer()``, an SQL function the
     service registers on its own connections (1 inside its write transactions). Other clients
     do not have the function, so their statements fail. Nothing in SQLite stops whoever can
     write the file from dropping the triggers; edits made that way are found by the digest
     check on read and by ``verify-db`` (the same holds on PostgreSQL for a role that may set
     the variable or disable triggers).
   A later migration that must rewrite these rows sets the variable (PostgreSQL) or drops and
   recreates the triggers (SQLite), and recomputes their digests (as ``_bind_existing_rows``
   does here).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROJECTION = (
    "party",
    "registry",
    "cooperative_approach",
    "first_transfer_definition",
    "authorization",
    "authorized_entity",
    "account",
    "unit_block",
    "aef_submission",
)
GUARDED = (*PROJECTION, "projection_count")
BINDING = ("seq", "entry_hash", "digest")
UNBOUND = (-1, bytes(32))
DIGEST_DOMAIN = b"a6ledger projection row v1\n"
WRITER = "coalesce(current_setting('a6ledger.writer', true), '') = 'service'"
REVOCATION = (
    "OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL "
    "AND NEW.token_id = OLD.token_id AND NEW.name = OLD.name AND NEW.role = OLD.role "
    "AND NEW.registry_id IS NOT DISTINCT FROM OLD.registry_id "
    "AND NEW.secret_hash = OLD.secret_hash AND NEW.created_at = OLD.created_at"
)


def _row_digest(table: str, row: Mapping[str, Any]) -> bytes:
    """Format v1 of a projection row's digest (see the module docstring)."""
    header = {
        "table": table,
        "row": {
            k: bytes(v).hex() if isinstance(v, bytes | bytearray | memoryview) else v
            for k, v in row.items()
            if k not in ("body", "digest")
        },
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    body = row.get("body")
    content = body.encode("utf-8") if isinstance(body, str) else b""
    return hashlib.sha256(DIGEST_DOMAIN + text.encode("utf-8") + b"\n" + content).digest()


# --- 1. columns and the bindings of existing rows -------------------------------------------


def _entries(bind: sa.Connection) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    last = -1
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT seq, entry_hash, body FROM ledger_entry WHERE seq > :last "
                "ORDER BY seq LIMIT 2000"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        for seq, digest, body in rows:
            yield int(seq), bytes(digest), json.loads(bytes(body))
        last = int(rows[-1][0])


def _writers(
    bind: sa.Connection,
) -> tuple[dict[tuple[str, tuple[Any, ...]], tuple[int, bytes]], dict[str, tuple[int, bytes]]]:
    """For every projection row the log wrote, the entry that last wrote it; for every table,
    the entry that last added a row (what ``ledger.registry.projection.apply_entry`` does)."""
    last_write: dict[tuple[str, tuple[Any, ...]], tuple[int, bytes]] = {}
    last_insert: dict[str, tuple[int, bytes]] = {}

    def wrote(table: str, key: tuple[Any, ...], binding: tuple[int, bytes]) -> None:
        if (table, key) not in last_write:
            last_insert[table] = binding
        last_write[(table, key)] = binding

    for seq, digest, entry in _entries(bind):
        binding = (seq, digest)
        kind, payload = entry["kind"], entry["payload"]
        if kind in ("party.registered", "ndc.declared"):
            code = payload["party"]["code"] if kind == "party.registered" else payload["party"]
            wrote("party", (code,), binding)
        elif kind == "registry.registered":
            wrote("registry", (payload["registry"]["registry_id"],), binding)
        elif kind == "cooperative_approach.registered":
            wrote("cooperative_approach", (payload["approach"]["ca_id"],), binding)
        elif kind == "first_transfer_definition.declared":
            key = (payload["party"], payload["ca_id"])
            wrote("first_transfer_definition", key, binding)
        elif kind == "authorization.recorded":
            granted = payload["authorization"]
            key = (granted["authorization_id"], granted["version"])
            wrote("authorization", key, binding)
        elif kind == "authorized_entity.recorded":
            wrote("authorized_entity", (payload["entity"]["entity_id"],), binding)
        elif kind == "account.opened":
            wrote("account", (payload["account"]["account_id"],), binding)
        elif kind == "aef.submitted":
            key = (payload["party"], payload["reported_year"], payload["version"])
            wrote("aef_submission", key, binding)
        if "blocks" in payload:
            for block_id in payload.get("superseded", ()):
                wrote("unit_block", (block_id,), binding)
            for block in payload["blocks"]:
                wrote("unit_block", (block["block_id"],), binding)
    return last_write, last_insert


def _add_binding_columns(table: str, dialect: str) -> None:
    for name, kind, default in (
        ("seq", sa.BigInteger(), "-1"),
        ("entry_hash", sa.LargeBinary(length=32), ""),
        ("digest", sa.LargeBinary(length=32), ""),
    ):
        if name == "seq" and table == "aef_submission":
            continue  # 0006 made it: the seq of the ``aef.submitted`` entry
        # SQLite adds a NOT NULL column only with a default, and drops a default only by
        # rebuilding the table (and its triggers): there the harmless default stays.
        op.add_column(table, sa.Column(name, kind, nullable=False, server_default=default))
        if dialect == "postgresql":
            op.alter_column(table, name, server_default=None)


def _bind_existing_rows(bind: sa.Connection) -> None:
    last_write, last_insert = _writers(bind)
    for name in PROJECTION:
        table = sa.Table(name, sa.MetaData(), autoload_with=bind)
        keys = [column.name for column in table.primary_key.columns]
        rows = bind.execute(sa.select(table)).mappings().all()
        for row in rows:
            values = {k: v for k, v in row.items() if k not in BINDING}
            for flag in ("active", "retired"):
                if flag in values:
                    values[flag] = bool(values[flag])
            key = tuple(values[k] for k in keys)
            seq, entry_hash = last_write.get((name, key), UNBOUND)
            values |= {"seq": seq, "entry_hash": entry_hash}
            digest = _row_digest(name, values)
            bind.execute(
                table.update()
                .where(*(table.c[k] == row[k] for k in keys))
                .values(seq=seq, entry_hash=entry_hash, digest=digest)
            )
        if rows:
            seq, entry_hash = last_insert.get(name, UNBOUND)
            counted = {"table_name": name, "row_count": len(rows), "seq": seq}
            counted["entry_hash"] = entry_hash
            counted["digest"] = _row_digest("projection_count", counted)
            bind.execute(
                sa.text(
                    "INSERT INTO projection_count (table_name, row_count, seq, entry_hash, digest) "
                    "VALUES (:table_name, :row_count, :seq, :entry_hash, :digest)"
                ),
                counted,
            )


# --- 2. triggers ------------------------------------------------------------------------------

PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION a6_writer_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'a6ledger: DELETE on % is forbidden: the service replaces rows, '
                'never deletes them', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT {WRITER} THEN
            RAISE EXCEPTION 'a6ledger: % on % is refused outside the service write transactions',
                TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE FUNCTION a6_writer_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            RAISE EXCEPTION 'a6ledger: % on % is forbidden: the table is insert-only',
                TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT {WRITER} THEN
            RAISE EXCEPTION 'a6ledger: INSERT on % is refused outside the service write '
                'transactions', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE FUNCTION a6_api_token_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'a6ledger: DELETE on api_token is forbidden: tokens are revoked, '
                'never deleted' USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT {WRITER} THEN
            RAISE EXCEPTION 'a6ledger: % on api_token is refused outside the service write '
                'transactions', TG_OP USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'UPDATE' AND NOT ({REVOCATION}) THEN
            RAISE EXCEPTION 'a6ledger: UPDATE on api_token is refused: a revocation is the only '
                'change to a token' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE FUNCTION a6_reject_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'a6ledger: TRUNCATE on % is forbidden', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
]
PG_ROW_TRIGGERS = [
    *((table, "INSERT OR UPDATE OR DELETE", "a6_writer_only") for table in GUARDED),
    ("block_event", "INSERT", "a6_writer_insert_only"),
    ("idempotency_record", "INSERT OR UPDATE OR DELETE", "a6_writer_insert_only"),
    ("api_token", "INSERT OR UPDATE OR DELETE", "a6_api_token_guard"),
]
TRUNCATE_GUARDED = (*GUARDED, "idempotency_record", "api_token")


def _sqlite_triggers() -> list[tuple[str, str, str, str, str]]:
    """(trigger, operation, table, condition refusing the statement, message)."""
    outside = "NOT a6ledger_writer()"
    refused = "is refused outside the service write transactions"
    triggers: list[tuple[str, str, str, str, str]] = []
    for table in GUARDED:
        triggers.append((f"{table}_writer_insert", "INSERT", table, outside, refused))
        triggers.append((f"{table}_writer_update", "UPDATE", table, outside, refused))
        triggers.append((f"{table}_no_delete", "DELETE", table, "", "is forbidden"))
    triggers += [
        ("block_event_writer_insert", "INSERT", "block_event", outside, refused),
        ("idempotency_record_writer_insert", "INSERT", "idempotency_record", outside, refused),
        ("idempotency_record_no_update", "UPDATE", "idempotency_record", "", "is forbidden"),
        ("idempotency_record_no_delete", "DELETE", "idempotency_record", "", "is forbidden"),
        ("api_token_writer_insert", "INSERT", "api_token", outside, refused),
        (
            "api_token_writer_update",
            "UPDATE",
            "api_token",
            f"{outside} OR NOT ({REVOCATION.replace('IS NOT DISTINCT FROM', 'IS')})",
            "is refused: only the service revokes a token, and a revocation is the only change",
        ),
        ("api_token_no_delete", "DELETE", "api_token", "", "is forbidden"),
    ]
    return triggers


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for ddl in PG_FUNCTIONS:
            op.execute(ddl)
        for table, operations, function in PG_ROW_TRIGGERS:
            op.execute(
                f'CREATE TRIGGER {table}_guard BEFORE {operations} ON "{table}" '
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
        for table in TRUNCATE_GUARDED:
            op.execute(
                f'CREATE TRIGGER {table}_guard_truncate BEFORE TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_truncate()"
            )
        return
    for name, operation, table, condition, reason in _sqlite_triggers():
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f'CREATE TRIGGER {name} BEFORE {operation} ON "{table}"{when} BEGIN SELECT '
            f"RAISE(ABORT, 'a6ledger: {operation} on {table} {reason}'); END"
        )


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    for table in PROJECTION:
        _add_binding_columns(table, dialect)
    op.create_table(
        "projection_count",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_projection_count")),
    )
    _bind_existing_rows(bind)
    _create_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table, _operations, _function in PG_ROW_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_guard ON "{table}"')
        for table in TRUNCATE_GUARDED:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_guard_truncate ON "{table}"')
        for function in (
            "a6_writer_only",
            "a6_writer_insert_only",
            "a6_api_token_guard",
            "a6_reject_truncate",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name, *_rest in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("projection_count")
    for table in PROJECTION:
        for column in BINDING:
            if column == "seq" and table == "aef_submission":
                continue
            # Plain ALTER TABLE on SQLite too (3.35+): a batch rebuild would drop the table's
            # other triggers.
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')
