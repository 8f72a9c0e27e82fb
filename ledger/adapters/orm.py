"""Table definitions (SQLAlchemy Core). Alembic migrations create them; ``alembic check`` keeps
this metadata and the migrations in step.

``ledger_entry`` and ``merkle_node`` are append-only: the migrations install triggers that reject
UPDATE and DELETE (and TRUNCATE on PostgreSQL). Projections such as holdings live in their own
tables, written in the same transaction as the entries they derive from.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
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

APPEND_ONLY_TABLES = ("ledger_entry", "merkle_node")
