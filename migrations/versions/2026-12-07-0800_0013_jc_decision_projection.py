"""Flat cost for issuances citing a Joint Committee decision and for authorization limits.

1. ``jc_decision``: a projection row per recorded Joint Committee decision (``decision_id``,
   ``body`` = canonical JSON of ``{"decision", "recorded_seq", "issued"}``: the decision as its
   entry states it, that entry's seq, and the units issued so far to each account by the
   ``mo.issued`` entries citing it, recorded after it), bound and digested like every projection
   row (format v1 of migration 0008) and counted in ``projection_count``. An issuance citing a
   decision reads that one row instead of decoding the whole log. Existing decisions are
   backfilled here from the log with the rules of this revision (repeated below, so that this
   migration keeps writing what it wrote whatever the code becomes); the table gets the writer
   guards of the other projection tables.
2. ``ix_unit_block_authorized`` (authorization_id, first_serial, last_serial) WHERE active: the
   units under an authorization are summed from this index alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIGEST_DOMAIN = b"a6ledger projection row v1\n"
TABLE = "jc_decision"
REFUSED = "is refused outside the service write transactions"
OUTSIDE = "NOT a6ledger_writer()"
SQLITE_TRIGGERS = (
    (f"{TABLE}_writer_insert", "INSERT", TABLE, OUTSIDE, REFUSED),
    (f"{TABLE}_writer_update", "UPDATE", TABLE, OUTSIDE, REFUSED),
    (f"{TABLE}_no_delete", "DELETE", TABLE, "", "is forbidden"),
)
# projection_count's SQLite insert/update guards (0008), lifted while this migration counts rows.
COUNT_TRIGGERS = (
    ("projection_count_writer_insert", "INSERT", "projection_count", OUTSIDE, REFUSED),
    ("projection_count_writer_update", "UPDATE", "projection_count", OUTSIDE, REFUSED),
)


def _canonical(value: Any) -> str:
    """RFC 8785 for the values a decision record holds (strings, integers, objects, arrays)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _row_digest(table: str, row: Mapping[str, Any]) -> bytes:
    """Format v1 of a projection row's digest (migration 0008)."""
    header = {
        "table": table,
        "row": {
            k: bytes(v).hex() if isinstance(v, bytes | bytearray | memoryview) else v
            for k, v in row.items()
            if k not in ("body", "digest")
        },
    }
    body = row.get("body")
    content = body.encode("utf-8") if isinstance(body, str) else b""
    text = _canonical(header)
    return hashlib.sha256(DIGEST_DOMAIN + text.encode("utf-8") + b"\n" + content).digest()


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


def _decisions(
    bind: sa.Connection,
) -> tuple[dict[str, tuple[dict[str, Any], tuple[int, bytes]]], tuple[int, bytes] | None]:
    """Each decision's record and the entry that last wrote it; the entry that last added one."""
    records: dict[str, tuple[dict[str, Any], tuple[int, bytes]]] = {}
    last_insert: tuple[int, bytes] | None = None
    for seq, digest, entry in _entries(bind):
        kind, payload = entry["kind"], entry["payload"]
        if kind == "jcm.decision.recorded":
            decision_id = str(payload["decision"]["decision_id"])
            if decision_id not in records:
                last_insert = (seq, digest)
            record = {"decision": payload["decision"], "recorded_seq": seq, "issued": {}}
            records[decision_id] = (record, (seq, digest))
        elif kind == "mo.issued" and isinstance(payload.get("decision_reference"), str):
            cited = records.get(payload["decision_reference"])
            if cited is None:
                continue
            issued = dict(cited[0]["issued"])
            for block in payload["blocks"]:
                account_id = str(block["account_id"])
                units = int(block["last"]) - int(block["first"]) + 1
                issued[account_id] = issued.get(account_id, 0) + units
            records[payload["decision_reference"]] = ({**cited[0], "issued": issued}, (seq, digest))
    return records, last_insert


def _sqlite_triggers(triggers: Sequence[tuple[str, str, str, str, str]]) -> None:
    for name, operation, table, condition, reason in triggers:
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f'CREATE TRIGGER {name} BEFORE {operation} ON "{table}"{when} BEGIN SELECT '
            f"RAISE(ABORT, 'a6ledger: {operation} on {table} {reason}'); END"
        )


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    active = "active"
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SELECT set_config('a6ledger.writer', 'service', true)")
    else:
        active = "active = 1"
        for name, *_rest in COUNT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(
        "CREATE INDEX ix_unit_block_authorized ON unit_block "
        f"(authorization_id, first_serial, last_serial) WHERE {active}"
    )
    op.create_table(
        TABLE,
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_jc_decision")),
    )
    records, last_insert = _decisions(bind)
    for decision_id, (record, (seq, entry_hash)) in sorted(records.items()):
        row: dict[str, Any] = {"decision_id": decision_id, "body": _canonical(record)}
        row |= {"seq": seq, "entry_hash": entry_hash}
        row["digest"] = _row_digest(TABLE, row)
        bind.execute(
            sa.text(
                f"INSERT INTO {TABLE} (decision_id, body, seq, entry_hash, digest) "
                "VALUES (:decision_id, :body, :seq, :entry_hash, :digest)"
            ),
            row,
        )
    if records and last_insert is not None:
        counted: dict[str, Any] = {"table_name": TABLE, "row_count": len(records)}
        counted |= {"seq": last_insert[0], "entry_hash": last_insert[1]}
        counted["digest"] = _row_digest("projection_count", counted)
        bind.execute(
            sa.text(
                "INSERT INTO projection_count (table_name, row_count, seq, entry_hash, digest) "
                "VALUES (:table_name, :row_count, :seq, :entry_hash, :digest)"
            ),
            counted,
        )
    if dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_guard BEFORE INSERT OR UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION a6_writer_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_guard_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_truncate()"
        )
        return
    _sqlite_triggers(SQLITE_TRIGGERS)
    _sqlite_triggers(COUNT_TRIGGERS)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("SELECT set_config('a6ledger.writer', 'service', true)")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_guard_truncate ON {TABLE}")
    else:
        for name, *_rest in (*SQLITE_TRIGGERS, *COUNT_TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    # projection_count rows are never deleted by the service; a downgrade removes its own.
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE projection_count DISABLE TRIGGER projection_count_guard")
        op.execute(f"DELETE FROM projection_count WHERE table_name = '{TABLE}'")
        op.execute("ALTER TABLE projection_count ENABLE TRIGGER projection_count_guard")
    else:
        op.execute("DROP TRIGGER IF EXISTS projection_count_no_delete")
        op.execute(f"DELETE FROM projection_count WHERE table_name = '{TABLE}'")
        _sqlite_triggers(
            (("projection_count_no_delete", "DELETE", "projection_count", "", "is forbidden"),)
        )
        _sqlite_triggers(COUNT_TRIGGERS)
    op.drop_table(TABLE)
    op.execute("DROP INDEX ix_unit_block_authorized")
