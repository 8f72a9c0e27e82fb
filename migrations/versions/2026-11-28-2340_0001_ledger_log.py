"""Ledger log: entries, Merkle nodes, append-only and chain-link triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("ledger_entry", "merkle_node")

PG_FUNCTIONS = [
    """
    CREATE FUNCTION a6_reject_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'a6ledger: % on % is forbidden: the table is append-only',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE FUNCTION a6_check_chain_link() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.seq = 0 THEN
            IF NEW.prev_hash <> decode(repeat('00', 32), 'hex') THEN
                RAISE EXCEPTION 'a6ledger: entry 0 must link to the genesis hash'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
        ELSIF NOT EXISTS (
            SELECT 1 FROM ledger_entry WHERE seq = NEW.seq - 1 AND entry_hash = NEW.prev_hash
        ) THEN
            RAISE EXCEPTION 'a6ledger: entry % does not extend the chain head', NEW.seq
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
]


def _create_tables() -> None:
    op.create_table(
        "ledger_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_ledger_entry_seq_non_negative")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_ledger_entry_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_ledger_entry_prev_hash")),
    )
    op.create_index("ix_ledger_entry_kind_seq", "ledger_entry", ["kind", "seq"], unique=False)
    op.create_table(
        "merkle_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "level >= 0 AND level < 64 AND idx >= 0", name=op.f("ck_merkle_node_position")
        ),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_merkle_node")),
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    _create_tables()
    if dialect == "postgresql":
        for ddl in PG_FUNCTIONS:
            op.execute(ddl)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION a6_reject_mutation()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_mutation()"
            )
        op.execute(
            "CREATE TRIGGER ledger_entry_chain_link BEFORE INSERT ON ledger_entry "
            "FOR EACH ROW EXECUTE FUNCTION a6_check_chain_link()"
        )
    else:
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'a6ledger: {operation} on {table} is forbidden: "
                    "the table is append-only'); END"
                )
        op.execute(
            "CREATE TRIGGER ledger_entry_chain_link BEFORE INSERT ON ledger_entry "
            "WHEN (NEW.seq = 0 AND NEW.prev_hash <> zeroblob(32)) OR (NEW.seq > 0 AND NOT EXISTS "
            "(SELECT 1 FROM ledger_entry WHERE seq = NEW.seq - 1 AND entry_hash = NEW.prev_hash)) "
            "BEGIN SELECT RAISE(ABORT, 'a6ledger: entry does not extend the chain head'); END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_chain_link ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS a6_reject_mutation()")
        op.execute("DROP FUNCTION IF EXISTS a6_check_chain_link()")
    op.drop_table("merkle_node")
    op.drop_index("ix_ledger_entry_kind_seq", table_name="ledger_entry")
    op.drop_table("ledger_entry")
