"""Signed checkpoints, shared by every replica: the trees the log has signed, insert-only.

One row per signed tree that was larger than every tree signed before it (size, root, when),
inserted by the service under the chain's append lock after checking that the stored log holds
that tree; the service refuses to sign, and to append, while the stored log no longer holds the
largest row (``ledger.log.checkpoints``, ``ledger.adapters.sql.signed_trees``). Inserts only from
the service's write transactions (``a6_writer_insert_only`` of 0008 on PostgreSQL,
``a6ledger_writer()`` on SQLite); UPDATE, DELETE and TRUNCATE are refused.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "signed_checkpoint"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        TABLE,
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tree_size > 0", name=op.f("ck_signed_checkpoint_size")),
        sa.CheckConstraint("length(root_hash) = 32", name=op.f("ck_signed_checkpoint_root")),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_signed_checkpoint")),
    )
    if dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_guard BEFORE INSERT OR UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION a6_writer_insert_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_guard_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_truncate()"
        )
        return
    for name, operation, condition, reason in _sqlite_triggers():
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f'CREATE TRIGGER {name} BEFORE {operation} ON "{TABLE}"{when} BEGIN SELECT '
            f"RAISE(ABORT, 'a6ledger: {operation} on {TABLE} {reason}'); END"
        )


def _sqlite_triggers() -> list[tuple[str, str, str, str]]:
    return [
        (
            f"{TABLE}_writer_insert",
            "INSERT",
            "NOT a6ledger_writer()",
            "is refused outside the service write transactions",
        ),
        (f"{TABLE}_no_update", "UPDATE", "", "is forbidden"),
        (f"{TABLE}_no_delete", "DELETE", "", "is forbidden"),
    ]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_guard_truncate ON {TABLE}")
    else:
        for name, *_rest in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(TABLE)
