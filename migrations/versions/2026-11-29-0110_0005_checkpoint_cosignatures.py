"""Witness cosignatures of checkpoints, append-only.

One row per (tree size, witness key ID), linked to the ``checkpoint.cosigned`` ledger entry that
records it. UPDATE and DELETE are rejected by triggers (and TRUNCATE on PostgreSQL), in the style
of 0001 and 0003.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "checkpoint_cosignature"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        TABLE,
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(length=8), autoincrement=False, nullable=False),
        sa.Column("key_name", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("signature_line", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "tree_size >= 0 AND timestamp >= 0", name=op.f("ck_checkpoint_cosignature_non_negative")
        ),
        sa.CheckConstraint("length(key_id) = 8", name=op.f("ck_checkpoint_cosignature_key_id_hex")),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["ledger_entry.seq"],
            name=op.f("fk_checkpoint_cosignature_seq_ledger_entry"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("tree_size", "key_id", name=op.f("pk_checkpoint_cosignature")),
        sa.UniqueConstraint("seq", name=op.f("uq_checkpoint_cosignature_seq")),
    )
    if dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION a6_reject_mutation()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_mutation()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'a6ledger: {operation} on {TABLE} is forbidden: "
            "the table is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{operation}")
    op.drop_table(TABLE)
