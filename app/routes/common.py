"""What the registry resource routes share: path patterns, read problems, and the checks that
a token acts for the registry an action concerns, and may date it (403 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import Path, Response

from app.auth import Principal, Role, ensure_may_date
from app.auth import ensure_registry as ensure_acting_registry
from app.idempotency import IdempotentWrite
from app.problems import problem_responses
from app.schemas import BlocksPublic
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import UnitBlock

ACCOUNT_PATTERN = r"^[A-Z]{3}\d{2}-[A-Z0-9-]{1,40}$"
AUTHORIZATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,63}$"
AccountPath = Annotated[str, Path(pattern=ACCOUNT_PATTERN)]
AuthorizationPath = Annotated[str, Path(pattern=AUTHORIZATION_PATTERN)]
READ_PROBLEMS = problem_responses(401, 403, 404, 422, 503)


def ensure_acts_for_account(
    uow: UnitOfWork, principal: Principal, account_id: str, action_date: date | None = None
) -> None:
    """403 unless ``principal`` is the registry token of the registry holding the account (and,
    for an action dated other than today, unless it may date it: :func:`ensure_may_date`)."""
    account = services.account_of(uow, account_id)
    ensure_may_date(principal, {account.registry_id}, action_date, uow.now().date())
    ensure_acting_registry(principal, account.registry_id)


def party_registries(uow: UnitOfWork, party: str) -> list[str]:
    """The ids of the Party's registries: any of them acts for the Party."""
    return [r.registry_id for r in uow.projection.registries() if r.party == party]


def ensure_acts_for_party(
    uow: UnitOfWork, principal: Principal, party: str, action_date: date | None = None
) -> None:
    """403 unless ``principal`` is the registry token of one of the Party's registries (and may
    date the action, if it is dated other than today)."""
    services.party_of(uow, party)
    ensure_may_date(principal, party_registries(uow, party), action_date, uow.now().date())
    if principal.role is Role.registry and principal.registry_id is not None:
        registry = services.registry_of(uow, principal.registry_id)
        if registry.party == party:
            return
    ensure_acting_registry(principal, f"a registry of {party}")


def ensure_acts_for_approach(uow: UnitOfWork, principal: Principal, ca_id: str) -> None:
    """404 unless the cooperative approach ``ca_id`` and the token's registry exist; 403 unless
    that registry is one of a Party in the approach."""
    approach = services.approach_of(uow, ca_id)
    registry = services.registry_of(uow, principal.registry_id or "")
    if registry.party not in approach.parties:
        ensure_acting_registry(principal, f"a registry of a Party in {ca_id}")


async def move_units(
    write: IdempotentWrite,
    principal: Principal,
    account_id: str,
    action_date: date | None,
    action: Callable[[UnitOfWork], list[UnitBlock]],
) -> Response:
    """Run a unit action for the registry that holds ``account_id`` (only its own token may,
    and only it dates the action other than today)."""

    def operation(uow: UnitOfWork) -> BlocksPublic:
        ensure_acts_for_account(uow, principal, account_id, action_date)
        return BlocksPublic.from_domain(action(uow))

    return await write.run_async(operation)
