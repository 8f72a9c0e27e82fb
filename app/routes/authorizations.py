"""Authorizations (and their versions), the binding of held units to an authorization, and
authorized entities. Only a registry of the authorizing Party records an authorization.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.auth import ReaderDep, RegistryWriterDep
from app.deps import ReadUowDep, SettingsDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.pagination import CursorDep, LimitDep, Page, page_of
from app.routes.common import (
    READ_PROBLEMS,
    AuthorizationPath,
    ensure_acts_for_approach,
    ensure_acts_for_party,
    move_units,
)
from app.schemas import (
    AuthorizationCreate,
    AuthorizationPublic,
    AuthorizationRevocationCreate,
    AuthorizedEntityCreate,
    AuthorizedEntityPublic,
    AuthorizeUnitsCreate,
    BlocksPublic,
    NonGhgConversionCreate,
    NonGhgConversionPublic,
)
from ledger.errors import InvalidInput
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating

router = APIRouter(prefix="/v1")


@router.post(
    "/authorizations",
    tags=["authorizations"],
    status_code=201,
    response_model=AuthorizationPublic,
    responses=write_responses(201, 404, 409),
)
async def create_authorization(
    body: AuthorizationCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Record an authorization, or a new version of one (same id). Only a registry of the
    authorizing Party may record it. Its action date is ``authorized_on``."""
    try:
        draft = body.to_domain()
    except ValueError as exc:
        raise InvalidInput(str(exc), field="first_transfer_definition") from exc
    dating = Dating(None, body.restates, settings.end_of_period_btr_after)

    def operation(uow: UnitOfWork) -> AuthorizationPublic:
        ensure_acts_for_party(uow, principal, draft.party, draft.authorized_on)
        return AuthorizationPublic.from_domain(
            services.record_authorization(uow, draft, principal.actor, dating=dating)
        )

    return await write.run_async(operation)


@router.post(
    "/authorizations/{authorization_id}/revocations",
    tags=["authorizations"],
    status_code=201,
    response_model=AuthorizationPublic,
    responses=write_responses(201, 404, 409),
)
async def revoke_authorization(
    authorization_id: AuthorizationPath,
    body: AuthorizationRevocationCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Revoke the authorization: a new version dated ``revoked_on``, with the reason. Only a
    registry of the authorizing Party may revoke it. Units first transferred before keep their
    version; from ``revoked_on`` on no unit is bound, issued or first transferred under it."""
    dating = Dating(None, body.restates, settings.end_of_period_btr_after)

    def operation(uow: UnitOfWork) -> AuthorizationPublic:
        current = services.authorization_of(uow, authorization_id)
        ensure_acts_for_party(uow, principal, current.party, body.revoked_on)
        revoked = services.revoke_authorization(
            uow, authorization_id, body.revoked_on, body.reason, principal.actor, dating=dating
        )
        return AuthorizationPublic.from_domain(revoked)

    return await write.run_async(operation)


@router.get("/authorizations", tags=["authorizations"], responses=READ_PROBLEMS)
def list_authorizations(
    uow: ReadUowDep,
    _: ReaderDep,
    limit: LimitDep,
    cursor: CursorDep,
    party: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> Page[AuthorizationPublic]:
    """Every version of every authorization, ordered by the seq that recorded it."""
    found = uow.listing.authorizations(cursor.after_seq(), limit + 1, party=party)
    return page_of(
        [AuthorizationPublic.from_domain(a) for a in found], limit, lambda a: a.recorded_seq
    )


@router.get("/authorizations/{authorization_id}", tags=["authorizations"], responses=READ_PROBLEMS)
def read_authorization(
    authorization_id: AuthorizationPath,
    uow: ReadUowDep,
    _: ReaderDep,
    version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> AuthorizationPublic:
    """The latest version, or the given ``version``."""
    return AuthorizationPublic.from_domain(
        services.authorization_of(uow, authorization_id, version)
    )


@router.post(
    "/authorizations/{authorization_id}/units",
    tags=["authorizations"],
    status_code=201,
    response_model=BlocksPublic,
    responses=write_responses(201, 404, 409),
)
async def authorize_units(
    authorization_id: AuthorizationPath,
    body: AuthorizeUnitsCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Bind held mitigation outcomes to the authorization (AEF action "Authorization"); the
    first transfer is recorded now where the Party's OIMP definition says so."""

    selection = body.selection.to_domain()
    dating = body.dating(settings.end_of_period_btr_after)
    return await move_units(
        write,
        principal,
        body.account_id,
        body.action_date,
        lambda uow: services.authorize_units(
            uow, authorization_id, body.account_id, selection, principal.actor, dating=dating
        ),
    )


@router.post(
    "/non-ghg-conversions",
    tags=["authorizations"],
    status_code=201,
    response_model=NonGhgConversionPublic,
    responses=write_responses(201, 404, 409),
)
async def create_non_ghg_conversion(
    body: NonGhgConversionCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Record an authorized conversion of a non-GHG metric to t CO2 eq (a registry of a Party
    of the approach). Non-GHG ITMOs are used towards a t CO2 eq NDC only under one."""
    conversion = body.to_domain()

    def operation(uow: UnitOfWork) -> NonGhgConversionPublic:
        ensure_acts_for_approach(uow, principal, conversion.ca_id)
        services.record_conversion(uow, conversion, principal.actor, restates=body.restates)
        return NonGhgConversionPublic.from_domain(conversion)

    return await write.run_async(operation)


@router.get("/non-ghg-conversions", tags=["authorizations"], responses=READ_PROBLEMS)
def list_non_ghg_conversions(uow: ReadUowDep, _: ReaderDep) -> list[NonGhgConversionPublic]:
    """Every recorded conversion of a non-GHG metric to t CO2 eq, in the order recorded."""
    return [NonGhgConversionPublic.from_domain(c) for c in services.conversions(uow)]


@router.post(
    "/authorized-entities",
    tags=["authorizations"],
    status_code=201,
    response_model=AuthorizedEntityPublic,
    responses=write_responses(201, 404, 409),
)
async def create_authorized_entity(
    body: AuthorizedEntityCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    entity = body.to_domain()

    def operation(uow: UnitOfWork) -> AuthorizedEntityPublic:
        ensure_acts_for_approach(uow, principal, entity.ca_id)
        services.record_authorized_entity(uow, entity, principal.actor)
        return AuthorizedEntityPublic.from_domain(entity)

    return await write.run_async(operation)


@router.get("/authorized-entities", tags=["authorizations"], responses=READ_PROBLEMS)
def list_authorized_entities(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[AuthorizedEntityPublic]:
    found = uow.listing.authorized_entities(cursor.after_key(), limit + 1)
    return page_of(
        [AuthorizedEntityPublic.from_domain(e) for e in found], limit, lambda e: e.entity_id
    )
