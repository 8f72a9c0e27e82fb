"""Reference data: Parties (and their NDC declarations), Party registries, cooperative
approaches and accounts (with their holdings).

Writes go through ``IdempotentWrite.run``: one unit of work, one transaction, the ledger seq and
tree size in the response headers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.auth import AdminDep, AdminOrRegistryDep, ReaderDep, Role
from app.auth import ensure_registry as ensure_acting_registry
from app.deps import ReadUowDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.pagination import CursorDep, LimitDep, Page, page_of
from app.routes.common import READ_PROBLEMS, AccountPath, ensure_acts_for_party
from app.schemas import (
    AccountCreate,
    AccountPublic,
    BlocksPublic,
    CooperativeApproachCreate,
    CooperativeApproachPublic,
    NdcDeclarationIn,
    PartyCreate,
    PartyPublic,
    RegistryCreate,
    RegistryPublic,
)
from ledger.accounting import reporting
from ledger.ports import UnitOfWork
from ledger.registry import services

router = APIRouter(prefix="/v1")


@router.post(
    "/parties",
    tags=["parties"],
    status_code=201,
    response_model=PartyPublic,
    responses=write_responses(201, 409),
)
async def create_party(
    body: PartyCreate, principal: AdminDep, write: IdempotentWriteDep
) -> Response:
    """Register a Party (ISO 3166-1 alpha-3), optionally with its first NDC period."""
    party = body.to_domain()
    return await write.run_async(
        lambda uow: services.register_party(uow, party, principal.actor),
        lambda _: PartyPublic.from_domain(party),
    )


@router.get("/parties", tags=["parties"], responses=READ_PROBLEMS)
def list_parties(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[PartyPublic]:
    parties = uow.listing.parties(cursor.after_key(), limit + 1)
    return page_of([PartyPublic.from_domain(p) for p in parties], limit, lambda p: p.code)


@router.get("/parties/{code}", tags=["parties"], responses=READ_PROBLEMS)
def read_party(
    code: Annotated[str, Path(pattern=r"^[A-Z]{3}$")], uow: ReadUowDep, _: ReaderDep
) -> PartyPublic:
    return PartyPublic.from_domain(services.party_of(uow, code))


@router.post(
    "/parties/{code}/ndc",
    tags=["parties"],
    status_code=201,
    response_model=PartyPublic,
    responses=write_responses(201, 404, 409),
)
async def declare_ndc(
    code: Annotated[str, Path(pattern=r"^[A-Z]{3}$")],
    body: NdcDeclarationIn,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Declare one of the Party's successive NDC periods (e.g. 2021-2030, then 2031-2035): NDC
    type, period, corresponding-adjustment method (applied consistently for the whole period),
    NDC year and, for a non-GHG metric, its unit. The declaration is validated completely: a
    single-year NDC takes ``trajectory`` or ``averaging`` and its NDC year is the period's last
    year; a multi-year NDC takes ``annual``; a non-GHG metric needs its unit. A period that
    overlaps a declared one is refused. Declaring the very same period again records nothing."""

    def operation(uow: UnitOfWork) -> PartyPublic:
        if principal.role is not Role.admin:
            ensure_acts_for_party(uow, principal, code)
        services.declare_ndc(uow, code, body.to_domain(), principal.actor)
        return PartyPublic.from_domain(services.party_of(uow, code))

    return await write.run_async(operation)


@router.post(
    "/parties/{code}/ndc/amendments",
    tags=["parties"],
    status_code=201,
    response_model=PartyPublic,
    responses=write_responses(201, 404, 409),
)
async def amend_ndc(
    code: Annotated[str, Path(pattern=r"^[A-Z]{3}$")],
    body: NdcDeclarationIn,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Amend the declaration of the Party's NDC period with the same years: a new version of
    the period, validated as a declaration is. Refused once an AEF covering a year of the
    period has been submitted. The declaration in force again records nothing."""

    def operation(uow: UnitOfWork) -> PartyPublic:
        if principal.role is not Role.admin:
            ensure_acts_for_party(uow, principal, code)
        reporting.amend_ndc(uow, code, body.to_domain(), principal.actor)
        return PartyPublic.from_domain(services.party_of(uow, code))

    return await write.run_async(operation)


@router.post(
    "/registries",
    tags=["registries"],
    status_code=201,
    response_model=RegistryPublic,
    responses=write_responses(201, 404, 409),
)
async def create_registry(
    body: RegistryCreate, principal: AdminDep, write: IdempotentWriteDep
) -> Response:
    """Register a Party ITMO registry hosted here, or an external registry this instance
    exchanges with (``hosted: false``)."""
    registry = body.to_domain()
    return await write.run_async(
        lambda uow: services.register_registry(uow, registry, principal.actor),
        lambda _: RegistryPublic.from_domain(registry),
    )


@router.get("/registries", tags=["registries"], responses=READ_PROBLEMS)
def list_registries(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[RegistryPublic]:
    found = uow.listing.registries(cursor.after_key(), limit + 1)
    return page_of([RegistryPublic.from_domain(r) for r in found], limit, lambda r: r.registry_id)


@router.post(
    "/cooperative-approaches",
    tags=["cooperative-approaches"],
    status_code=201,
    response_model=CooperativeApproachPublic,
    responses=write_responses(201, 404, 409),
)
async def create_cooperative_approach(
    body: CooperativeApproachCreate, principal: AdminDep, write: IdempotentWriteDep
) -> Response:
    approach = body.to_domain()
    return await write.run_async(
        lambda uow: services.register_cooperative_approach(uow, approach, principal.actor),
        lambda _: CooperativeApproachPublic.from_domain(approach),
    )


@router.get("/cooperative-approaches", tags=["cooperative-approaches"], responses=READ_PROBLEMS)
def list_cooperative_approaches(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[CooperativeApproachPublic]:
    found = uow.listing.cooperative_approaches(cursor.after_key(), limit + 1)
    return page_of(
        [CooperativeApproachPublic.from_domain(a) for a in found], limit, lambda a: a.ca_id
    )


@router.post(
    "/accounts",
    tags=["accounts"],
    status_code=201,
    response_model=AccountPublic,
    responses=write_responses(201, 404, 409),
)
async def create_account(
    body: AccountCreate, principal: AdminOrRegistryDep, write: IdempotentWriteDep
) -> Response:
    """Open an account in a hosted registry (admin, or that registry's own token)."""
    account = body.to_domain()

    def operation(uow: UnitOfWork) -> AccountPublic:
        if principal.role is not Role.admin:
            ensure_acting_registry(principal, account.registry_id)
        services.open_account(uow, account, principal.actor)
        return AccountPublic.from_domain(account)

    return await write.run_async(operation)


@router.get("/accounts", tags=["accounts"], responses=READ_PROBLEMS)
def list_accounts(
    uow: ReadUowDep,
    _: ReaderDep,
    limit: LimitDep,
    cursor: CursorDep,
    registry_id: Annotated[str | None, Query(pattern=r"^[A-Z]{3}\d{2}$")] = None,
) -> Page[AccountPublic]:
    found = uow.listing.accounts(cursor.after_key(), limit + 1, registry_id=registry_id)
    return page_of([AccountPublic.from_domain(a) for a in found], limit, lambda a: a.account_id)


@router.get("/accounts/{account_id}/holdings", tags=["accounts"], responses=READ_PROBLEMS)
def read_holdings(account_id: AccountPath, uow: ReadUowDep, _: ReaderDep) -> BlocksPublic:
    """Blocks held in the account now (for a terminal account: the units used or cancelled)."""
    services.account_of(uow, account_id)
    return BlocksPublic.from_domain(uow.listing.account_blocks(account_id))
