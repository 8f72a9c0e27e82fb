"""Witness cosignatures of checkpoints, and what this instance saw as the witness of partner logs
(SQLAlchemy Core), on the ledger's ``metadata``.

``checkpoint_cosignature`` holds one row per (tree size, witness key ID): the witness's signature
line exactly as verified, its timestamp, and the seq of the ``checkpoint.cosigned`` ledger entry
written in the same transaction (a foreign key checked at commit). The root is not stored: it is
recomputed from the Merkle tree whenever the line is checked or served. The table is append-only
(migration 0005 installs triggers that reject UPDATE and DELETE, and TRUNCATE on PostgreSQL).

``witnessed_checkpoint`` holds the partner logs' checkpoints this instance cosigned as their
witness (C2SP tlog-witness), one row per (origin, tree size): the largest of an origin is the one
the next ``add-checkpoint`` must extend. ``witness_evidence`` keeps each signed checkpoint the
witness refused as a fork, with the proof it came with and the note it contradicts. Both are
append-only (migration 0011).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
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

witnessed_checkpoint = Table(
    "witnessed_checkpoint",
    metadata,
    Column("origin", Text, primary_key=True),
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("signed_note", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("tree_size >= 0", name="non_negative"),
)

witness_evidence = Table(
    "witness_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", Text, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("old_size", BigInteger, nullable=False),
    # The consistency proof as sent: base64 hashes, one per line.
    Column("proof", Text, nullable=False),
    Column("submitted_note", Text, nullable=False),
    Column("cosigned_note", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("old_size >= 0", name="non_negative"),
)
