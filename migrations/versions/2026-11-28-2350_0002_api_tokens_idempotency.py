"""API tokens (hashed secrets) and idempotency records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "api_token",
        sa.Column("token_id", sa.String(length=32), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("registry_id", sa.String(length=16), nullable=True),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'registry', 'reconciler', 'auditor')",
            name=op.f("ck_api_token_role_known"),
        ),
        sa.CheckConstraint(
            "(role = 'registry' AND registry_id IS NOT NULL) "
            "OR (role <> 'registry' AND registry_id IS NULL)",
            name=op.f("ck_api_token_registry_binding"),
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_token")),
    )
    op.create_table(
        "idempotency_record",
        sa.Column("token_id", sa.String(length=32), autoincrement=False, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), autoincrement=False, nullable=False),
        sa.Column("request_fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("request_method", sa.String(length=16), nullable=False),
        sa.Column("request_path", sa.String(length=2048), nullable=False),
        sa.Column("response_status", sa.SmallInteger(), nullable=False),
        sa.Column("response_headers", sa.Text(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("tree_size", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "response_status >= 100 AND response_status < 600",
            name=op.f("ck_idempotency_record_status_range"),
        ),
        sa.CheckConstraint(
            "(first_seq IS NULL AND last_seq IS NULL) "
            "OR (first_seq >= 0 AND last_seq >= first_seq AND tree_size > last_seq)",
            name=op.f("ck_idempotency_record_seq_range"),
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_token.token_id"],
            name=op.f("fk_idempotency_record_token_id_api_token"),
        ),
        sa.PrimaryKeyConstraint("token_id", "idempotency_key", name=op.f("pk_idempotency_record")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_record")
    op.drop_table("api_token")
