"""Unit blocks and the actions on them: issuance, transfer, acquisition from an external
registry, use towards an NDC or for other international mitigation purposes, cancellation; the
blocks themselves and the per-ITMO history.

Only the registry that holds the units acts on them (its own token).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.auth import ReaderDep, RegistryWriterDep, ensure_may_date
from app.auth import ensure_registry as ensure_acting_registry
from app.deps import ReadUowDep, SettingsDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.pagination import CursorDep, LimitDep, Page, page_of
from app.routes.common import ACCOUNT_PATTERN, READ_PROBLEMS, move_units
from app.schemas import (
    AcquisitionCreate,
    BlockEventPublic,
    BlocksPublic,
    CancellationCreate,
    IssuanceCreate,
    OimpUseCreate,
    SerialHistoryPublic,
    TransferCreate,
    UnitBlockPublic,
    UseCreate,
)
from ledger.errors import BlockNotFound
from ledger.ports import UnitOfWork
from ledger.registry import services

router = APIRouter(prefix="/v1")
ACTION_RESPONSES = write_responses(201, 404, 409)


@router.post(
    "/issuances",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
async def create_issuance(
    body: IssuanceCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Issue mitigation outcomes into the caller's registry, split into shares (e.g. the JCM
    partner's and Japan's shares per the Joint Committee decision). A recorded decision cited
    by ``decision_reference`` may issue a government's share directly into that government's
    registry hosted here: the share is first transferred to it at issuance, and its registry
    records the acquisition."""
    issuance = services.Issuance(
        registry_id=body.registry_id,
        attributes=body.attributes.to_domain(),
        shares=tuple(
            services.IssuanceShare(s.account_id, s.quantity, s.authorization_id, s.underlying_first)
            for s in body.shares
        ),
        decision_reference=body.decision_reference,
    )

    dating = body.dating(settings.end_of_period_btr_after)

    def operation(uow: UnitOfWork) -> BlocksPublic:
        ensure_may_date(principal, {body.registry_id}, body.action_date, uow.now().date())
        ensure_acting_registry(principal, body.registry_id)
        return BlocksPublic.from_domain(
            services.issue(uow, issuance, principal.actor, dating=dating)
        )

    return await write.run_async(operation)


@router.post(
    "/transfers",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
async def create_transfer(
    body: TransferCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Transfer units. Between Parties, units not yet first transferred are first transferred
    here (NDC-authorized units at their first international transfer); a receiving registry
    hosted here records the acquisition in the same transaction."""
    order = services.TransferOrder(
        body.from_account, body.to_account, body.selection.to_domain(), body.reference
    )

    return await move_units(
        write,
        principal,
        body.from_account,
        body.action_date,
        lambda uow: services.transfer(
            uow, order, principal.actor, dating=body.dating(settings.end_of_period_btr_after)
        ),
    )


@router.post(
    "/acquisitions",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
async def create_acquisition(
    body: AcquisitionCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Record units acquired from an external registry into the caller's account."""
    order = services.ExternalAcquisition(
        from_registry=body.from_registry,
        to_account=body.to_account,
        attributes=body.attributes.to_domain(),
        first=body.first,
        last=body.last,
        authorization_id=body.authorization_id,
        authorization_version=body.authorization_version,
        first_transferred=body.first_transferred,
        underlying_first=body.underlying_first,
        reference=body.reference,
    )

    return await move_units(
        write,
        principal,
        body.to_account,
        body.action_date,
        lambda uow: services.acquire_from_external(
            uow, order, principal.actor, dating=body.dating(settings.end_of_period_btr_after)
        ),
    )


@router.post(
    "/uses",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
async def create_use(
    body: UseCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Use ITMOs towards the caller's NDC for ``use_year`` (one-time: they never move again)."""
    order = services.UseOrder(
        body.from_account,
        body.to_account,
        body.selection.to_domain(),
        use_year=body.use_year,
        reference=body.reference,
    )

    return await move_units(
        write,
        principal,
        body.from_account,
        body.action_date,
        lambda uow: services.use_for_ndc(
            uow, order, principal.actor, dating=body.dating(settings.end_of_period_btr_after)
        ),
    )


@router.post(
    "/oimp-uses",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
async def create_oimp_use(
    body: OimpUseCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Use or cancel ITMOs for other international mitigation purposes (e.g. CORSIA)."""
    order = services.UseOrder(
        body.from_account,
        body.to_account,
        body.selection.to_domain(),
        oimp_purpose=body.oimp_purpose,
        entity_id=body.entity_id,
        reference=body.reference,
    )

    return await move_units(
        write,
        principal,
        body.from_account,
        body.action_date,
        lambda uow: services.use_for_oimp(
            uow, order, principal.actor, dating=body.dating(settings.end_of_period_btr_after)
        ),
    )


@router.post(
    "/cancellations",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
async def create_cancellation(
    body: CancellationCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
    settings: SettingsDep,
) -> Response:
    """Cancel units, including voluntary cancellation to deliver OMGE."""
    order = services.CancellationOrder(
        body.from_account, body.to_account, body.selection.to_domain(), body.kind, body.reference
    )

    return await move_units(
        write,
        principal,
        body.from_account,
        body.action_date,
        lambda uow: services.cancel(
            uow, order, principal.actor, dating=body.dating(settings.end_of_period_btr_after)
        ),
    )


@router.get("/blocks", tags=["units"], responses=READ_PROBLEMS)
def list_blocks(
    uow: ReadUowDep,
    _: ReaderDep,
    limit: LimitDep,
    cursor: CursorDep,
    account_id: Annotated[str | None, Query(pattern=ACCOUNT_PATTERN)] = None,
    include_superseded: bool = False,
) -> Page[UnitBlockPublic]:
    """Unit blocks by block id (current ones; with ``include_superseded`` the split parents
    too, so the lineage parent -> children can be followed)."""
    blocks = uow.listing.blocks(
        cursor.after_seq(),
        limit + 1,
        account_id=account_id,
        include_superseded=include_superseded,
    )
    return page_of([UnitBlockPublic.from_domain(b) for b in blocks], limit, lambda b: b.block_id)


@router.get("/blocks/{block_id}", tags=["units"], responses=READ_PROBLEMS)
def read_block(
    block_id: Annotated[int, Path(ge=1, le=2**63 - 1)], uow: ReadUowDep, _: ReaderDep
) -> UnitBlockPublic:
    block = uow.projection.get_block(block_id)
    if block is None:
        raise BlockNotFound(f"no block {block_id}", block_id=block_id)
    return UnitBlockPublic.from_domain(block)


@router.get("/itmos/{itmo_id}/history", tags=["units"], responses=READ_PROBLEMS)
def read_serial_history(itmo_id: str, uow: ReadUowDep, _: ReaderDep) -> SerialHistoryPublic:
    """Every ledger entry that touched this ITMO (``CA0001-THA01-THA-<serial>-<vintage>``)."""
    events = services.serial_history(uow, itmo_id)
    return SerialHistoryPublic(
        itmo_id=itmo_id,
        events=[
            BlockEventPublic(
                seq=e.seq,
                kind=e.kind,
                block_id=e.block_id,
                first=e.first,
                last=e.last,
                account_id=e.account_id,
            )
            for e in events
        ],
    )
