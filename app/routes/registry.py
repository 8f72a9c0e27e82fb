"""Registry resources: parties, registries, cooperative approaches, accounts, authorizations,
authorized entities, unit blocks and the actions on them.

Writes go through ``IdempotentWrite.run``: one unit of work, one transaction, the ledger seq and
tree size in the response headers. Registry tokens act only for their own registry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select

from app.auth import AdminDep, AdminOrRegistryDep, Principal, ReaderDep, RegistryWriterDep, Role
from app.auth import ensure_registry as ensure_acting_registry
from app.deps import ReadUowDep
from app.idempotency import IdempotentWrite, IdempotentWriteDep, write_responses
from app.pagination import CursorDep, LimitDep, Page, keyset, page_of
from app.problems import problem_responses
from app.schemas import (
    AccountCreate,
    AccountPublic,
    AcquisitionCreate,
    AuthorizationCreate,
    AuthorizationPublic,
    AuthorizedEntityCreate,
    AuthorizedEntityPublic,
    AuthorizeUnitsCreate,
    BlockEventPublic,
    BlocksPublic,
    CancellationCreate,
    CooperativeApproachCreate,
    CooperativeApproachPublic,
    IssuanceCreate,
    NdcDeclarationIn,
    OimpUseCreate,
    PartyCreate,
    PartyPublic,
    RegistryCreate,
    RegistryPublic,
    SerialHistoryPublic,
    TransferCreate,
    UnitBlockPublic,
    UseCreate,
)
from ledger.adapters.sql.orm import unit_block
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import BlockNotFound, InvalidInput
from ledger.registry import services
from ledger.registry.codec import from_json
from ledger.registry.model import UnitBlock, parse_itmo_id

router = APIRouter(prefix="/v1")
ACCOUNT_PATTERN = r"^[A-Z]{3}\d{2}-[A-Z0-9-]{1,40}$"
AUTHORIZATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,63}$"
AccountPath = Annotated[str, Path(pattern=ACCOUNT_PATTERN)]
AuthorizationPath = Annotated[str, Path(pattern=AUTHORIZATION_PATTERN)]
READ_PROBLEMS = problem_responses(401, 403, 404, 422)


def _acting_registry_for_account(
    uow: SqlAlchemyUnitOfWork, principal: Principal, account_id: str
) -> None:
    account = services.account_of(uow, account_id)
    ensure_acting_registry(principal, account.registry_id)


def _acting_registry_for_party(uow: SqlAlchemyUnitOfWork, principal: Principal, party: str) -> None:
    services.party_of(uow, party)
    if principal.role is Role.registry and principal.registry_id is not None:
        registry = services.registry_of(uow, principal.registry_id)
        if registry.party == party:
            return
    ensure_acting_registry(principal, f"a registry of {party}")


def _move_units(
    write: IdempotentWrite,
    principal: Principal,
    account_id: str,
    action: Callable[[SqlAlchemyUnitOfWork], list[UnitBlock]],
) -> Response:
    """Run a unit action for the registry that holds ``account_id`` (only its own token may)."""

    def operation(uow: SqlAlchemyUnitOfWork) -> BlocksPublic:
        _acting_registry_for_account(uow, principal, account_id)
        return BlocksPublic.from_domain(action(uow))

    return write.run(operation)


# --- parties -------------------------------------------------------------------------------------


@router.post(
    "/parties",
    tags=["parties"],
    status_code=201,
    response_model=PartyPublic,
    responses=write_responses(201, 409),
)
def create_party(body: PartyCreate, principal: AdminDep, write: IdempotentWriteDep) -> Response:
    """Register a Party (ISO 3166-1 alpha-3), optionally with its NDC declaration."""
    party = body.to_domain()
    return write.run(
        lambda uow: services.register_party(uow, party, principal.actor),
        lambda _: PartyPublic.from_domain(party),
    )


@router.get("/parties", tags=["parties"], responses=READ_PROBLEMS)
def list_parties(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[PartyPublic]:
    after = cursor.after_key()
    parties = [p for p in uow.projection.parties() if after is None or p.code > after]
    return page_of(
        [PartyPublic.from_domain(p) for p in parties[: limit + 1]], limit, lambda p: p.code
    )


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
def declare_ndc(
    code: Annotated[str, Path(pattern=r"^[A-Z]{3}$")],
    body: NdcDeclarationIn,
    principal: AdminOrRegistryDep,
    write: IdempotentWriteDep,
) -> Response:
    """Declare the Party's NDC: type, implementation period and corresponding-adjustment method
    (applied consistently for the whole period)."""

    def operation(uow: SqlAlchemyUnitOfWork) -> PartyPublic:
        if principal.role is not Role.admin:
            _acting_registry_for_party(uow, principal, code)
        services.declare_ndc(uow, code, body.to_domain(), principal.actor)
        return PartyPublic.from_domain(services.party_of(uow, code))

    return write.run(operation)


# --- registries, approaches, accounts ------------------------------------------------------------


@router.post(
    "/registries",
    tags=["registries"],
    status_code=201,
    response_model=RegistryPublic,
    responses=write_responses(201, 404, 409),
)
def create_registry(
    body: RegistryCreate, principal: AdminDep, write: IdempotentWriteDep
) -> Response:
    """Register a Party ITMO registry hosted here, or an external registry this instance
    exchanges with (``hosted: false``)."""
    registry = body.to_domain()
    return write.run(
        lambda uow: services.register_registry(uow, registry, principal.actor),
        lambda _: RegistryPublic.from_domain(registry),
    )


@router.get("/registries", tags=["registries"], responses=READ_PROBLEMS)
def list_registries(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[RegistryPublic]:
    after = cursor.after_key()
    found = [r for r in uow.projection.registries() if after is None or r.registry_id > after]
    return page_of(
        [RegistryPublic.from_domain(r) for r in found[: limit + 1]], limit, lambda r: r.registry_id
    )


@router.post(
    "/cooperative-approaches",
    tags=["cooperative-approaches"],
    status_code=201,
    response_model=CooperativeApproachPublic,
    responses=write_responses(201, 404, 409),
)
def create_cooperative_approach(
    body: CooperativeApproachCreate, principal: AdminDep, write: IdempotentWriteDep
) -> Response:
    approach = body.to_domain()
    return write.run(
        lambda uow: services.register_cooperative_approach(uow, approach, principal.actor),
        lambda _: CooperativeApproachPublic.from_domain(approach),
    )


@router.get("/cooperative-approaches", tags=["cooperative-approaches"], responses=READ_PROBLEMS)
def list_cooperative_approaches(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[CooperativeApproachPublic]:
    after = cursor.after_key()
    found = [a for a in uow.projection.cooperative_approaches() if after is None or a.ca_id > after]
    return page_of(
        [CooperativeApproachPublic.from_domain(a) for a in found[: limit + 1]],
        limit,
        lambda a: a.ca_id,
    )


@router.post(
    "/accounts",
    tags=["accounts"],
    status_code=201,
    response_model=AccountPublic,
    responses=write_responses(201, 404, 409),
)
def create_account(
    body: AccountCreate, principal: AdminOrRegistryDep, write: IdempotentWriteDep
) -> Response:
    """Open an account in a hosted registry (admin, or that registry's own token)."""
    account = body.to_domain()

    def operation(uow: SqlAlchemyUnitOfWork) -> AccountPublic:
        if principal.role is not Role.admin:
            ensure_acting_registry(principal, account.registry_id)
        services.open_account(uow, account, principal.actor)
        return AccountPublic.from_domain(account)

    return write.run(operation)


@router.get("/accounts", tags=["accounts"], responses=READ_PROBLEMS)
def list_accounts(
    uow: ReadUowDep,
    _: ReaderDep,
    limit: LimitDep,
    cursor: CursorDep,
    registry_id: Annotated[str | None, Query(pattern=r"^[A-Z]{3}\d{2}$")] = None,
) -> Page[AccountPublic]:
    after = cursor.after_key()
    found = [
        a
        for a in uow.projection.accounts()
        if (registry_id is None or a.registry_id == registry_id)
        and (after is None or a.account_id > after)
    ]
    return page_of(
        [AccountPublic.from_domain(a) for a in found[: limit + 1]], limit, lambda a: a.account_id
    )


@router.get("/accounts/{account_id}/holdings", tags=["accounts"], responses=READ_PROBLEMS)
def read_holdings(account_id: AccountPath, uow: ReadUowDep, _: ReaderDep) -> BlocksPublic:
    """Blocks held in the account now (for a terminal account: the units used or cancelled)."""
    services.account_of(uow, account_id)
    rows = uow.connection.execute(
        select(unit_block.c.body)
        .where(unit_block.c.account_id == account_id, unit_block.c.active.is_(True))
        .order_by(unit_block.c.block_id)
    )
    return BlocksPublic.from_domain([from_json(UnitBlock, json.loads(b)) for (b,) in rows])


# --- authorizations and entities -----------------------------------------------------------------


@router.post(
    "/authorizations",
    tags=["authorizations"],
    status_code=201,
    response_model=AuthorizationPublic,
    responses=write_responses(201, 404, 409),
)
def create_authorization(
    body: AuthorizationCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Record an authorization, or a new version of one (same id). Only a registry of the
    authorizing Party may record it."""
    try:
        draft = body.to_domain()
    except ValueError as exc:
        raise InvalidInput(str(exc), field="first_transfer_definition") from exc

    def operation(uow: SqlAlchemyUnitOfWork) -> AuthorizationPublic:
        _acting_registry_for_party(uow, principal, draft.party)
        return AuthorizationPublic.from_domain(
            services.record_authorization(uow, draft, principal.actor)
        )

    return write.run(operation)


@router.get("/authorizations", tags=["authorizations"], responses=READ_PROBLEMS)
def list_authorizations(
    uow: ReadUowDep,
    _: ReaderDep,
    limit: LimitDep,
    cursor: CursorDep,
    party: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> Page[AuthorizationPublic]:
    """Every version of every authorization, ordered by the seq that recorded it."""
    after = cursor.after_seq()
    found = sorted(
        (
            a
            for a in uow.projection.authorizations()
            if (party is None or a.party == party) and (after is None or a.recorded_seq > after)
        ),
        key=lambda a: a.recorded_seq,
    )
    return page_of(
        [AuthorizationPublic.from_domain(a) for a in found[: limit + 1]],
        limit,
        lambda a: a.recorded_seq,
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
def authorize_units(
    authorization_id: AuthorizationPath,
    body: AuthorizeUnitsCreate,
    principal: RegistryWriterDep,
    write: IdempotentWriteDep,
) -> Response:
    """Bind held mitigation outcomes to the authorization (AEF action "Authorization"); the
    first transfer is recorded now where the Party's OIMP definition says so."""

    selection = body.selection.to_domain()
    return _move_units(
        write,
        principal,
        body.account_id,
        lambda uow: services.authorize_units(
            uow, authorization_id, body.account_id, selection, principal.actor
        ),
    )


@router.post(
    "/authorized-entities",
    tags=["authorizations"],
    status_code=201,
    response_model=AuthorizedEntityPublic,
    responses=write_responses(201, 404, 409),
)
def create_authorized_entity(
    body: AuthorizedEntityCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    entity = body.to_domain()

    def operation(uow: SqlAlchemyUnitOfWork) -> AuthorizedEntityPublic:
        approach = services.approach_of(uow, entity.ca_id)
        registry = services.registry_of(uow, principal.registry_id or "")
        if registry.party not in approach.parties:
            ensure_acting_registry(principal, f"a registry of a Party in {entity.ca_id}")
        services.record_authorized_entity(uow, entity, principal.actor)
        return AuthorizedEntityPublic.from_domain(entity)

    return write.run(operation)


@router.get("/authorized-entities", tags=["authorizations"], responses=READ_PROBLEMS)
def list_authorized_entities(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[AuthorizedEntityPublic]:
    after = cursor.after_key()
    found = [e for e in uow.projection.entities() if after is None or e.entity_id > after]
    return page_of(
        [AuthorizedEntityPublic.from_domain(e) for e in found[: limit + 1]],
        limit,
        lambda e: e.entity_id,
    )


# --- unit actions --------------------------------------------------------------------------------

ACTION_RESPONSES = write_responses(201, 404, 409)


@router.post(
    "/issuances",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
def create_issuance(
    body: IssuanceCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Issue mitigation outcomes into the caller's registry, split into shares (e.g. the JCM
    partner's and Japan's shares per the Joint Committee decision)."""
    issuance = services.Issuance(
        registry_id=body.registry_id,
        attributes=body.attributes.to_domain(),
        shares=tuple(
            services.IssuanceShare(s.account_id, s.quantity, s.authorization_id, s.underlying_first)
            for s in body.shares
        ),
        decision_reference=body.decision_reference,
    )

    def operation(uow: SqlAlchemyUnitOfWork) -> BlocksPublic:
        ensure_acting_registry(principal, body.registry_id)
        return BlocksPublic.from_domain(services.issue(uow, issuance, principal.actor))

    return write.run(operation)


@router.post(
    "/transfers",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
def create_transfer(
    body: TransferCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Transfer units. Between Parties, units not yet first transferred are first transferred
    here (NDC-authorized units at their first international transfer); a receiving registry
    hosted here records the acquisition in the same transaction."""
    order = services.TransferOrder(
        body.from_account, body.to_account, body.selection.to_domain(), body.reference
    )

    return _move_units(
        write,
        principal,
        body.from_account,
        lambda uow: services.transfer(uow, order, principal.actor),
    )


@router.post(
    "/acquisitions",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
def create_acquisition(
    body: AcquisitionCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
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

    return _move_units(
        write,
        principal,
        body.to_account,
        lambda uow: services.acquire_from_external(uow, order, principal.actor),
    )


@router.post(
    "/uses",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
def create_use(
    body: UseCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Use ITMOs towards the caller's NDC for ``use_year`` (one-time: they never move again)."""
    order = services.UseOrder(
        body.from_account,
        body.to_account,
        body.selection.to_domain(),
        use_year=body.use_year,
        reference=body.reference,
    )

    return _move_units(
        write,
        principal,
        body.from_account,
        lambda uow: services.use_for_ndc(uow, order, principal.actor),
    )


@router.post(
    "/oimp-uses",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
def create_oimp_use(
    body: OimpUseCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
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

    return _move_units(
        write,
        principal,
        body.from_account,
        lambda uow: services.use_for_oimp(uow, order, principal.actor),
    )


@router.post(
    "/cancellations",
    tags=["units"],
    status_code=201,
    response_model=BlocksPublic,
    responses=ACTION_RESPONSES,
)
def create_cancellation(
    body: CancellationCreate, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    """Cancel units, including voluntary cancellation to deliver OMGE."""
    order = services.CancellationOrder(
        body.from_account, body.to_account, body.selection.to_domain(), body.kind, body.reference
    )

    return _move_units(
        write,
        principal,
        body.from_account,
        lambda uow: services.cancel(uow, order, principal.actor),
    )


# --- blocks and per-serial history ---------------------------------------------------------------


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
    query = select(unit_block.c.block_id, unit_block.c.body)
    if account_id is not None:
        query = query.where(unit_block.c.account_id == account_id)
    if not include_superseded:
        query = query.where(unit_block.c.active.is_(True))
    rows = uow.connection.execute(
        keyset(query, unit_block.c.block_id, cursor.after_seq(), limit)
    ).all()
    return page_of(
        [UnitBlockPublic.from_domain(from_json(UnitBlock, json.loads(b))) for _, b in rows],
        limit,
        lambda b: b.block_id,
    )


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
    try:
        ca_id, registry_id, party, serial, vintage = parse_itmo_id(itmo_id)
    except ValueError as exc:
        raise InvalidInput(str(exc), itmo_id=itmo_id) from exc
    events = uow.projection.block_history((ca_id, registry_id, party, vintage), serial)
    if not events:
        raise BlockNotFound(f"no unit {itmo_id} on this ledger", itmo_id=itmo_id)
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
