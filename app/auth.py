"""HTTP authentication and authorization: bearer tokens, role checks and the FastAPI
dependencies that enforce them.

Tokens, roles and principals are ledger records (:mod:`ledger.access`: issuing, revoking and
verifying a token); this module reads ``Authorization: Bearer <token>``, answers 401 for a
missing, invalid or revoked token and 403 for a role or registry that may not act.

Roles:

- ``admin``: Parties, cooperative approaches, tokens. Never moves units.
- ``registry``: bound to one Party registry (e.g. ``JPN01``); moves only its own units and
  records only its own authorizations (:func:`ensure_registry`).

Only admin tokens, and registry tokens acting for their own registry, may date an action other
than the day it is recorded (:func:`ensure_may_date`).
- ``reconciler``: reads, runs consistency checks.
- ``auditor``: reads everything, exports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.admission import StorageDep, client_address, refuse_throttled_callers, throttle_of
from app.problems import HttpProblem
from ledger.access import READ_ROLES, Principal, Role, authenticate

__all__ = [
    "READ_ROLES",
    "AdminDep",
    "AdminOrRegistryDep",
    "AuditorDep",
    "Caller",
    "CallerDep",
    "Principal",
    "PrincipalDep",
    "ReaderDep",
    "ReconcilerDep",
    "ReconcilingDep",
    "RegistryForbidden",
    "RegistryWriterDep",
    "Role",
    "ensure_may_date",
    "ensure_registry",
    "get_caller",
    "get_principal",
    "require_roles",
]


class RegistryForbidden(HttpProblem):
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
        super().__init__(403, detail, rule="registry-token-own-registry")


def ensure_may_date(
    principal: Principal, registry_ids: Collection[str], action_date: date | None, today: date
) -> None:
    """403 (rule ``action-date-by-acting-registry``) unless the action is dated today (or not
    dated), or the caller is an admin token or the registry token of one of ``registry_ids``
    (the registries acting). The entry records who dated it: its ``actor``."""
    if action_date is None or action_date == today or principal.role is Role.admin:
        return
    if principal.role is Role.registry and principal.registry_id in registry_ids:
        return
    raise HttpProblem(
        403,
        f"token {principal.token_id} ({principal.role.value}) may not date an action "
        f"{action_date.isoformat()}: only admin tokens and the registry acting "
        f"({', '.join(sorted(registry_ids)) or 'none'}) may",
        rule="action-date-by-acting-registry",
        action_date=action_date.isoformat(),
        registries=sorted(registry_ids),
    )


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    bearerFormat="a6l_<token_id>_<secret>",
    description="API token issued with `a6ledger tokens create`.",
)


def _unauthenticated(detail: str, error: str | None) -> HttpProblem:
    challenge = 'Bearer realm="a6ledger"'
    if error is not None:
        challenge += f', error="{error}"'
    return HttpProblem(
        401, detail, rule="bearer-token-valid", headers={"WWW-Authenticate": challenge}
    )


@dataclass(frozen=True)
class Caller:
    """Who sent the request: ``presented`` tells whether it carried a bearer token, ``principal``
    is that token's principal when the token is valid and unrevoked."""

    presented: bool
    principal: Principal | None


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _throttled: Annotated[None, Depends(refuse_throttled_callers)],
    storage: StorageDep,
) -> Caller:
    """Authenticate the request's bearer token, if any, before any other database work.

    The look-up runs in its own unit of work, whose connection is back in the pool before the
    route opens its own: a request never holds one pooled connection while it waits for
    another. An invalid token counts against the client address's budget of failed attempts
    (:mod:`app.admission`)."""
    if credentials is None:
        return Caller(presented=False, principal=None)
    # Again now that the permit is held: a burst from one address may have waited for
    # permits while its first attempts failed.
    await refuse_throttled_callers(request)
    principal = await run_in_threadpool(authenticate, storage, credentials.credentials)
    if principal is None:
        throttle_of(request).record_failure(client_address(request))
    else:
        request.state.actor = principal.actor
    return Caller(presented=True, principal=principal)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_principal(caller: CallerDep) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 when missing, invalid or revoked."""
    if not caller.presented:
        raise _unauthenticated("a bearer token is required", None)
    if caller.principal is None:
        raise _unauthenticated("the bearer token is invalid or revoked", "invalid_token")
    return caller.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 otherwise)."""
    allowed = frozenset(roles)
    names = ", ".join(role.value for role in roles)

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise HttpProblem(
                403,
                f"role {principal.role.value} may not do this; allowed: {names}",
                rule="role-allowed",
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
