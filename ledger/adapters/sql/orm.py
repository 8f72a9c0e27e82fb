"""Table definitions (SQLAlchemy Core). Alembic migrations create them; ``alembic check`` keeps
this metadata and the migrations in step.

``ledger_entry`` and ``merkle_node`` are append-only: the migrations install triggers that reject
UPDATE and DELETE (and TRUNCATE on PostgreSQL). Projections such as holdings live in their own
tables, written in the same transaction as the entries they derive from.

Every projection row is bound to the ledger entry that last wrote it (``seq``, ``entry_hash``)
and carries ``digest``, the SHA-256 of the row's state and binding
(``ledger.adapters.sql.projection.row_digest``); ``projection_count`` keeps how many rows each
projection table holds. Migration 0008 refuses INSERT and UPDATE of these tables outside the
service's write transactions and DELETE always (``ledger.adapters.sql.guard``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    false,
    true,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ledger_entry = Table(
    "ledger_entry",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False, unique=True),
    Column("entry_hash", LargeBinary(32), nullable=False, unique=True),
    Column("body", LargeBinary, nullable=False),
    CheckConstraint("seq >= 0", name="seq_non_negative"),
)
Index("ix_ledger_entry_kind_seq", ledger_entry.c.kind, ledger_entry.c.seq)

merkle_node = Table(
    "merkle_node",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    CheckConstraint("level >= 0 AND level < 64 AND idx >= 0", name="position"),
)

#: The trees the log signed, each larger than the one before (migration 0009): shared by every
#: replica, inserted under the append lock (ledger.adapters.sql.signed_trees), never changed.
signed_checkpoint = Table(
    "signed_checkpoint",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("tree_size > 0", name="size"),
    CheckConstraint("length(root_hash) = 32", name="root"),
)

APPEND_ONLY_TABLES = ("ledger_entry", "merkle_node", "block_event")

# --- Registry projection (rebuildable from the ledger; see ledger/registry/projection.py)
# Records are stored as their canonical JSON (``body``) plus the key columns queries need, and the
# binding to the entry that last wrote them.


def _binding() -> list[Column[Any]]:
    return [
        Column("seq", BigInteger, nullable=False),
        Column("entry_hash", LargeBinary(32), nullable=False),
        Column("digest", LargeBinary(32), nullable=False),
    ]


party = Table(
    "party",
    metadata,
    Column("code", String(3), primary_key=True),
    Column("body", Text, nullable=False),
    *_binding(),
)

registry = Table(
    "registry",
    metadata,
    Column("registry_id", String(5), primary_key=True),
    Column("party", String(3), nullable=False),
    Column("body", Text, nullable=False),
    *_binding(),
)

cooperative_approach = Table(
    "cooperative_approach",
    metadata,
    Column("ca_id", String(6), primary_key=True),
    Column("body", Text, nullable=False),
    *_binding(),
)

first_transfer_definition = Table(
    "first_transfer_definition",
    metadata,
    Column("party", String(3), primary_key=True),
    Column("ca_id", String(6), primary_key=True),
    Column("definition", String(32), nullable=False),
    *_binding(),
)

authorization = Table(
    "authorization",
    metadata,
    Column("authorization_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    *_binding(),
)

authorized_entity = Table(
    "authorized_entity",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("body", Text, nullable=False),
    *_binding(),
)

account = Table(
    "account",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("registry_id", String(5), nullable=False, index=True),
    Column("body", Text, nullable=False),
    *_binding(),
)

unit_block = Table(
    "unit_block",
    metadata,
    Column("block_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ca_id", String(6), nullable=False),
    Column("registry_id", String(5), nullable=False),
    Column("first_transferring_party", String(3), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("first_serial", BigInteger, nullable=False),
    Column("last_serial", BigInteger, nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("retired", Boolean, nullable=False),
    Column("authorization_id", String(64), nullable=True),
    Column("superseded_seq", BigInteger, nullable=True),
    Column("body", Text, nullable=False),
    *_binding(),
    CheckConstraint("first_serial >= 1 AND last_serial >= first_serial", name="serial_range"),
    CheckConstraint("vintage >= 2021", name="vintage_from_2021"),
)
Index("ix_unit_block_account_active", unit_block.c.account_id, unit_block.c.active)
Index(
    "ix_unit_block_key_range",
    unit_block.c.ca_id,
    unit_block.c.registry_id,
    unit_block.c.first_transferring_party,
    unit_block.c.vintage,
    unit_block.c.first_serial,
)
Index("ix_unit_block_authorization", unit_block.c.authorization_id)
# Migration 0013: the units in active blocks under an authorization, summed from the index alone.
Index(
    "ix_unit_block_authorized",
    unit_block.c.authorization_id,
    unit_block.c.first_serial,
    unit_block.c.last_serial,
    postgresql_where=unit_block.c.active,
    sqlite_where=unit_block.c.active == true(),
)
# Partial indexes of migration 0012 (the predicates as ledger.adapters.sql.projection spells them).
Index(
    "ix_unit_block_active_key",
    unit_block.c.ca_id,
    unit_block.c.registry_id,
    unit_block.c.first_transferring_party,
    unit_block.c.vintage,
    unit_block.c.first_serial,
    postgresql_where=unit_block.c.active,
    sqlite_where=unit_block.c.active == true(),
)
Index(
    "ix_unit_block_held",
    unit_block.c.account_id,
    unit_block.c.vintage,
    unit_block.c.ca_id,
    unit_block.c.registry_id,
    unit_block.c.first_transferring_party,
    unit_block.c.first_serial,
    postgresql_where=unit_block.c.active & ~unit_block.c.retired,
    sqlite_where=(unit_block.c.active == true()) & (unit_block.c.retired == false()),
)

block_event = Table(
    "block_event",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("block_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("first_serial", BigInteger, nullable=False),
    Column("last_serial", BigInteger, nullable=False),
    Column("account_id", String(64), nullable=False),
)
Index("ix_block_event_block", block_event.c.block_id)

# The entry index (``ledger.registry.entry_tags``): each entry under every Party, account and
# authorization it names, so a Party's reports read its own entries by index. Insert-only like
# ``block_event``, written with the entry, compared with a replay by ``verify-db``.
entry_tag = Table(
    "entry_tag",
    metadata,
    Column("tag", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)

# Which AEF versions each Party submitted for each reported year (``aef.submitted`` entries).
aef_submission = Table(
    "aef_submission",
    metadata,
    Column("party", String(3), primary_key=True),
    Column("reported_year", Integer, primary_key=True, autoincrement=False),
    Column("version", String(16), primary_key=True),
    *_binding(),
)

# Each recorded Joint Committee decision (``jcm.decision.recorded``) and what the issuances citing
# it issued to each of its accounts so far: ``body`` is the canonical JSON of
# ``ledger.registry.projection.decision_record``, rewritten by each issuance that cites it.
jc_decision = Table(
    "jc_decision",
    metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("body", Text, nullable=False),
    *_binding(),
)

# How many rows each projection table holds, bound to the entry that last added one: a row
# deleted or added outside the service shows as a count that differs.
projection_count = Table(
    "projection_count",
    metadata,
    Column("table_name", String(64), primary_key=True),
    Column("row_count", BigInteger, nullable=False),
    *_binding(),
)

PROJECTION_TABLES = (
    party,
    registry,
    cooperative_approach,
    first_transfer_definition,
    authorization,
    authorized_entity,
    account,
    unit_block,
    aef_submission,
    jc_decision,
)
