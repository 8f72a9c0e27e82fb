"""Issuance of mitigation outcomes into a hosted registry, split into shares, with the first
transfers the OIMP "Issuance" and "Authorization" definitions fire at issuance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from ledger.errors import (
    AccountTypeMismatch,
    FirstTransferPending,
    InvalidInput,
    UnitsNotAuthorized,
)
from ledger.log.canonical import JsonValue
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import rules
from ledger.registry.dating import UNDATED, Dating, date_action
from ledger.registry.model import AccountType, FirstTransferDefinition, UnitAttributes, UnitBlock
from ledger.registry.services.blocks import blocks_payload, total_quantity
from ledger.registry.services.jcm import check_follows_decision
from ledger.registry.services.lookups import (
    account_of,
    approach_of,
    authorization_in_force,
    authorization_of,
    registry_of,
)
from ledger.registry.services.movements import (
    FIRST_TRANSFER_TO_PARTY,
    record_acquisition,
    record_first_transfer,
)


@dataclass(frozen=True, slots=True)
class IssuanceShare:
    account_id: str
    quantity: int
    authorization_id: str | None = None
    underlying_first: int | None = None


@dataclass(frozen=True, slots=True)
class Issuance:
    """Issuance of mitigation outcomes into a hosted registry, e.g. JCM credits per a Joint
    Committee decision, split into shares (the partner's and Japan's). A ``decision_reference``
    naming a recorded decision (:mod:`~ledger.registry.services.jcm`) must be followed."""

    registry_id: str
    attributes: UnitAttributes
    shares: tuple[IssuanceShare, ...]
    decision_reference: str | None = None


def issue(
    uow: UnitOfWork, issuance: Issuance, actor: str, *, dating: Dating = UNDATED
) -> list[UnitBlock]:
    """Issue the shares as new blocks, dated ``dating``'s action date: not in a year before the
    vintage, and not before the date of the authorization a share is issued under."""
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
    rules.check_unit_metric(attrs)
    if not issuance.shares:
        raise InvalidInput("an issuance needs at least one share")
    when = date_action(uow, dating, (registry.party,))
    rules.check_vintage_achieved(attrs.vintage, when.on)
    decision = check_follows_decision(
        uow,
        issuance.decision_reference,
        registry.registry_id,
        attrs,
        [(share.account_id, share.quantity) for share in issuance.shares],
    )
    key = (attrs.ca_id, attrs.registry_id, attrs.first_transferring_party, attrs.vintage)
    serial = uow.projection.next_serial(key)
    block_id = uow.projection.next_block_id()
    seq = uow.log.size()
    blocks: list[UnitBlock] = []
    pending_by_authorization: dict[str, int] = defaultdict(int)
    direct: dict[int, str] = {}  # block id -> receiving Party, for direct issuance
    for share in issuance.shares:
        account = account_of(uow, share.account_id)
        if account.account_type is not AccountType.HOLDING or (
            account.registry_id != registry.registry_id and decision is None
        ):
            raise AccountTypeMismatch(
                f"issuance goes to a holding account of {registry.registry_id} (or where a "
                "recorded Joint Committee decision it cites issues directly)",
                account_id=share.account_id,
            )
        if account.registry_id != registry.registry_id:
            receiving = registry_of(uow, account.registry_id).party
            if share.authorization_id is None:
                raise UnitsNotAuthorized(
                    f"a share issued directly into {account.account_id} is first transferred to "
                    f"{receiving} at issuance: it is issued under an authorization",
                    account_id=account.account_id,
                )
            direct[block_id] = receiving
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
            last_action_date=when.on,
        )
        if share.authorization_id is not None:
            authorization = authorization_in_force(uow, share.authorization_id, when.on)
            rules.check_issuance_date(authorization, when.on)
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
        "quantity": total_quantity(blocks),
        **when.payload(),
        **blocks_payload(uow, blocks, blocks),
    }
    record_entry(uow, "mo.issued", payload, actor)
    # A share issued directly into another Party's registry (JCM: Japan's share, when the Joint
    # Committee decision says so) is first transferred to that Party now: its first
    # international transfer is this issuance; that Party's registry records the acquisition.
    for receiving in sorted(set(direct.values())):
        landed = [b for b in blocks if direct.get(b.block_id) == receiving]
        for block in landed:
            authorization = authorization_of(uow, block.authorization_id or "")
            if not authorization.purposes.covers_ndc:
                raise FirstTransferPending(
                    f"serials {block.first}-{block.last} are authorized for OIMP only: they "
                    f"cannot be issued into {receiving}'s registry",
                    block_id=block.block_id,
                    authorization_id=authorization.authorization_id,
                )
        moved = record_first_transfer(
            uow, landed, FIRST_TRANSFER_TO_PARTY, receiving, actor, when=when
        )
        for account_id in sorted({b.account_id for b in moved}):
            record_acquisition(
                uow,
                [b for b in moved if b.account_id == account_id],
                registry.party,
                account_id,
                actor,
                when,
            )
    # Shares issued under an authorization are also authorized now, so both the "Issuance" and
    # the "Authorization" OIMP definitions fire (one definition per Party and approach).
    for definition in (FirstTransferDefinition.ISSUANCE, FirstTransferDefinition.AUTHORIZATION):
        fired = [b for b in blocks if b.block_id not in direct and _fires_at(uow, b, definition)]
        if fired:
            record_first_transfer(uow, fired, definition.value, None, actor, when=when)
    return [uow.projection.get_block(b.block_id) or b for b in blocks]


def _fires_at(uow: UnitOfWork, block: UnitBlock, definition: FirstTransferDefinition) -> bool:
    """Does the OIMP first-transfer definition fire for this block at this event?"""
    if block.authorization_id is None or block.first_transferred:
        return False
    authorization = authorization_of(uow, block.authorization_id)
    return (
        authorization.purposes.covers_oimp and authorization.first_transfer_definition is definition
    )
