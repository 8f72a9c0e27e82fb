"""What this instance saw as the witness of partner logs (C2SP tlog-witness), append-only.

``witnessed_checkpoint``: one row per (origin, tree size) that the witness cosigned; the largest
of an origin is the one the next ``add-checkpoint`` must extend. ``witness_evidence``: each signed
checkpoint the witness refused as a fork, with the consistency proof it came with and the note it
contradicts. UPDATE and DELETE are rejected by triggers (and TRUNCATE on PostgreSQL), in the style
of 0005.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("witnessed_checkpoint", "witness_evidence")


def _append_only(dialect: str, table: str) -> None:
    if dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION a6_reject_mutation()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_mutation()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'a6ledger: {operation} on {table} is forbidden: "
            "the table is append-only'); END"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "witnessed_checkpoint",
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tree_size >= 0", name=op.f("ck_witnessed_checkpoint_non_negative")),
        sa.PrimaryKeyConstraint("origin", "tree_size", name=op.f("pk_witnessed_checkpoint")),
    )
    op.create_table(
        "witness_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("old_size", sa.BigInteger(), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.Column("submitted_note", sa.Text(), nullable=False),
        sa.Column("cosigned_note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("old_size >= 0", name=op.f("ck_witness_evidence_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_witness_evidence")),
    )
    op.create_index(
        op.f("ix_witness_evidence_origin"), "witness_evidence", ["origin"], unique=False
    )
    for table in TABLES:
        _append_only(dialect, table)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    op.drop_index(op.f("ix_witness_evidence_origin"), table_name="witness_evidence")
    op.drop_table("witness_evidence")
    op.drop_table("witnessed_checkpoint")
