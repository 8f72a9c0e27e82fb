"""Witness cosignatures of checkpoints (SQLAlchemy Core), on the ledger's ``metadata``.

``checkpoint_cosignature`` holds one row per (tree size, witness key ID): the witness's signature
line exactly as verified, its timestamp, and the seq of the ``checkpoint.cosigned`` ledger entry
written in the same transaction (a foreign key checked at commit). The root is not stored: it is
recomputed from the Merkle tree whenever the line is checked or served. The table is append-only
(migration 0005 installs triggers that reject UPDATE and DELETE, and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
)

from ledger.adapters.sql.orm import metadata

checkpoint_cosignature = Table(
    "checkpoint_cosignature",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("key_id", String(8), primary_key=True, autoincrement=False),
    Column("key_name", Text, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("signature_line", Text, nullable=False),
    # Deferred: the ledger entry may reach the database only when the transaction commits.
    Column(
        "seq",
        BigInteger,
        ForeignKey("ledger_entry.seq", deferrable=True, initially="DEFERRED"),
        nullable=False,
        unique=True,
    ),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("tree_size >= 0 AND timestamp >= 0", name="non_negative"),
    CheckConstraint("length(key_id) = 8", name="key_id_hex"),
)
