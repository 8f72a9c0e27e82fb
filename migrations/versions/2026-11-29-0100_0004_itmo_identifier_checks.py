"""The database validates the ITMO identifier elements of every unit block.

Cooperative approach ``CA`` + 4 digits, Party ITMO registry = Party code + 2 digits, first
transferring Party = ISO 3166-1 alpha-3 (6/CMA.4 annex I para 5; formats per the common
nomenclatures). PostgreSQL: a CHECK constraint; SQLite (which cannot add one to an existing
table without rebuilding it and its triggers): BEFORE INSERT/UPDATE triggers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_CHECK = (
    "ca_id ~ '^CA[0-9]{4}$' AND registry_id ~ '^[A-Z]{3}[0-9]{2}$' "
    "AND first_transferring_party ~ '^[A-Z]{3}$'"
)
SQLITE_VALID = (
    "NEW.ca_id GLOB 'CA[0-9][0-9][0-9][0-9]' AND length(NEW.ca_id) = 6 "
    "AND NEW.registry_id GLOB '[A-Z][A-Z][A-Z][0-9][0-9]' AND length(NEW.registry_id) = 5 "
    "AND NEW.first_transferring_party GLOB '[A-Z][A-Z][A-Z]' "
    "AND length(NEW.first_transferring_party) = 3"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute(
            "ALTER TABLE unit_block ADD CONSTRAINT ck_unit_block_itmo_identifier "
            f"CHECK ({PG_CHECK})"
        )
        return
    for operation in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER unit_block_itmo_identifier_{operation.lower()} BEFORE {operation} "
            f"ON unit_block WHEN NOT ({SQLITE_VALID}) BEGIN SELECT RAISE(ABORT, "
            "'a6ledger: unit block has an invalid ITMO identifier element'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE unit_block DROP CONSTRAINT ck_unit_block_itmo_identifier")
        return
    for operation in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS unit_block_itmo_identifier_{operation}")
