"""Retirement of units into terminal accounts: use towards an NDC, OIMP use and cancellation
(including voluntary cancellation for OMGE), first-transferring the units whose first transfer
this retirement is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ledger.errors import (
    AccountTypeMismatch,
    AuthorizationLimitExceeded,
    AuthorizedEntityNotFound,
    InvalidInput,
    NdcNotDeclared,
    OwnUnitsNotUsable,
    RegistryDoesNotOwnUnits,
)
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import rules
from ledger.registry.dating import UNDATED, DatedAction, Dating, date_action
from ledger.registry.model import (
    Account,
    AccountType,
    CancellationKind,
    FirstTransferDefinition,
    Registry,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.services.blocks import Carved, blocks_payload, carve_blocks, total_quantity
from ledger.registry.services.conversions import conversions as recorded_conversions
from ledger.registry.services.lookups import account_of, authorization_of, party_of, registry_of
from ledger.registry.services.movements import record_first_transfer


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


def use_for_ndc(
    uow: UnitOfWork, order: UseOrder, actor: str, *, dating: Dating = UNDATED
) -> list[UnitBlock]:
    """Use ITMOs towards the NDC for ``order.use_year``, dated ``dating``'s action date."""
    if order.use_year is None:
        raise InvalidInput("use towards an NDC needs the calendar year of use", field="use_year")
    source, destination, registry = _terminal_accounts(
        uow, order.from_account, order.to_account, AccountType.NDC_USE
    )
    party = party_of(uow, registry.party)
    if not party.ndc_periods:
        raise NdcNotDeclared(f"{party.code} has not declared its NDC period", party=party.code)
    when = date_action(uow, dating, (party.code,))
    carved = carve_blocks(uow, source.account_id, order.selection, on=when.on)
    for block in carved.acted:
        rules.check_not_retired(block)
        rules.check_use_within_ndc_periods(party, block.attributes.vintage, order.use_year)
        rules.check_use_year_not_before_vintage(block.attributes.vintage, order.use_year)
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
        rules.check_usable_metric(
            party.ndc_covering(order.use_year), block, lambda: recorded_conversions(uow), when.on
        )
    used = [replace(b, account_id=destination.account_id, retired=True) for b in carved.acted]
    payload: dict[str, JsonValue] = {
        "from_account": source.account_id,
        "to_account": destination.account_id,
        "using_party": party.code,
        "use_year": order.use_year,
        "quantity": total_quantity(used),
        "reference": order.reference,
        **when.payload(),
        **blocks_payload(uow, [*carved.remainders, *used], used, carved.superseded),
    }
    record_entry(uow, "itmo.use", payload, actor)
    return used


def use_for_oimp(
    uow: UnitOfWork, order: UseOrder, actor: str, *, dating: Dating = UNDATED
) -> list[UnitBlock]:
    """Use or cancel ITMOs for OIMP (``order.oimp_purpose``), dated ``dating``'s action date."""
    if not order.oimp_purpose:
        raise InvalidInput("OIMP use needs the purpose, e.g. CORSIA", field="oimp_purpose")
    source, destination, registry = _terminal_accounts(
        uow, order.from_account, order.to_account, AccountType.OIMP_USE
    )
    if order.entity_id is not None and uow.projection.get_entity(order.entity_id) is None:
        raise AuthorizedEntityNotFound(f"entity {order.entity_id} is not recorded")
    when = date_action(uow, dating, (registry.party,))
    carved = carve_blocks(uow, source.account_id, order.selection, on=when.on)
    on = when.on
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
        when,
        first_transfer_subtype=FirstTransferDefinition.USE_OR_CANCELLATION.value,
    )


@dataclass(frozen=True, slots=True)
class CancellationOrder:
    from_account: str
    to_account: str
    selection: UnitSelection
    kind: CancellationKind = CancellationKind.OTHER
    reference: str | None = None


def cancel(
    uow: UnitOfWork, order: CancellationOrder, actor: str, *, dating: Dating = UNDATED
) -> list[UnitBlock]:
    """Cancellation, including voluntary cancellation to deliver OMGE, dated ``dating``'s
    action date. An OMGE cancellation of authorized units not yet first transferred is recorded
    as their first transfer (4/CMA.6 paras 16-17)."""
    wanted = (
        AccountType.CANCELLATION
        if order.kind is CancellationKind.OTHER
        else AccountType.VOLUNTARY_CANCELLATION
    )
    source, destination, registry = _terminal_accounts(
        uow, order.from_account, order.to_account, wanted
    )
    when = date_action(uow, dating, (registry.party,))
    carved = carve_blocks(uow, source.account_id, order.selection, on=when.on)
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
        when,
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
    when: DatedAction,
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
        for block in record_first_transfer(
            uow,
            blocks,
            subtype,
            None,
            actor,
            when=when,
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
        "quantity": total_quantity(retired),
        **extra,
        **when.payload(),
        **blocks_payload(uow, [*remainders, *retired], retired, superseded),
    }
    record_entry(uow, kind, payload, actor)
    return retired
