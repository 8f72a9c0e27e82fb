"""Cost per action flat in history size: partial indexes on active and held unit blocks, and an
overlap check against the neighbouring active block only.

The overlap trigger of 0003 tested ``first_serial <= NEW.last_serial AND last_serial >=
NEW.first_serial`` over the key's range index, which bounds one side only: it read every block
of the key from serial 1, superseded ones included, so each action cost more as the history
grew. Active blocks of a key never overlap (the trigger itself keeps it so), hence a new block
overlaps an active block exactly when it overlaps the active block with the greatest
``first_serial <= NEW.last_serial``: one probe of a partial index on active blocks.

- ``ix_unit_block_active_key`` (key, first_serial) WHERE active: the overlap trigger, the
  neighbouring-block queries of the projection and the next serial of an issuance.
- ``ix_unit_block_held`` (account, vintage, key, first_serial) WHERE active AND NOT retired:
  an account's held blocks in selection order (oldest vintage first), read page by page until
  the quantity an action takes is met.

The predicates are spelled as the adapter's queries spell them (``active = 1`` on SQLite, whose
planner uses a partial index only for a query term that matches it exactly).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "ca_id, registry_id, first_transferring_party, vintage"
SAME_KEY = (
    "b.ca_id = NEW.ca_id AND b.registry_id = NEW.registry_id "
    "AND b.first_transferring_party = NEW.first_transferring_party AND b.vintage = NEW.vintage"
)

PG_OVERLAP = f"""
CREATE OR REPLACE FUNCTION a6_check_block_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Serialize every writer of unit blocks, so the check below cannot race.
    PERFORM pg_advisory_xact_lock(29989412391617639);
    IF NEW.active AND COALESCE((
        SELECT b.last_serial FROM unit_block b
        WHERE b.active = true AND {SAME_KEY}
          AND b.first_serial <= NEW.last_serial AND b.block_id <> NEW.block_id
        ORDER BY b.first_serial DESC LIMIT 1
    ), 0) >= NEW.first_serial THEN
        RAISE EXCEPTION 'a6ledger: unit block % overlaps an active block of %-%-%-%',
            NEW.block_id, NEW.ca_id, NEW.registry_id, NEW.first_transferring_party, NEW.vintage
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END $$
"""

SQLITE_OVERLAP_CONDITION = (
    "NEW.active AND COALESCE((SELECT b.last_serial FROM unit_block b "
    f"WHERE b.active = 1 AND {SAME_KEY} "
    "AND b.first_serial <= NEW.last_serial AND b.block_id <> NEW.block_id "
    "ORDER BY b.first_serial DESC LIMIT 1), 0) >= NEW.first_serial"
)

# 0003's condition, restored by the downgrade.
OLD_SQLITE_OVERLAP_CONDITION = (
    "NEW.active AND EXISTS (SELECT 1 FROM unit_block b WHERE b.active "
    "AND b.block_id <> NEW.block_id AND b.ca_id = NEW.ca_id AND b.registry_id = NEW.registry_id "
    "AND b.first_transferring_party = NEW.first_transferring_party AND b.vintage = NEW.vintage "
    "AND b.first_serial <= NEW.last_serial AND b.last_serial >= NEW.first_serial)"
)
OLD_PG_OVERLAP = """
CREATE OR REPLACE FUNCTION a6_check_block_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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


def _sqlite_overlap_triggers(condition: str) -> None:
    for operation in ("INSERT", "UPDATE"):
        name = f"unit_block_no_overlap_{operation.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON unit_block WHEN {condition} "
            "BEGIN SELECT RAISE(ABORT, "
            "'a6ledger: unit block overlaps an active block of the same key'); END"
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    active, held = ("active", "active AND NOT retired")
    if dialect == "postgresql":
        op.execute("SET LOCAL lock_timeout = '5s'")
    else:
        active, held = ("active = 1", "active = 1 AND retired = 0")
    op.execute(
        f"CREATE INDEX ix_unit_block_active_key ON unit_block ({KEY}, first_serial) WHERE {active}"
    )
    op.execute(
        "CREATE INDEX ix_unit_block_held ON unit_block "
        f"(account_id, vintage, ca_id, registry_id, first_transferring_party, first_serial) "
        f"WHERE {held}"
    )
    if dialect == "postgresql":
        op.execute(PG_OVERLAP)
    else:
        _sqlite_overlap_triggers(SQLITE_OVERLAP_CONDITION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OLD_PG_OVERLAP)
    else:
        _sqlite_overlap_triggers(OLD_SQLITE_OVERLAP_CONDITION)
    op.execute("DROP INDEX ix_unit_block_held")
    op.execute("DROP INDEX ix_unit_block_active_key")
