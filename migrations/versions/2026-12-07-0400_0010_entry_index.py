"""The entry index: ``entry_tag`` holds each ledger entry under every Party, account and
authorization it names (``ledger.registry.entry_tags``), so a Party's reports read its own
entries by index instead of replaying the whole log.

The table is insert-only, like ``block_event``: INSERT only inside the service's write
transactions, UPDATE and DELETE (and TRUNCATE on PostgreSQL) never (the guards of migration
0008). ``a6ledger verify-db`` compares it row by row with a replay of the log. Existing entries
are indexed here with the tag rules of this revision (repeated below, so that this migration
keeps writing what it wrote whatever the code becomes).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCE_KINDS = frozenset(
    {
        "party.registered",
        "ndc.declared",
        "ndc.amended",
        "registry.registered",
        "cooperative_approach.registered",
        "first_transfer_definition.declared",
        "authorization.recorded",
        "authorized_entity.recorded",
        "account.opened",
    }
)
SQLITE_TRIGGERS = (
    (
        "entry_tag_writer_insert",
        "INSERT",
        "NOT a6ledger_writer()",
        "is refused outside the service write transactions",
    ),
    ("entry_tag_no_update", "UPDATE", "", "is forbidden"),
    ("entry_tag_no_delete", "DELETE", "", "is forbidden"),
)


def _named(key: str, value: object) -> str | None:
    if not isinstance(value, str):
        return None
    if key == "party" or key.endswith("_party"):
        return f"party:{value}"
    if key.endswith("_account"):
        return f"account:{value}"
    if key == "authorization_id":
        return f"authorization:{value}"
    return None


def _tags(kind: str, payload: Mapping[str, Any]) -> set[str]:
    if kind in REFERENCE_KINDS:
        return {"*"}
    tags = {tag for key, value in payload.items() if (tag := _named(key, value)) is not None}
    blocks = payload.get("blocks")
    for raw in blocks if isinstance(blocks, list) else ():
        if not isinstance(raw, Mapping):
            continue
        attributes = raw.get("attributes")
        found = [
            _named("block_account", raw.get("account_id")),
            _named("authorization_id", raw.get("authorization_id")),
            _named(
                "first_transferring_party",
                attributes.get("first_transferring_party")
                if isinstance(attributes, Mapping)
                else None,
            ),
        ]
        tags.update(tag for tag in found if tag is not None)
    return tags


def _entries(bind: sa.Connection) -> Iterator[tuple[int, dict[str, Any]]]:
    last = -1
    while True:
        rows = bind.execute(
            sa.text("SELECT seq, body FROM ledger_entry WHERE seq > :last ORDER BY seq LIMIT 2000"),
            {"last": last},
        ).all()
        if not rows:
            return
        for seq, body in rows:
            yield int(seq), json.loads(bytes(body))
        last = int(rows[-1][0])


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    table = op.create_table(
        "entry_tag",
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("tag", "seq", name=op.f("pk_entry_tag")),
    )
    batch: list[dict[str, Any]] = []
    for seq, entry in _entries(bind):
        batch += [
            {"tag": tag, "seq": seq} for tag in sorted(_tags(entry["kind"], entry["payload"]))
        ]
        if len(batch) >= 5000:
            op.bulk_insert(table, batch)
            batch = []
    if batch:
        op.bulk_insert(table, batch)
    if dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER entry_tag_guard BEFORE INSERT OR UPDATE OR DELETE ON entry_tag "
            "FOR EACH ROW EXECUTE FUNCTION a6_writer_insert_only()"
        )
        op.execute(
            "CREATE TRIGGER entry_tag_guard_truncate BEFORE TRUNCATE ON entry_tag "
            "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_truncate()"
        )
        return
    for name, operation, condition, reason in SQLITE_TRIGGERS:
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON entry_tag{when} BEGIN SELECT "
            f"RAISE(ABORT, 'a6ledger: {operation} on entry_tag {reason}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS entry_tag_guard ON entry_tag")
        op.execute("DROP TRIGGER IF EXISTS entry_tag_guard_truncate ON entry_tag")
    else:
        for name, *_rest in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("entry_tag")
