"""Registry use cases: every state change is one ledger entry (or one atomic group of entries),
applied to the holdings projection in the same unit of work.

Each function validates with the pure rules and raises a named domain error for a rejected
action; an action that appends several entries may find the problem after its first entry, so
the caller's unit of work rolls back as a whole and nothing of a rejected action is committed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ledger.errors import (
    AccountNotFound,
    AccountTypeMismatch,
    AlreadyRegistered,
    AuthorizationChangeForbidden,
    AuthorizationLimitExceeded,
    AuthorizationNotFound,
    AuthorizedEntityNotFound,
    CooperativeApproachNotFound,
    FirstTransferDefinitionConflict,
    FirstTransferPending,
    InvalidInput,
    NdcAlreadyDeclared,
    NdcNotDeclared,
    OwnUnitsNotUsable,
    PartyNotFound,
    RegistryDoesNotOwnUnits,
    RegistryNotFound,
    SerialsNotHeld,
    UnitsNotAuthorized,
)
from ledger.log.canonical import JsonValue
from ledger.ports import AppendedEntry, UnitOfWork
from ledger.recording import record_entry
from ledger.registry import rules
from ledger.registry.codec import to_json
from ledger.registry.model import (
    ACCOUNT_ID,
    AUTHORIZATION_ID,
    CA_ID,
    PARTY_CODE,
    REGISTRY_ID,
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CancellationKind,
    CooperativeApproach,
    FirstTransferDefinition,
    NdcDeclaration,
    NdcType,
    Party,
    Registry,
    SerialRange,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)

FIRST_TRANSFER_TO_PARTY = "First transfer to another Party"
ADAPTATION_FUND_SUBTYPE = "Voluntary transfer to the Adaptation Fund (A6.4 ERs)"


# --- helpers -------------------------------------------------------------------------------------


def _require(pattern: Any, value: str, what: str) -> None:
    if not pattern.match(value):
        raise InvalidInput(f"{value!r} is not a valid {what}", field=what, value=value)


def party_of(uow: UnitOfWork, code: str) -> Party:
    party = uow.projection.get_party(code)
    if party is None:
        raise PartyNotFound(f"Party {code} is not registered", party=code)
    return party


def registry_of(uow: UnitOfWork, registry_id: str) -> Registry:
    registry = uow.projection.get_registry(registry_id)
    if registry is None:
        raise RegistryNotFound(f"registry {registry_id} is not known", registry_id=registry_id)
    return registry


def approach_of(uow: UnitOfWork, ca_id: str) -> CooperativeApproach:
    approach = uow.projection.get_cooperative_approach(ca_id)
    if approach is None:
        raise CooperativeApproachNotFound(
            f"cooperative approach {ca_id} is not registered", ca_id=ca_id
        )
    return approach


def account_of(uow: UnitOfWork, account_id: str) -> Account:
    account = uow.projection.get_account(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist", account_id=account_id)
    return account


def authorization_of(
    uow: UnitOfWork, authorization_id: str, version: int | None = None
) -> Authorization:
    found = uow.projection.get_authorization(authorization_id, version)
    if found is None:
        raise AuthorizationNotFound(
            f"authorization {authorization_id} does not exist", authorization_id=authorization_id
        )
    return found


def external_account_id(registry_id: str) -> str:
    """Where units sit once transferred to an external registry."""
    return f"{registry_id}-EXTERNAL"


# --- reference data ------------------------------------------------------------------------------


def register_party(uow: UnitOfWork, party: Party, actor: str) -> AppendedEntry:
    _require(PARTY_CODE, party.code, "Party code (ISO 3166-1 alpha-3)")
    if uow.projection.get_party(party.code) is not None:
        raise AlreadyRegistered(f"Party {party.code} is already registered", party=party.code)
    if party.ndc is not None:
        _check_ndc(party.ndc)
    return record_entry(uow, "party.registered", {"party": to_json(party)}, actor)


def _check_ndc(ndc: NdcDeclaration) -> None:
    if ndc.period_start > ndc.period_end or not ndc.covers(ndc.target_year):
        raise InvalidInput(
            "the NDC period must be ordered and contain the target year",
            period_start=ndc.period_start,
            period_end=ndc.period_end,
            target_year=ndc.target_year,
        )
    if ndc.ndc_type is NdcType.MULTI_YEAR and ndc.method.value == "averaging":
        raise InvalidInput("averaging applies to single-year NDCs only (2/CMA.3 para 7(a)(ii))")


def declare_ndc(uow: UnitOfWork, party_code: str, ndc: NdcDeclaration, actor: str) -> AppendedEntry:
    """Declare the Party's NDC (type, period, CA method). The method applies consistently over the
    whole period (2/CMA.3 para 7), so a declared NDC is never changed."""
    party = party_of(uow, party_code)
    _check_ndc(ndc)
    if party.ndc is not None and party.ndc != ndc:
        raise NdcAlreadyDeclared(
            f"{party_code} already declared its NDC and CA method for {party.ndc.period_start}-"
            f"{party.ndc.period_end}; the method applies for the whole period",
            party=party_code,
        )
    return record_entry(uow, "ndc.declared", {"party": party_code, "ndc": to_json(ndc)}, actor)


def register_registry(uow: UnitOfWork, registry: Registry, actor: str) -> AppendedEntry:
    _require(REGISTRY_ID, registry.registry_id, "registry id (Party code + 2 digits)")
    party_of(uow, registry.party)
    if not registry.registry_id.startswith(registry.party):
        raise InvalidInput("a Party ITMO registry id starts with its Party code")
    if uow.projection.get_registry(registry.registry_id) is not None:
        raise AlreadyRegistered(
            f"registry {registry.registry_id} already exists", registry_id=registry.registry_id
        )
    appended = record_entry(uow, "registry.registered", {"registry": to_json(registry)}, actor)
    if not registry.hosted:
        holding = Account(
            external_account_id(registry.registry_id),
            registry.registry_id,
            AccountType.HOLDING,
            f"Units held in external registry {registry.registry_id}",
        )
        appended = record_entry(uow, "account.opened", {"account": to_json(holding)}, actor)
    return appended


def register_cooperative_approach(
    uow: UnitOfWork, approach: CooperativeApproach, actor: str
) -> AppendedEntry:
    _require(CA_ID, approach.ca_id, "cooperative approach id (CA + 4 digits)")
    if len(set(approach.parties)) < 2:
        raise InvalidInput("a cooperative approach needs at least two participating Parties")
    for code in approach.parties:
        party_of(uow, code)
    if uow.projection.get_cooperative_approach(approach.ca_id) is not None:
        raise AlreadyRegistered(f"{approach.ca_id} already exists", ca_id=approach.ca_id)
    return record_entry(
        uow, "cooperative_approach.registered", {"approach": to_json(approach)}, actor
    )


def open_account(uow: UnitOfWork, account: Account, actor: str) -> AppendedEntry:
    _require(ACCOUNT_ID, account.account_id, "account id (<registry id>-<name>)")
    registry = registry_of(uow, account.registry_id)
    if not registry.hosted:
        raise AccountTypeMismatch("accounts are opened only in registries hosted here")
    if not account.account_id.startswith(account.registry_id + "-"):
        raise InvalidInput("an account id starts with its registry id and a hyphen")
    if uow.projection.get_account(account.account_id) is not None:
        raise AlreadyRegistered(
            f"account {account.account_id} exists", account_id=account.account_id
        )
    return record_entry(uow, "account.opened", {"account": to_json(account)}, actor)


def declare_first_transfer_definition(
    uow: UnitOfWork, party_code: str, ca_id: str, definition: FirstTransferDefinition, actor: str
) -> AppendedEntry | None:
    """One OIMP first-transfer definition per (Party, cooperative approach); repeating the same
    one is a no-op, a different one is refused."""
    party_of(uow, party_code)
    approach = approach_of(uow, ca_id)
    if party_code not in approach.parties:
        raise InvalidInput(f"{party_code} does not participate in {ca_id}")
    existing = uow.projection.get_first_transfer_definition(party_code, ca_id)
    if existing is definition:
        return None
    if existing is not None:
        raise FirstTransferDefinitionConflict(
            f"{party_code} already defined the OIMP first transfer for {ca_id} as "
            f"{existing.value!r}",
            party=party_code,
            ca_id=ca_id,
            declared=existing.value,
            requested=definition.value,
        )
    payload: dict[str, JsonValue] = {
        "party": party_code,
        "ca_id": ca_id,
        "definition": definition.value,
    }
    return record_entry(uow, "first_transfer_definition.declared", payload, actor)


# --- authorizations ------------------------------------------------------------------------------


def record_authorization(uow: UnitOfWork, draft: Authorization, actor: str) -> Authorization:
    """Record a new authorization, or a new version of an existing one.

    The version number is assigned here. A new version never rewrites ITMOs already first
    transferred: those keep the version they were first transferred under (4/CMA.6 paras 7-9).
    """
    _require(AUTHORIZATION_ID, draft.authorization_id, "authorization id")
    party_of(uow, draft.party)
    approach = approach_of(uow, draft.ca_id)
    if draft.party not in approach.parties:
        raise InvalidInput(f"{draft.party} does not participate in {draft.ca_id}")
    for code in draft.authorized_parties:
        party_of(uow, code)
    for entity_id in draft.authorized_entities:
        if uow.projection.get_entity(entity_id) is None:
            raise AuthorizedEntityNotFound(f"entity {entity_id} is not recorded", entity=entity_id)
    if draft.vintage_from > draft.vintage_to:
        raise InvalidInput("vintage_from must not exceed vintage_to")
    rules.check_vintage(draft.vintage_from)
    if draft.quantity is not None and draft.quantity <= 0:
        raise InvalidInput("an authorized quantity must be positive", quantity=draft.quantity)
    if draft.purposes.covers_oimp and draft.first_transfer_definition is None:
        raise InvalidInput(
            "an authorization covering OIMP must state the first-transfer definition",
            field="first_transfer_definition",
        )
    if not draft.purposes.covers_oimp and (
        draft.first_transfer_definition is not None or draft.oimp_authorized is not None
    ):
        raise InvalidInput("first-transfer definition and OIMP apply only to OIMP purposes")
    previous = uow.projection.get_authorization(draft.authorization_id)
    version = 1
    if previous is not None:
        if (previous.party, previous.ca_id) != (draft.party, draft.ca_id):
            raise AuthorizationChangeForbidden(
                "a new version cannot change the authorizing Party or cooperative approach",
                authorization_id=draft.authorization_id,
            )
        if draft.quantity is not None and draft.quantity < uow.projection.authorized_quantity(
            draft.authorization_id
        ):
            raise AuthorizationChangeForbidden(
                "the new quantity is below the units already authorized under it",
                authorization_id=draft.authorization_id,
            )
        version = previous.version + 1
    if draft.first_transfer_definition is not None:
        declare_first_transfer_definition(
            uow, draft.party, draft.ca_id, draft.first_transfer_definition, actor
        )
    authorization = replace(draft, version=version, recorded_seq=uow.log.size())
    record_entry(uow, "authorization.recorded", {"authorization": to_json(authorization)}, actor)
    definition = authorization.first_transfer_definition
    if authorization.purposes.covers_oimp and definition in (
        FirstTransferDefinition.AUTHORIZATION,
        FirstTransferDefinition.ISSUANCE,
    ):
        # Units already bound to this authorization become OIMP-authorized now: under these
        # definitions their first transfer is due at once (it cannot wait for a later event).
        assert definition is not None
        pending = [
            b
            for b in uow.projection.authorized_blocks(authorization.authorization_id)
            if not b.first_transferred and not b.retired
        ]
        if pending:
            _first_transfer(uow, pending, definition.value, None, actor)
    return authorization


def record_authorized_entity(
    uow: UnitOfWork, entity: AuthorizedEntity, actor: str
) -> AppendedEntry:
    approach_of(uow, entity.ca_id)
    if not entity.entity_id.strip() or not entity.name.strip():
        raise InvalidInput("an authorized entity needs an id and a name")
    if uow.projection.get_entity(entity.entity_id) is not None:
        raise AlreadyRegistered(f"entity {entity.entity_id} exists", entity=entity.entity_id)
    return record_entry(uow, "authorized_entity.recorded", {"entity": to_json(entity)}, actor)


# --- block surgery -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Carved:
    """The outcome of taking pieces out of held blocks: the blocks acted on, the untouched
    remainders, and the parents they replace."""

    acted: list[UnitBlock]
    remainders: list[UnitBlock]
    superseded: list[int]


def carve_blocks(
    uow: UnitOfWork,
    account_id: str,
    selection: UnitSelection,
    eligible: Callable[[UnitBlock], bool] | None = None,
) -> Carved:
    """Take the selected units out of the account's blocks, splitting blocks where an action
    covers part of them. A bare quantity is filled from ``eligible`` blocks only."""
    held: Iterable[UnitBlock] = uow.projection.held_blocks_for(account_id, selection)
    if eligible is not None and not selection.ranges:
        held = (b for b in held if eligible(b))
    try:
        pieces = rules.carve(held, selection, presorted=True)
    except SerialsNotHeld as exc:
        _refuse_retired_serials(uow, selection)
        raise exc
    by_block: dict[int, list[tuple[int, int]]] = defaultdict(list)
    blocks: dict[int, UnitBlock] = {}
    for block, first, last in pieces:
        by_block[block.block_id].append((first, last))
        blocks[block.block_id] = block
    next_id = uow.projection.next_block_id()
    seq = uow.log.size()
    acted: list[UnitBlock] = []
    remainders: list[UnitBlock] = []
    superseded: list[int] = []
    for block_id, ranges in by_block.items():
        block = blocks[block_id]
        if ranges == [(block.first, block.last)]:
            acted.append(block)
            continue
        superseded.append(block_id)
        cursor = block.first
        for first, last in sorted(ranges):
            if first > cursor:
                remainders.append(block.piece(next_id, cursor, first - 1, seq))
                next_id += 1
            acted.append(block.piece(next_id, first, last, seq))
            next_id += 1
            cursor = last + 1
        if cursor <= block.last:
            remainders.append(block.piece(next_id, cursor, block.last, seq))
            next_id += 1
    return Carved(acted, remainders, superseded)


def _refuse_retired_serials(uow: UnitOfWork, selection: UnitSelection) -> None:
    """Explicit serials that were used or cancelled are refused as such (one-time use), which
    says more than "not held here"."""
    a = selection
    if a.ca_id is None or a.originating_registry is None or a.first_transferring_party is None:
        return
    if a.vintage is None:
        return
    key = (a.ca_id, a.originating_registry, a.first_transferring_party, a.vintage)
    for wanted in selection.ranges:
        for block in uow.projection.overlapping_blocks(key, wanted.first, wanted.last):
            rules.check_not_retired(block)


def _blocks_payload(
    blocks: Sequence[UnitBlock], acted: Sequence[UnitBlock], superseded: Sequence[int] = ()
) -> dict[str, JsonValue]:
    return {
        "blocks": [to_json(b) for b in blocks],
        "acted": [b.block_id for b in acted],
        "superseded": list(superseded),
    }


def _quantity(blocks: Sequence[UnitBlock]) -> int:
    return sum(b.quantity for b in blocks)


# --- issuance and authorization of units ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuanceShare:
    account_id: str
    quantity: int
    authorization_id: str | None = None
    underlying_first: int | None = None


@dataclass(frozen=True, slots=True)
class Issuance:
    """Issuance of mitigation outcomes into a hosted registry, e.g. JCM credits per a Joint
    Committee decision, split into shares (the partner's and Japan's)."""

    registry_id: str
    attributes: UnitAttributes
    shares: tuple[IssuanceShare, ...]
    decision_reference: str | None = None


def issue(uow: UnitOfWork, issuance: Issuance, actor: str) -> list[UnitBlock]:
    registry = registry_of(uow, issuance.registry_id)
    attrs = issuance.attributes
    if not registry.hosted:
        raise AccountTypeMismatch("units are issued only into registries hosted here")
    if (
        attrs.registry_id != registry.registry_id
        or attrs.first_transferring_party != registry.party
    ):
        raise InvalidInput(
            "issued units originate in the issuing registry and their first transferring Party "
            "is that registry's Party"
        )
    approach = approach_of(uow, attrs.ca_id)
    if registry.party not in approach.parties:
        raise InvalidInput(f"{registry.party} does not participate in {attrs.ca_id}")
    rules.check_vintage(attrs.vintage)
    if not issuance.shares:
        raise InvalidInput("an issuance needs at least one share")
    key = (attrs.ca_id, attrs.registry_id, attrs.first_transferring_party, attrs.vintage)
    serial = uow.projection.next_serial(key)
    block_id = uow.projection.next_block_id()
    seq = uow.log.size()
    blocks: list[UnitBlock] = []
    pending_by_authorization: dict[str, int] = defaultdict(int)
    for share in issuance.shares:
        account = account_of(uow, share.account_id)
        if (
            account.registry_id != registry.registry_id
            or account.account_type is not AccountType.HOLDING
        ):
            raise AccountTypeMismatch(
                f"issuance goes to a holding account of {registry.registry_id}",
                account_id=share.account_id,
            )
        if share.quantity <= 0:
            raise InvalidInput("each share needs a positive quantity", quantity=share.quantity)
        block = UnitBlock(
            block_id=block_id,
            attributes=attrs,
            first=serial,
            last=serial + share.quantity - 1,
            account_id=account.account_id,
            underlying_first=share.underlying_first,
            underlying_last=(
                None
                if share.underlying_first is None
                else share.underlying_first + share.quantity - 1
            ),
            created_seq=seq,
        )
        if share.authorization_id is not None:
            authorization = authorization_of(uow, share.authorization_id)
            pending_by_authorization[share.authorization_id] += share.quantity
            rules.check_units_fit_authorization(
                authorization,
                attrs,
                uow.projection.authorized_quantity(share.authorization_id)
                + pending_by_authorization[share.authorization_id],
            )
            block = replace(block, authorization_id=authorization.authorization_id)
        blocks.append(block)
        serial = block.last + 1
        block_id += 1
    payload: dict[str, JsonValue] = {
        "registry_id": registry.registry_id,
        "decision_reference": issuance.decision_reference,
        "quantity": _quantity(blocks),
        **_blocks_payload(blocks, blocks),
    }
    record_entry(uow, "mo.issued", payload, actor)
    # Shares issued under an authorization are also authorized now, so both the "Issuance" and
    # the "Authorization" OIMP definitions fire (one definition per Party and approach).
    for definition in (FirstTransferDefinition.ISSUANCE, FirstTransferDefinition.AUTHORIZATION):
        fired = [b for b in blocks if _fires_at(uow, b, definition)]
        if fired:
            _first_transfer(uow, fired, definition.value, None, actor)
    return [uow.projection.get_block(b.block_id) or b for b in blocks]


def _fires_at(uow: UnitOfWork, block: UnitBlock, definition: FirstTransferDefinition) -> bool:
    """Does the OIMP first-transfer definition fire for this block at this event?"""
    if block.authorization_id is None or block.first_transferred:
        return False
    authorization = authorization_of(uow, block.authorization_id)
    return (
        authorization.purposes.covers_oimp and authorization.first_transfer_definition is definition
    )


def _first_transfer(
    uow: UnitOfWork,
    blocks: Sequence[UnitBlock],
    subtype: str,
    acquiring_party: str | None,
    actor: str,
    *,
    to_account: str | None = None,
    superseded: Sequence[int] = (),
    remainders: Sequence[UnitBlock] = (),
    extra: Mapping[str, JsonValue] | None = None,
) -> list[UnitBlock]:
    """Record the first transfer of ``blocks`` (one entry): the first transferring Party's
    corresponding adjustment is booked to their vintage from here on. The block is pinned to the
    authorization version in force now."""
    seq = uow.log.size()
    on = uow.now().date()
    moved: list[UnitBlock] = []
    for block in blocks:
        rules.check_authorized(block)
        rules.check_not_first_transferred(block)
        assert block.authorization_id is not None
        authorization = authorization_of(uow, block.authorization_id)
        if acquiring_party is not None:
            rules.check_transfer_allowed(authorization, acquiring_party, on)
        else:
            rules.check_timeframe(authorization, on)
        moved.append(
            replace(
                block,
                first_transfer_seq=seq,
                authorization_version=authorization.version,
                account_id=to_account or block.account_id,
            )
        )
    payload: dict[str, JsonValue] = {
        "subtype": subtype,
        "acquiring_party": acquiring_party,
        "to_account": to_account,
        "quantity": _quantity(moved),
        **(extra or {}),
        **_blocks_payload([*remainders, *moved], moved, superseded),
    }
    record_entry(uow, "itmo.first_transfer", payload, actor)
    return moved


def authorize_units(
    uow: UnitOfWork,
    authorization_id: str,
    account_id: str,
    selection: UnitSelection,
    actor: str,
) -> list[UnitBlock]:
    """Bind held, unauthorized units to an authorization (AEF action "Authorization"). If the
    Party's OIMP definition is "Authorization" — or "Issuance" for units issued before they were
    authorized — the first transfer is recorded now."""
    authorization = authorization_of(uow, authorization_id)
    account = account_of(uow, account_id)
    registry = registry_of(uow, account.registry_id)
    if registry.party != authorization.party:
        raise RegistryDoesNotOwnUnits(
            f"{authorization.party} can authorize only units held in its own registries"
        )
    carved = carve_blocks(
        uow,
        account_id,
        selection,
        eligible=lambda block: block.authorization_id is None and not block.first_transferred,
    )
    for block in carved.acted:
        rules.check_not_first_transferred(block)
        if block.authorization_id is not None:
            raise AuthorizationChangeForbidden(
                f"serials {block.first}-{block.last} are already authorized under "
                f"{block.authorization_id}",
                block_id=block.block_id,
            )
    total = uow.projection.authorized_quantity(authorization_id)
    for block in carved.acted:
        total += block.quantity
        rules.check_units_fit_authorization(authorization, block.attributes, total)
    acted = [replace(b, authorization_id=authorization_id) for b in carved.acted]
    payload: dict[str, JsonValue] = {
        "authorization_id": authorization_id,
        "version": authorization.version,
        "quantity": _quantity(acted),
        **_blocks_payload([*carved.remainders, *acted], acted, carved.superseded),
    }
    record_entry(uow, "units.authorized", payload, actor)
    definition = authorization.first_transfer_definition
    if authorization.purposes.covers_oimp and definition in (
        FirstTransferDefinition.AUTHORIZATION,
        FirstTransferDefinition.ISSUANCE,
    ):
        assert definition is not None
        acted = _first_transfer(uow, acted, definition.value, None, actor)
    return acted


# --- movements -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransferOrder:
    from_account: str
    to_account: str
    selection: UnitSelection
    reference: str | None = None


def transfer(uow: UnitOfWork, order: TransferOrder, actor: str) -> list[UnitBlock]:
    """Move units to another account. Between Parties this is the first transfer for units not
    yet first transferred (NDC-authorized: the first international transfer), otherwise a
    transfer; a hosted receiving registry records the acquisition in the same unit of work."""
    source = account_of(uow, order.from_account)
    destination = account_of(uow, order.to_account)
    if source.account_id == destination.account_id:
        raise InvalidInput("source and destination accounts are the same")
    if source.account_type is not AccountType.HOLDING:
        raise AccountTypeMismatch(
            "units move only out of holding accounts", account_id=source.account_id
        )
    if destination.account_type not in (AccountType.HOLDING, AccountType.ADAPTATION_FUND):
        raise AccountTypeMismatch(
            "use and cancellation have their own actions; transfer to a holding or Adaptation "
            "Fund account",
            account_id=destination.account_id,
        )
    source_registry = registry_of(uow, source.registry_id)
    if not source_registry.hosted:
        raise RegistryDoesNotOwnUnits("units in an external registry are moved by that registry")
    destination_registry = registry_of(uow, destination.registry_id)
    international = destination_registry.party != source_registry.party
    to_adaptation_fund = destination.account_type is AccountType.ADAPTATION_FUND
    carved = carve_blocks(uow, source.account_id, order.selection)
    for block in carved.acted:
        rules.check_not_retired(block)
        if (international or to_adaptation_fund) and block.authorization_id is None:
            raise UnitsNotAuthorized(
                f"serials {block.first}-{block.last} are not authorized and cannot leave "
                f"{source_registry.party}",
                block_id=block.block_id,
            )
    first_now: list[UnitBlock] = []
    plain: list[UnitBlock] = []
    for block in carved.acted:
        if not block.first_transferred and (international or to_adaptation_fund):
            authorization = authorization_of(uow, block.authorization_id or "")
            if authorization.purposes.covers_ndc or to_adaptation_fund:
                first_now.append(block)
                continue
            if international:
                raise FirstTransferPending(
                    f"serials {block.first}-{block.last} are authorized for OIMP only and their "
                    f"first transfer ({authorization.first_transfer_definition}) has not "
                    f"happened: they cannot leave {source_registry.party} before it does",
                    block_id=block.block_id,
                    authorization_id=authorization.authorization_id,
                )
        plain.append(block)
    acquiring = destination_registry.party if international else None
    extra: dict[str, JsonValue] = {
        "from_account": source.account_id,
        "reference": order.reference,
        "international": international,
    }
    moved: list[UnitBlock] = []
    remainders = carved.remainders
    superseded = carved.superseded
    if first_now:
        subtype = ADAPTATION_FUND_SUBTYPE if to_adaptation_fund else FIRST_TRANSFER_TO_PARTY
        moved += _first_transfer(
            uow,
            first_now,
            subtype,
            acquiring,
            actor,
            to_account=destination.account_id,
            superseded=superseded,
            remainders=remainders,
            extra=extra,
        )
        remainders, superseded = [], []
    if plain:
        on = uow.now().date()
        for block in plain:
            if international and block.authorization_id is not None:
                authorization = authorization_of(
                    uow, block.authorization_id, block.authorization_version
                )
                rules.check_transfer_allowed(authorization, destination_registry.party, on)
        shifted = [replace(b, account_id=destination.account_id) for b in plain]
        payload: dict[str, JsonValue] = {
            "acquiring_party": acquiring,
            "to_account": destination.account_id,
            "quantity": _quantity(shifted),
            **extra,
            **_blocks_payload([*remainders, *shifted], shifted, superseded),
        }
        record_entry(uow, "itmo.transfer", payload, actor)
        moved += shifted
    if international and destination_registry.hosted:
        _acquisition(uow, moved, source_registry.party, destination.account_id, actor)
    return moved


def _acquisition(
    uow: UnitOfWork,
    blocks: Sequence[UnitBlock],
    transferring_party: str,
    account_id: str,
    actor: str,
    extra: Mapping[str, JsonValue] | None = None,
) -> None:
    payload: dict[str, JsonValue] = {
        "transferring_party": transferring_party,
        "to_account": account_id,
        "quantity": _quantity(blocks),
        **(extra or {}),
        **_blocks_payload(blocks, blocks),
    }
    record_entry(uow, "itmo.acquisition", payload, actor)


@dataclass(frozen=True, slots=True)
class ExternalAcquisition:
    """Units arriving from an external registry, identified by their own ITMO identifiers."""

    from_registry: str
    to_account: str
    attributes: UnitAttributes
    first: int
    last: int
    authorization_id: str | None
    authorization_version: int | None
    first_transferred: bool
    underlying_first: int | None = None
    reference: str | None = None


def acquire_from_external(
    uow: UnitOfWork, order: ExternalAcquisition, actor: str
) -> list[UnitBlock]:
    source = registry_of(uow, order.from_registry)
    if source.hosted:
        raise InvalidInput("transfers between hosted registries are recorded by `transfer`")
    destination = account_of(uow, order.to_account)
    destination_registry = registry_of(uow, destination.registry_id)
    if destination.account_type is not AccountType.HOLDING or not destination_registry.hosted:
        raise AccountTypeMismatch("acquisitions go to a holding account hosted here")
    rules.check_vintage(order.attributes.vintage)
    approach_of(uow, order.attributes.ca_id)
    if order.first < 1 or order.last < order.first:
        raise InvalidInput("a serial range needs 1 <= first <= last")
    if order.first_transferred and order.authorization_id is None:
        raise InvalidInput(
            "first transferred units (ITMOs) arrive with the authorization they were first "
            "transferred under",
            field="authorization_id",
        )
    if destination_registry.party != source.party and not order.first_transferred:
        raise UnitsNotAuthorized(
            "units arriving from another Party must already be first transferred (ITMOs)"
        )
    key = (
        order.attributes.ca_id,
        order.attributes.registry_id,
        order.attributes.first_transferring_party,
        order.attributes.vintage,
    )
    overlapping = uow.projection.overlapping_blocks(key, order.first, order.last)
    origin = uow.projection.get_registry(order.attributes.registry_id)
    extra: dict[str, JsonValue] = {
        "from_registry": source.registry_id,
        "reference": order.reference,
    }
    if overlapping or (origin is not None and origin.hosted):
        # Units that once left for this external registry come back: move them. Units that
        # originate in a registry hosted here were issued here, so they can only come back.
        selection = UnitSelection(
            ranges=(SerialRange(order.first, order.last),),
            ca_id=key[0],
            originating_registry=key[1],
            first_transferring_party=key[2],
            vintage=key[3],
        )
        try:
            carved = carve_blocks(uow, external_account_id(source.registry_id), selection)
        except SerialsNotHeld as exc:
            raise SerialsNotHeld(
                f"serials {order.first}-{order.last} are not units held by "
                f"{source.registry_id}: {exc.message}",
                first=order.first,
                last=order.last,
            ) from exc
        international = destination_registry.party != source.party
        moved = [
            replace(
                b,
                account_id=destination.account_id,
                # Crossing to another Party through the external registry: the first transfer
                # was recorded there (the order says the units arrive first transferred).
                first_transfer_seq=(
                    -1 if international and not b.first_transferred else b.first_transfer_seq
                ),
            )
            for b in carved.acted
        ]
        payload: dict[str, JsonValue] = {
            "transferring_party": source.party,
            "to_account": destination.account_id,
            "quantity": _quantity(moved),
            **extra,
            **_blocks_payload([*carved.remainders, *moved], moved, carved.superseded),
        }
        record_entry(uow, "itmo.acquisition", payload, actor)
        return moved
    seq = uow.log.size()
    block = UnitBlock(
        block_id=uow.projection.next_block_id(),
        attributes=order.attributes,
        first=order.first,
        last=order.last,
        account_id=destination.account_id,
        authorization_id=order.authorization_id,
        authorization_version=order.authorization_version,
        first_transfer_seq=-1 if order.first_transferred else None,
        underlying_first=order.underlying_first,
        underlying_last=(
            None
            if order.underlying_first is None
            else order.underlying_first + order.last - order.first
        ),
        created_seq=seq,
    )
    _acquisition(uow, [block], source.party, destination.account_id, actor, extra)
    return [block]


# --- use and cancellation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UseOrder:
    """Use towards the NDC for a calendar year (``use_year``), or for OIMP (``oimp_purpose``)."""

    from_account: str
    to_account: str
    selection: UnitSelection
    use_year: int | None = None
    oimp_purpose: str | None = None
    entity_id: str | None = None
    reference: str | None = None


def _terminal_accounts(
    uow: UnitOfWork,
    from_account: str,
    to_account: str,
    wanted: AccountType | tuple[AccountType, ...],
) -> tuple[Account, Account, Registry]:
    source = account_of(uow, from_account)
    destination = account_of(uow, to_account)
    kinds = wanted if isinstance(wanted, tuple) else (wanted,)
    if source.account_type is not AccountType.HOLDING:
        raise AccountTypeMismatch("units are used or cancelled from a holding account")
    if destination.account_type not in kinds or destination.registry_id != source.registry_id:
        raise AccountTypeMismatch(
            f"the destination must be a {'/'.join(k.value for k in kinds)} account of "
            f"{source.registry_id}",
            account_id=destination.account_id,
        )
    registry = registry_of(uow, source.registry_id)
    if not registry.hosted:
        raise RegistryDoesNotOwnUnits("units in an external registry are used by that registry")
    return source, destination, registry


def use_for_ndc(uow: UnitOfWork, order: UseOrder, actor: str) -> list[UnitBlock]:
    if order.use_year is None:
        raise InvalidInput("use towards an NDC needs the calendar year of use", field="use_year")
    source, destination, registry = _terminal_accounts(
        uow, order.from_account, order.to_account, AccountType.NDC_USE
    )
    party = party_of(uow, registry.party)
    if party.ndc is None:
        raise NdcNotDeclared(f"{party.code} has not declared its NDC period", party=party.code)
    carved = carve_blocks(uow, source.account_id, order.selection)
    for block in carved.acted:
        rules.check_not_retired(block)
        rules.check_use_within_ndc_period(party.ndc, block.attributes.vintage, order.use_year)
        rules.check_authorized(block)
        authorization = authorization_of(
            uow, block.authorization_id or "", block.authorization_version
        )
        rules.check_purpose(authorization, ndc=True)
        if block.attributes.first_transferring_party == party.code:
            raise OwnUnitsNotUsable(
                f"serials {block.first}-{block.last} originate with {party.code}: a Party "
                "uses towards its NDC only ITMOs first transferred to it by another Party",
                block_id=block.block_id,
                party=party.code,
            )
        rules.check_first_transferred(block)
        rules.check_not_inconsistent(block)
    used = [replace(b, account_id=destination.account_id, retired=True) for b in carved.acted]
    payload: dict[str, JsonValue] = {
        "from_account": source.account_id,
        "to_account": destination.account_id,
        "using_party": party.code,
        "use_year": order.use_year,
        "quantity": _quantity(used),
        "reference": order.reference,
        **_blocks_payload([*carved.remainders, *used], used, carved.superseded),
    }
    record_entry(uow, "itmo.use", payload, actor)
    return used


def use_for_oimp(uow: UnitOfWork, order: UseOrder, actor: str) -> list[UnitBlock]:
    if not order.oimp_purpose:
        raise InvalidInput("OIMP use needs the purpose, e.g. CORSIA", field="oimp_purpose")
    source, destination, registry = _terminal_accounts(
        uow, order.from_account, order.to_account, AccountType.OIMP_USE
    )
    if order.entity_id is not None and uow.projection.get_entity(order.entity_id) is None:
        raise AuthorizedEntityNotFound(f"entity {order.entity_id} is not recorded")
    carved = carve_blocks(uow, source.account_id, order.selection)
    on = uow.now().date()
    for block in carved.acted:
        rules.check_not_retired(block)
        rules.check_authorized(block)
        authorization = authorization_of(
            uow, block.authorization_id or "", block.authorization_version
        )
        rules.check_purpose(authorization, ndc=False)
        if order.oimp_purpose and authorization.oimp_authorized not in (None, order.oimp_purpose):
            raise AuthorizationLimitExceeded(
                f"authorized for OIMP {authorization.oimp_authorized!r}, "
                f"not {order.oimp_purpose!r}",
                authorization_id=authorization.authorization_id,
            )
        rules.check_transfer_allowed(authorization, registry.party, on, order.entity_id)
    return _retire(
        uow,
        carved,
        destination,
        "itmo.oimp_use",
        {
            "oimp_purpose": order.oimp_purpose,
            "entity_id": order.entity_id,
            "using_party": registry.party,
            "reference": order.reference,
            "from_account": source.account_id,
        },
        actor,
        first_transfer_subtype=FirstTransferDefinition.USE_OR_CANCELLATION.value,
    )


@dataclass(frozen=True, slots=True)
class CancellationOrder:
    from_account: str
    to_account: str
    selection: UnitSelection
    kind: CancellationKind = CancellationKind.OTHER
    reference: str | None = None


def cancel(uow: UnitOfWork, order: CancellationOrder, actor: str) -> list[UnitBlock]:
    """Cancellation, including voluntary cancellation to deliver OMGE. An OMGE cancellation of
    authorized units not yet first transferred is recorded as their first transfer
    (4/CMA.6 paras 16-17)."""
    wanted = (
        AccountType.CANCELLATION
        if order.kind is CancellationKind.OTHER
        else AccountType.VOLUNTARY_CANCELLATION
    )
    source, destination, registry = _terminal_accounts(
        uow, order.from_account, order.to_account, wanted
    )
    carved = carve_blocks(uow, source.account_id, order.selection)
    for block in carved.acted:
        rules.check_not_retired(block)
    subtype = (
        order.kind.value
        if order.kind is not CancellationKind.OTHER
        else FirstTransferDefinition.USE_OR_CANCELLATION.value
    )
    return _retire(
        uow,
        carved,
        destination,
        "itmo.cancellation",
        {
            "subtype": order.kind.value,
            "cancelling_party": registry.party,
            "reference": order.reference,
            "from_account": source.account_id,
        },
        actor,
        first_transfer_subtype=subtype,
        omge=order.kind is not CancellationKind.OTHER,
    )


def _retire(
    uow: UnitOfWork,
    carved: Carved,
    destination: Account,
    kind: str,
    extra: Mapping[str, JsonValue],
    actor: str,
    *,
    first_transfer_subtype: str,
    omge: bool = False,
) -> list[UnitBlock]:
    """Move carved units into a terminal account, first transferring those not yet first
    transferred whose first transfer this use or cancellation is: an OMGE cancellation of
    authorized units (4/CMA.6 paras 16-17), and the use or cancellation of OIMP-authorized units
    (their definition's event, or the last moment it can still be recorded)."""
    firing: dict[str, list[UnitBlock]] = defaultdict(list)
    for block in carved.acted:
        if block.first_transferred or block.authorization_id is None:
            continue
        if omge:
            firing[first_transfer_subtype].append(block)
            continue
        authorization = authorization_of(uow, block.authorization_id)
        if authorization.purposes.covers_oimp:
            definition = (
                authorization.first_transfer_definition
                or FirstTransferDefinition.USE_OR_CANCELLATION
            )
            firing[definition.value].append(block)
    remainders, superseded = carved.remainders, carved.superseded
    current = {b.block_id: b for b in carved.acted}
    for subtype, blocks in firing.items():
        for block in _first_transfer(
            uow,
            blocks,
            subtype,
            None,
            actor,
            superseded=superseded,
            remainders=remainders,
        ):
            current[block.block_id] = block
        remainders, superseded = [], []
    retired = [
        replace(current[b.block_id], account_id=destination.account_id, retired=True)
        for b in carved.acted
    ]
    payload: dict[str, JsonValue] = {
        "to_account": destination.account_id,
        "quantity": _quantity(retired),
        **extra,
        **_blocks_payload([*remainders, *retired], retired, superseded),
    }
    record_entry(uow, kind, payload, actor)
    return retired


def ensure_registry_owns_account(uow: UnitOfWork, account_id: str, registry_id: str) -> None:
    """Only the registry holding units can move them (the HTTP layer passes the caller's
    registry)."""
    account = account_of(uow, account_id)
    if account.registry_id != registry_id:
        raise RegistryDoesNotOwnUnits(
            f"account {account_id} belongs to {account.registry_id}, not {registry_id}",
            account_id=account_id,
            registry_id=registry_id,
        )
