"""API tokens as ledger records: who may act on the ledger, and the record of each grant.

A token reads ``a6l_<token_id>_<secret>``: ``token_id`` (``tok_`` + 12 base32 characters) names
the stored token, ``secret`` is 32 random bytes in unpadded URL-safe base64. Only the SHA-256 of
the secret is stored, and it is compared in constant time. The secret is shown once, when the
token is issued.

Roles:

- ``admin``: Parties, cooperative approaches, tokens. Never moves units.
- ``registry``: bound to one Party registry (e.g. ``JPN01``); moves only its own units and
  records only its own authorizations.
- ``reconciler``: reads, runs consistency checks.
- ``auditor``: reads everything, exports.

Issuing and revoking a token is recorded in the ledger (``token.created`` / ``token.revoked``,
with the token id, role and registry; never the secret or its hash) in the same unit of work.
Ledger entries name the acting token as ``token:<token_id>`` (:attr:`Principal.actor`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.ports import Storage, TokenRecord, UnitOfWork
from ledger.recording import record_entry

TOKEN_PREFIX = "a6l_"
TOKEN_ID_PREFIX = "tok_"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
TOKEN_ID_PATTERN = re.compile(r"^tok_[a-z2-7]{12}$")
TOKEN_PATTERN = re.compile(r"^a6l_(tok_[a-z2-7]{12})_([A-Za-z0-9_-]{43})$")
REGISTRY_ID_PATTERN = re.compile(r"^[A-Z]{3}\d{2}$")
SECRET_BYTES = 32
MAX_NAME_LENGTH = 200
#: Compared against when the token id is unknown, so every failure costs one digest comparison.
_NO_SECRET_HASH = hashlib.sha256(b"a6ledger: no such token").digest()

KIND_TOKEN_CREATED = "token.created"
KIND_TOKEN_REVOKED = "token.revoked"


class Role(StrEnum):
    admin = "admin"
    registry = "registry"
    reconciler = "reconciler"
    auditor = "auditor"


READ_ROLES: tuple[Role, ...] = (Role.admin, Role.registry, Role.reconciler, Role.auditor)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token, its role and (for registry tokens) the registry it acts for."""

    token_id: str
    role: Role
    registry_id: str | None = None

    @property
    def actor(self) -> str:
        """The actor recorded in ledger entries: the token id, never the secret."""
        return f"token:{self.token_id}"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: everything except the secret hash."""

    token_id: str
    name: str
    role: Role
    registry_id: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def of(cls, token: TokenRecord) -> TokenInfo:
        return cls(
            token.token_id,
            token.name,
            Role(token.role),
            token.registry_id,
            token.created_at,
            token.revoked_at,
        )


class InvalidTokenRequest(InvalidInput):
    """A token needs a known role and a name; registry tokens need exactly one registry id
    (Party alpha-3 code + 2 digits) and other roles none."""

    problem_type = "invalid-token-request"
    title = (
        "A token needs a known role, a name, and a registry id exactly when its role is registry"
    )
    rule = "token-role-binding"


class TokenNotFound(NotFound):
    """No token with that id exists."""

    problem_type = "token-not-found"
    title = "No token with that id exists"
    rule = "token-exists"


class TokenAlreadyRevoked(Conflict):
    """A revoked token stays revoked; it cannot be revoked again."""

    problem_type = "token-already-revoked"
    title = "A revoked token stays revoked; it cannot be revoked again"
    rule = "token-revoked-once"


# --- token text -------------------------------------------------------------------------------


def hash_secret(secret: str) -> bytes:
    """SHA-256 of the secret part of a token (its ASCII text)."""
    return hashlib.sha256(secret.encode("ascii")).digest()


def new_token_id() -> str:
    return TOKEN_ID_PREFIX + "".join(secrets.choice(_BASE32) for _ in range(12))


def new_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode("ascii")


def format_token(token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}{token_id}_{secret}"


def parse_token(text: str) -> tuple[str, str] | None:
    """``(token_id, secret)`` of a well-formed token, else ``None``."""
    match = TOKEN_PATTERN.fullmatch(text)
    if match is None:
        return None
    return match.group(1), match.group(2)


# --- use cases in the caller's unit of work ---------------------------------------------------


def _validate(name: str, role: Role | str, registry_id: str | None) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidTokenRequest(
            f"unknown role {role!r}; expected one of {', '.join(r.value for r in Role)}",
            role=str(role),
        ) from None
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidTokenRequest(
            f"a token name is 1 to {MAX_NAME_LENGTH} printable characters", name=name
        )
    if parsed is Role.registry:
        if registry_id is None or REGISTRY_ID_PATTERN.fullmatch(registry_id) is None:
            raise InvalidTokenRequest(
                "a registry token needs a registry id such as JPN01", registry=registry_id
            )
    elif registry_id is not None:
        raise InvalidTokenRequest(
            f"only registry tokens are bound to a registry, not {parsed.value} tokens",
            role=parsed.value,
            registry=registry_id,
        )
    return parsed


def issue_token(
    uow: UnitOfWork,
    name: str,
    role: Role | str,
    registry_id: str | None = None,
    *,
    actor: str,
) -> tuple[Principal, str]:
    """Store a new token and record ``token.created`` in the ledger, in ``uow`` (a writing
    unit of work; the caller commits).

    Returns the principal and the full token text, which is not stored anywhere."""
    parsed = _validate(name, role, registry_id)
    token_id = new_token_id()
    secret = new_secret()
    uow.tokens.add(
        TokenRecord(
            token_id=token_id,
            name=name,
            role=parsed.value,
            registry_id=registry_id,
            secret_hash=hash_secret(secret),
            created_at=uow.now(),
        )
    )
    record_entry(
        uow,
        KIND_TOKEN_CREATED,
        {"token_id": token_id, "role": parsed.value, "registry": registry_id},
        actor,
    )
    return Principal(token_id, parsed, registry_id), format_token(token_id, secret)


def withdraw_token(uow: UnitOfWork, token_id: str, *, actor: str) -> TokenInfo:
    """Revoke a token and record ``token.revoked`` in the ledger, in ``uow`` (a writing unit of
    work; the caller commits)."""
    stored = uow.tokens.get(token_id)
    if stored is None:
        raise TokenNotFound(f"no token {token_id}", token_id=token_id)
    if stored.revoked_at is not None:
        raise TokenAlreadyRevoked(f"token {token_id} is already revoked", token_id=token_id)
    moment = uow.now()
    uow.tokens.revoke(token_id, moment)
    record_entry(
        uow,
        KIND_TOKEN_REVOKED,
        {"token_id": token_id, "role": stored.role, "registry": stored.registry_id},
        actor,
    )
    return TokenInfo.of(replace(stored, revoked_at=moment))


def verify_token(uow: UnitOfWork, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; ``None`` for anything else."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    token_id, secret = parsed
    stored = uow.tokens.get(token_id)
    expected = _NO_SECRET_HASH if stored is None else stored.secret_hash
    matches = hmac.compare_digest(expected, hash_secret(secret))
    if stored is None or not matches or stored.revoked_at is not None:
        return None
    return Principal(token_id, Role(stored.role), stored.registry_id)


# --- each in its own transaction (command line, HTTP authentication, tests) ------------------


def create_token(
    storage: Storage,
    name: str,
    role: Role | str,
    registry_id: str | None = None,
    *,
    actor: str = "cli",
) -> tuple[Principal, str]:
    """Issue a token in its own transaction; returns the principal and the token text."""
    with storage.unit_of_work(write=True) as uow:
        result = issue_token(uow, name, role, registry_id, actor=actor)
        uow.commit()
    return result


def revoke_token(storage: Storage, token_id: str, *, actor: str = "cli") -> TokenInfo:
    """Revoke a token in its own transaction. Requests bearing it fail with 401 from then on."""
    with storage.unit_of_work(write=True) as uow:
        info = withdraw_token(uow, token_id, actor=actor)
        uow.commit()
    return info


def list_tokens(storage: Storage) -> list[TokenInfo]:
    """Every token ever issued, oldest first (revoked ones included)."""
    with storage.unit_of_work(write=False) as uow:
        return [TokenInfo.of(token) for token in uow.tokens.all()]


def authenticate(storage: Storage, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; ``None`` for anything else."""
    with storage.unit_of_work(write=False) as uow:
        return verify_token(uow, token)
