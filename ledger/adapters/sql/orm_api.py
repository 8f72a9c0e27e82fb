"""API tables (SQLAlchemy Core): bearer tokens and idempotency records.

They live on the same ``metadata`` as the ledger tables, so ``alembic check`` covers them.

- ``api_token``: one row per issued token. Only the SHA-256 of the secret is stored; the secret
  itself is shown once, when the token is created. Tokens are revoked, never deleted.
- ``idempotency_record``: the response of a write made with an ``Idempotency-Key``, keyed by the
  token that made it and the key, so a retry gets the original response back instead of a second
  append. ``request_fingerprint`` is the SHA-256 of method, path and canonical body: the same key
  with a different request is refused.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)

from ledger.adapters.sql.orm import metadata

TOKEN_ROLES = ("admin", "registry", "reconciler", "auditor")

api_token = Table(
    "api_token",
    metadata,
    Column("token_id", String(32), primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("registry_id", String(16), nullable=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(
        "role IN ('admin', 'registry', 'reconciler', 'auditor')",
        name="role_known",
    ),
    CheckConstraint(
        "(role = 'registry' AND registry_id IS NOT NULL) "
        "OR (role <> 'registry' AND registry_id IS NULL)",
        name="registry_binding",
    ),
)

idempotency_record = Table(
    "idempotency_record",
    metadata,
    Column(
        "token_id",
        String(32),
        ForeignKey("api_token.token_id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("idempotency_key", String(255), primary_key=True, autoincrement=False),
    Column("request_fingerprint", LargeBinary(32), nullable=False),
    Column("request_method", String(16), nullable=False),
    Column("request_path", String(2048), nullable=False),
    Column("response_status", SmallInteger, nullable=False),
    Column("response_headers", Text, nullable=False),
    Column("response_body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("first_seq", BigInteger, nullable=True),
    Column("last_seq", BigInteger, nullable=True),
    Column("tree_size", BigInteger, nullable=True),
    CheckConstraint("response_status >= 100 AND response_status < 600", name="status_range"),
    CheckConstraint(
        "(first_seq IS NULL AND last_seq IS NULL) "
        "OR (first_seq >= 0 AND last_seq >= first_seq AND tree_size > last_seq)",
        name="seq_range",
    ),
)
