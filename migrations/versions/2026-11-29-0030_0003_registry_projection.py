"""Registry projection: parties, registries, approaches, authorizations, accounts, unit blocks.

The database guarantees that active unit blocks never overlap within (cooperative approach,
originating registry, first transferring Party, vintage), and that block history is append-only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "account",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("registry_id", sa.String(length=5), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_registry_id"), ["registry_id"], unique=False)

    op.create_table(
        "authorization",
        sa.Column("authorization_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("authorization_id", "version", name=op.f("pk_authorization")),
    )
    op.create_table(
        "authorized_entity",
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_authorized_entity")),
    )
    op.create_table(
        "block_event",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", "block_id", name=op.f("pk_block_event")),
    )
    with op.batch_alter_table("block_event", schema=None) as batch_op:
        batch_op.create_index("ix_block_event_block", ["block_id"], unique=False)

    op.create_table(
        "cooperative_approach",
        sa.Column("ca_id", sa.String(length=6), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ca_id", name=op.f("pk_cooperative_approach")),
    )
    op.create_table(
        "first_transfer_definition",
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("ca_id", sa.String(length=6), nullable=False),
        sa.Column("definition", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("party", "ca_id", name=op.f("pk_first_transfer_definition")),
    )
    op.create_table(
        "party",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_party")),
    )
    op.create_table(
        "registry",
        sa.Column("registry_id", sa.String(length=5), nullable=False),
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("registry_id", name=op.f("pk_registry")),
    )
    op.create_table(
        "unit_block",
        sa.Column("block_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ca_id", sa.String(length=6), nullable=False),
        sa.Column("registry_id", sa.String(length=5), nullable=False),
        sa.Column("first_transferring_party", sa.String(length=3), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("authorization_id", sa.String(length=64), nullable=True),
        sa.Column("superseded_seq", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "first_serial >= 1 AND last_serial >= first_serial",
            name=op.f("ck_unit_block_serial_range"),
        ),
        sa.CheckConstraint("vintage >= 2021", name=op.f("ck_unit_block_vintage_from_2021")),
        sa.PrimaryKeyConstraint("block_id", name=op.f("pk_unit_block")),
    )
    with op.batch_alter_table("unit_block", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unit_block_account_active", ["account_id", "active"], unique=False
        )
        batch_op.create_index("ix_unit_block_authorization", ["authorization_id"], unique=False)
        batch_op.create_index(
            "ix_unit_block_key_range",
            ["ca_id", "registry_id", "first_transferring_party", "vintage", "first_serial"],
            unique=False,
        )
    _create_triggers(op.get_bind().dialect.name)


PG_OVERLAP = """
CREATE FUNCTION a6_check_block_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Serialize every writer of unit blocks, so the check below cannot race.
    PERFORM pg_advisory_xact_lock(29989412391617639);
    IF NEW.active AND EXISTS (
        SELECT 1 FROM unit_block b
        WHERE b.active AND b.block_id <> NEW.block_id
          AND b.ca_id = NEW.ca_id AND b.registry_id = NEW.registry_id
          AND b.first_transferring_party = NEW.first_transferring_party
          AND b.vintage = NEW.vintage
          AND b.first_serial <= NEW.last_serial AND b.last_serial >= NEW.first_serial
    ) THEN
        RAISE EXCEPTION 'a6ledger: unit block % overlaps an active block of %-%-%-%',
            NEW.block_id, NEW.ca_id, NEW.registry_id, NEW.first_transferring_party, NEW.vintage
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END $$
"""

SQLITE_OVERLAP_CONDITION = (
    "NEW.active AND EXISTS (SELECT 1 FROM unit_block b WHERE b.active "
    "AND b.block_id <> NEW.block_id AND b.ca_id = NEW.ca_id AND b.registry_id = NEW.registry_id "
    "AND b.first_transferring_party = NEW.first_transferring_party AND b.vintage = NEW.vintage "
    "AND b.first_serial <= NEW.last_serial AND b.last_serial >= NEW.first_serial)"
)


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(PG_OVERLAP)
        op.execute(
            "CREATE TRIGGER unit_block_no_overlap BEFORE INSERT OR UPDATE ON unit_block "
            "FOR EACH ROW EXECUTE FUNCTION a6_check_block_overlap()"
        )
        op.execute(
            "CREATE TRIGGER block_event_append_only BEFORE UPDATE OR DELETE ON block_event "
            "FOR EACH ROW EXECUTE FUNCTION a6_reject_mutation()"
        )
        op.execute(
            "CREATE TRIGGER block_event_no_truncate BEFORE TRUNCATE ON block_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION a6_reject_mutation()"
        )
        return
    for operation in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER unit_block_no_overlap_{operation.lower()} BEFORE {operation} "
            f"ON unit_block WHEN {SQLITE_OVERLAP_CONDITION} BEGIN SELECT RAISE(ABORT, "
            "'a6ledger: unit block overlaps an active block of the same key'); END"
        )
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER block_event_no_{operation.lower()} BEFORE {operation} ON block_event "
            f"BEGIN SELECT RAISE(ABORT, 'a6ledger: {operation} on block_event is forbidden: "
            "the table is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS unit_block_no_overlap ON unit_block")
        op.execute("DROP TRIGGER IF EXISTS block_event_append_only ON block_event")
        op.execute("DROP TRIGGER IF EXISTS block_event_no_truncate ON block_event")
        op.execute("DROP FUNCTION IF EXISTS a6_check_block_overlap()")
    with op.batch_alter_table("unit_block", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_block_key_range")
        batch_op.drop_index("ix_unit_block_authorization")
        batch_op.drop_index("ix_unit_block_account_active")

    op.drop_table("unit_block")
    op.drop_table("registry")
    op.drop_table("party")
    op.drop_table("first_transfer_definition")
    op.drop_table("cooperative_approach")
    with op.batch_alter_table("block_event", schema=None) as batch_op:
        batch_op.drop_index("ix_block_event_block")

    op.drop_table("block_event")
    op.drop_table("authorized_entity")
    op.drop_table("authorization")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_registry_id"))

    op.drop_table("account")
