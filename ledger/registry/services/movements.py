"""Movements of units: the first transfer, transfers between accounts (and the acquisition a
hosted receiving registry records), and acquisitions from external registries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ledger.errors import (
    AccountTypeMismatch,
    FirstTransferPending,
    InvalidInput,
    RegistryDoesNotOwnUnits,
    SerialsNotHeld,
    UnitsNotAuthorized,
)
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import rules
from ledger.registry.dating import UNDATED, DatedAction, Dating, date_action
from ledger.registry.model import (
    AccountType,
    FirstTransferDefinition,
    SerialRange,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.services.blocks import (
    blocks_payload,
    carve_blocks,
    check_dated,
    total_quantity,
)
from ledger.registry.services.lookups import (
    account_of,
    approach_of,
    authorization_in_force,
    authorization_of,
    external_account_id,
    party_of,
    registry_of,
)

FIRST_TRANSFER_TO_PARTY = "First transfer to another Party"
ADAPTATION_FUND_SUBTYPE = "Voluntary transfer to the Adaptation Fund (A6.4 ERs)"
OIMP_DEFINITIONS = frozenset(d.value for d in FirstTransferDefinition)
"""Subtypes of the first transfers an OIMP first-transfer definition fires."""


def record_first_transfer(
    uow: UnitOfWork,
    blocks: Sequence[UnitBlock],
    subtype: str,
    acquiring_party: str | None,
    actor: str,
    *,
    when: DatedAction,
    to_account: str | None = None,
    superseded: Sequence[int] = (),
    remainders: Sequence[UnitBlock] = (),
    extra: Mapping[str, JsonValue] | None = None,
) -> list[UnitBlock]:
    """Record the first transfer of ``blocks`` (one entry), dated ``when``: the first
    transferring Party's corresponding adjustment is booked to their vintage from here on. The
    block is pinned to the authorization version in force on that date (one dated on or before
    it, else the first transfer is refused); an OIMP first transfer closes with its NDC
    period's deadline."""
    seq = uow.log.size()
    on = when.on
    moved: list[UnitBlock] = []
    for block in blocks:
        rules.check_authorized(block)
        rules.check_not_first_transferred(block)
        block = check_dated(uow, block, on)
        assert block.authorization_id is not None
        authorization = authorization_in_force(uow, block.authorization_id, on)
        if subtype in OIMP_DEFINITIONS:
            transferring = party_of(uow, block.attributes.first_transferring_party)
            rules.check_oimp_first_transfer_deadline(
                transferring.ndc_covering(block.attributes.vintage),
                block.attributes.vintage,
                on,
                when.end_of_period_btr_after,
            )
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
        "quantity": total_quantity(moved),
        **(extra or {}),
        **when.payload(),
        **blocks_payload(uow, [*remainders, *moved], moved, superseded),
    }
    record_entry(uow, "itmo.first_transfer", payload, actor)
    return moved


@dataclass(frozen=True, slots=True)
class TransferOrder:
    from_account: str
    to_account: str
    selection: UnitSelection
    reference: str | None = None


def transfer(
    uow: UnitOfWork, order: TransferOrder, actor: str, *, dating: Dating = UNDATED
) -> list[UnitBlock]:
    """Move units to another account. Between Parties this is the first transfer for units not
    yet first transferred (NDC-authorized: the first international transfer), otherwise a
    transfer; a hosted receiving registry records the acquisition in the same unit of work.
    Every entry is dated ``dating``'s action date."""
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
    when = date_action(uow, dating, (source_registry.party, destination_registry.party))
    carved = carve_blocks(uow, source.account_id, order.selection, on=when.on)
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
        moved += record_first_transfer(
            uow,
            first_now,
            subtype,
            acquiring,
            actor,
            when=when,
            to_account=destination.account_id,
            superseded=superseded,
            remainders=remainders,
            extra=extra,
        )
        remainders, superseded = [], []
    if plain:
        on = when.on
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
            "quantity": total_quantity(shifted),
            **extra,
            **when.payload(),
            **blocks_payload(uow, [*remainders, *shifted], shifted, superseded),
        }
        record_entry(uow, "itmo.transfer", payload, actor)
        moved += shifted
    if international and destination_registry.hosted:
        record_acquisition(uow, moved, source_registry.party, destination.account_id, actor, when)
    return moved


def record_acquisition(
    uow: UnitOfWork,
    blocks: Sequence[UnitBlock],
    transferring_party: str,
    account_id: str,
    actor: str,
    when: DatedAction,
    extra: Mapping[str, JsonValue] | None = None,
) -> None:
    payload: dict[str, JsonValue] = {
        "transferring_party": transferring_party,
        "to_account": account_id,
        "quantity": total_quantity(blocks),
        **(extra or {}),
        **when.payload(),
        **blocks_payload(uow, blocks, blocks),
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
    uow: UnitOfWork, order: ExternalAcquisition, actor: str, *, dating: Dating = UNDATED
) -> list[UnitBlock]:
    """Record units arriving from an external registry, dated ``dating``'s action date: units
    that once left for it come back (their blocks move), others arrive as new blocks."""
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
    when = date_action(uow, dating, (destination_registry.party,))
    rules.check_vintage_achieved(order.attributes.vintage, when.on)
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
            carved = carve_blocks(
                uow, external_account_id(source.registry_id), selection, on=when.on
            )
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
            "quantity": total_quantity(moved),
            **extra,
            **when.payload(),
            **blocks_payload(uow, [*carved.remainders, *moved], moved, carved.superseded),
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
        last_action_date=when.on,
    )
    record_acquisition(uow, [block], source.party, destination.account_id, actor, when, extra)
    return [block]
