"""Bearer tokens, roles and the FastAPI dependencies that enforce them.

A token reads ``a6l_<token_id>_<secret>``: ``token_id`` (``tok_`` + 12 base32 characters) names
the row in ``api_token``, ``secret`` is 32 random bytes in unpadded URL-safe base64. Only the
SHA-256 of the secret is stored, and it is compared in constant time. The secret is shown once,
when the token is created.

Roles:

- ``admin``: Parties, cooperative approaches, tokens. Never moves units.
- ``registry``: bound to one Party registry (e.g. ``JPN01``); moves only its own units and
  records only its own authorizations (:func:`ensure_registry`).
- ``reconciler``: reads, runs consistency checks.
- ``auditor``: reads everything, exports.

Creating and revoking a token is recorded in the ledger (``token.created`` / ``token.revoked``,
with the token id, role and registry; never the secret or its hash) in the same transaction.
Ledger entries name the acting token as ``token:<token_id>`` (:attr:`Principal.actor`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine, RowMapping, insert, select, update

from app.deps import EngineDep
from ledger.adapters.sql.orm_api import api_token
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork, utc_now
from ledger.errors import Conflict, InvalidInput, NotFound

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


class InvalidTokenRequest(InvalidInput):
    """A token needs a known role and a name; registry tokens need exactly one registry id
    (Party alpha-3 code + 2 digits) and other roles none."""

    rule = "token-role-binding"


class TokenNotFound(NotFound):
    """No token with that id exists."""

    rule = "token-exists"


class TokenAlreadyRevoked(Conflict):
    """A revoked token stays revoked; it cannot be revoked again."""

    rule = "token-revoked-once"


class RegistryForbidden(HTTPException):
    """403: a registry token acts only for its own registry; other roles never move units."""

    def __init__(self, principal: Principal, registry_id: str) -> None:
        if principal.role is Role.registry:
            detail = (
                f"token {principal.token_id} acts for registry {principal.registry_id}, "
                f"not for {registry_id}"
            )
        else:
            detail = (
                f"only the registry {registry_id} may do this; role {principal.role.value} may not"
            )
        super().__init__(status_code=403, detail=detail)


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


# --- token management (CLI, admin routes, tests) ----------------------------------------------


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
    uow: SqlAlchemyUnitOfWork,
    name: str,
    role: Role | str,
    registry_id: str | None = None,
    *,
    actor: str,
) -> tuple[Principal, str]:
    """Create a token inside a write unit of work and record ``token.created`` in the ledger.

    Returns the principal and the full token text, which is not stored anywhere."""
    parsed = _validate(name, role, registry_id)
    token_id = new_token_id()
    secret = new_secret()
    uow.connection.execute(
        insert(api_token).values(
            token_id=token_id,
            name=name,
            role=parsed.value,
            registry_id=registry_id,
            secret_hash=hash_secret(secret),
            created_at=utc_now(),
            revoked_at=None,
        )
    )
    uow.log.append(
        KIND_TOKEN_CREATED,
        {"token_id": token_id, "role": parsed.value, "registry": registry_id},
        actor=actor,
    )
    return Principal(token_id, parsed, registry_id), format_token(token_id, secret)


def withdraw_token(uow: SqlAlchemyUnitOfWork, token_id: str, *, actor: str) -> TokenInfo:
    """Revoke a token inside a write unit of work and record ``token.revoked`` in the ledger."""
    info = _read_token(uow.connection, token_id)
    if info is None:
        raise TokenNotFound(f"no token {token_id}", token_id=token_id)
    if info.revoked_at is not None:
        raise TokenAlreadyRevoked(f"token {token_id} is already revoked", token_id=token_id)
    moment = utc_now()
    uow.connection.execute(
        update(api_token).where(api_token.c.token_id == token_id).values(revoked_at=moment)
    )
    uow.log.append(
        KIND_TOKEN_REVOKED,
        {"token_id": token_id, "role": info.role.value, "registry": info.registry_id},
        actor=actor,
    )
    return TokenInfo(info.token_id, info.name, info.role, info.registry_id, info.created_at, moment)


def create_token(
    engine: Engine,
    name: str,
    role: Role | str,
    registry_id: str | None = None,
    *,
    actor: str = "cli",
) -> tuple[Principal, str]:
    """Create a token in its own transaction; returns the principal and the token text."""
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        result = issue_token(uow, name, role, registry_id, actor=actor)
        uow.commit()
    return result


def revoke_token(engine: Engine, token_id: str, *, actor: str = "cli") -> TokenInfo:
    """Revoke a token in its own transaction. Requests bearing it fail with 401 from then on."""
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        info = withdraw_token(uow, token_id, actor=actor)
        uow.commit()
    return info


def _row_to_info(row: RowMapping) -> TokenInfo:
    return TokenInfo(
        token_id=row["token_id"],
        name=row["name"],
        role=Role(row["role"]),
        registry_id=row["registry_id"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


_INFO_COLUMNS = (
    api_token.c.token_id,
    api_token.c.name,
    api_token.c.role,
    api_token.c.registry_id,
    api_token.c.created_at,
    api_token.c.revoked_at,
)


def _read_token(conn: Connection, token_id: str) -> TokenInfo | None:
    query = select(*_INFO_COLUMNS).where(api_token.c.token_id == token_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else _row_to_info(row)


def list_tokens(engine: Engine) -> list[TokenInfo]:
    """Every token ever issued, oldest first (revoked ones included)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(*_INFO_COLUMNS).order_by(api_token.c.created_at, api_token.c.token_id)
            )
            .mappings()
            .all()
        )
    return [_row_to_info(row) for row in rows]


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; ``None`` for anything else."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    token_id, secret = parsed
    with engine.connect() as conn:
        row = conn.execute(
            select(
                api_token.c.role,
                api_token.c.registry_id,
                api_token.c.secret_hash,
                api_token.c.revoked_at,
            ).where(api_token.c.token_id == token_id)
        ).first()
    stored = _NO_SECRET_HASH if row is None else bytes(row.secret_hash)
    matches = hmac.compare_digest(stored, hash_secret(secret))
    if row is None or not matches or row.revoked_at is not None:
        return None
    return Principal(token_id, Role(row.role), row.registry_id)


# --- FastAPI dependencies ---------------------------------------------------------------------

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    bearerFormat="a6l_<token_id>_<secret>",
    description="API token issued with `a6ledger tokens create`.",
)


def _unauthenticated(detail: str, error: str | None) -> HTTPException:
    challenge = 'Bearer realm="a6ledger"'
    if error is not None:
        challenge += f', error="{error}"'
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


def get_principal(
    request: Request,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 when missing, invalid or revoked."""
    if credentials is None:
        raise _unauthenticated("a bearer token is required", None)
    principal = authenticate(engine, credentials.credentials)
    if principal is None:
        raise _unauthenticated("the bearer token is invalid or revoked", "invalid_token")
    request.state.actor = principal.actor
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 otherwise)."""
    allowed = frozenset(roles)
    names = ", ".join(role.value for role in roles)

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                status_code=403,
                detail=f"role {principal.role.value} may not do this; allowed: {names}",
            )
        return principal

    dependency.__name__ = f"require_{'_or_'.join(role.value for role in roles)}"
    return dependency


def ensure_registry(principal: Principal, registry_id: str) -> None:
    """403 unless ``principal`` is the registry token of ``registry_id``.

    Only the owning registry moves its units and records its authorizations: another
    registry's token is refused, and so are admin, reconciler and auditor tokens."""
    if principal.role is not Role.registry or principal.registry_id != registry_id:
        raise RegistryForbidden(principal, registry_id)


AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]
ReaderDep = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
RegistryWriterDep = Annotated[Principal, Depends(require_roles(Role.registry))]
ReconcilerDep = Annotated[Principal, Depends(require_roles(Role.reconciler))]
AuditorDep = Annotated[Principal, Depends(require_roles(Role.auditor))]
AdminOrRegistryDep = Annotated[Principal, Depends(require_roles(Role.admin, Role.registry))]
ReconcilingDep = Annotated[
    Principal, Depends(require_roles(Role.admin, Role.registry, Role.reconciler))
]
