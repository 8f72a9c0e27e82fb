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

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
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
    "InvalidToken",
    "Principal",
    "PrincipalDep",
    "ReaderDep",
    "ReconcilerDep",
    "ReconcilingDep",
    "RegistryForbidden",
    "RegistryWriterDep",
    "Role",
    "VerifiedTokens",
    "checks_token_revocation",
    "ensure_may_date",
    "ensure_registry",
    "get_caller",
    "get_principal",
    "invalid_token",
    "principal_of",
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


def _challenge(error: str | None) -> dict[str, str]:
    challenge = 'Bearer realm="a6ledger"'
    if error is not None:
        challenge += f', error="{error}"'
    return {"WWW-Authenticate": challenge}


def _unauthenticated(detail: str, error: str | None) -> HttpProblem:
    return HttpProblem(401, detail, rule="bearer-token-valid", headers=_challenge(error))


class InvalidToken(HttpProblem):
    """401: the bearer token is unknown, malformed or revoked (a failed authentication, counted
    against the client address, :mod:`app.admission`)."""

    def __init__(self) -> None:
        super().__init__(
            401,
            "the bearer token is invalid or revoked",
            rule="bearer-token-valid",
            headers=_challenge("invalid_token"),
        )


def invalid_token() -> InvalidToken:
    """401: the bearer token is unknown, malformed or revoked."""
    return InvalidToken()


# --- verified tokens on the write path ---------------------------------------------------------

#: Seconds a verified bearer token is taken without looking it up again, on routes whose
#: transaction checks the token's revocation itself (:func:`checks_token_revocation`).
VERIFIED_TOKEN_SECONDS = 60.0
#: Verified tokens remembered at most (the least recently verified are forgotten first).
VERIFIED_TOKEN_CAPACITY = 1024

DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])
_REVOCATION_CHECKED: set[Callable[..., Any]] = set()
_ROUTES_CHECKING: WeakKeyDictionary[object, bool] = WeakKeyDictionary()


def checks_token_revocation(dependency: DependencyT) -> DependencyT:
    """Mark a dependency whose route's transaction checks that the caller's token is still
    unrevoked (the group-committed writes, :mod:`app.idempotency`): on such a route the token
    is verified from :class:`VerifiedTokens` when it was verified recently, without a unit of
    work of its own."""
    _REVOCATION_CHECKED.add(dependency)
    return dependency


def _checking(dependant: Dependant) -> bool:
    return any(d.call in _REVOCATION_CHECKED or _checking(d) for d in dependant.dependencies)


def route_checks_revocation(route: object) -> bool:
    """Whether ``route`` (``request.scope["route"]``) has a :func:`checks_token_revocation`
    dependency."""
    if not isinstance(route, APIRoute):
        return False
    # By endpoint (routes are not hashable): its signature declares the write's dependencies.
    checking = _ROUTES_CHECKING.get(route.endpoint)
    if checking is None:
        checking = _ROUTES_CHECKING[route.endpoint] = _checking(route.dependant)
    return checking


class VerifiedTokens:
    """Bearer tokens verified in the last ``seconds`` (keyed by their SHA-256, not their text),
    with their principals. Used only where the transaction re-checks revocation, so a revoked
    token writes nothing once its revocation committed; elsewhere every request looks its
    token up. Used from the event loop only."""

    def __init__(
        self,
        seconds: float = VERIFIED_TOKEN_SECONDS,
        capacity: int = VERIFIED_TOKEN_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._clock = clock
        self._verified: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8")).digest()

    def get(self, token: str) -> Principal | None:
        key = self._key(token)
        found = self._verified.get(key)
        if found is None:
            return None
        if self._clock() >= found[0]:
            del self._verified[key]
            return None
        return found[1]

    def put(self, token: str, principal: Principal) -> None:
        key = self._key(token)
        self._verified[key] = (self._clock() + self._seconds, principal)
        self._verified.move_to_end(key)
        while len(self._verified) > self._capacity:
            self._verified.popitem(last=False)


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
    another. On a route whose transaction re-checks revocation (the writes), a token verified
    in the last ``VERIFIED_TOKEN_SECONDS`` is not looked up again (:class:`VerifiedTokens`).
    An invalid token counts against the client address's budget of failed attempts
    (:mod:`app.admission`)."""
    if credentials is None:
        return Caller(presented=False, principal=None)
    # Again now that the permit is held: a burst from one address may have waited for
    # permits while its first attempts failed.
    await refuse_throttled_callers(request)
    token = credentials.credentials
    verified: VerifiedTokens | None = getattr(request.app.state, "verified_tokens", None)
    trusted = verified is not None and route_checks_revocation(request.scope.get("route"))
    principal = verified.get(token) if verified is not None and trusted else None
    if principal is None:
        principal = await run_in_threadpool(authenticate, storage, token)
        if principal is not None and verified is not None and trusted:
            verified.put(token, principal)
    if principal is None:
        throttle_of(request).record_failure(client_address(request))
    else:
        request.state.actor = principal.actor
    return Caller(presented=True, principal=principal)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_principal(caller: CallerDep) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 when missing, invalid or revoked."""
    return principal_of(caller)


def principal_of(caller: Caller) -> Principal:
    """:func:`get_principal` as a plain function (for dependencies that take the caller)."""
    if not caller.presented:
        raise _unauthenticated("a bearer token is required", None)
    if caller.principal is None:
        raise invalid_token()
    return caller.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Caller], Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 otherwise)."""
    allowed = frozenset(roles)
    names = ", ".join(role.value for role in roles)

    # On the caller directly, not on PrincipalDep: one level less to solve per request.
    async def dependency(caller: CallerDep) -> Principal:
        principal = principal_of(caller)
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
