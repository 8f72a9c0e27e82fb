"""Request and response models of unit blocks and the actions on them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field, StrictBool

from app.schemas.base import (
    MAX_EXACT,
    AccountId,
    AuthorizationId,
    CaId,
    DatedRequest,
    PartyCode,
    Quantity,
    RegistryId,
    RequestModel,
    ResponseModel,
    Serial,
    ShortText,
    Year,
)
from ledger.registry.codec import from_json, to_json
from ledger.registry.model import (
    CancellationKind,
    Metric,
    MitigationType,
    SerialRange,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)


class SerialRangeIn(RequestModel):
    first: Serial
    last: Serial


class UnitSelectionIn(RequestModel):
    """Either ``quantity`` (the registry picks blocks, oldest vintage first) or ``ranges`` with
    the block key (cooperative approach, originating registry, first transferring Party,
    vintage) that identifies the serials."""

    quantity: Quantity | None = None
    ranges: list[SerialRangeIn] = Field(default_factory=list, max_length=1000)
    ca_id: CaId | None = None
    originating_registry: RegistryId | None = None
    first_transferring_party: PartyCode | None = None
    vintage: Year | None = None

    def to_domain(self) -> UnitSelection:
        return UnitSelection(
            quantity=self.quantity,
            ranges=tuple(SerialRange(r.first, r.last) for r in self.ranges),
            ca_id=self.ca_id,
            vintage=self.vintage,
            first_transferring_party=self.first_transferring_party,
            originating_registry=self.originating_registry,
        )


class UnitAttributesIn(RequestModel):
    ca_id: CaId
    registry_id: RegistryId
    first_transferring_party: PartyCode
    vintage: Year
    metric: Metric
    gwp: ShortText
    mitigation_type: MitigationType
    sector: ShortText
    activity_type: ShortText
    underlying_registry: ShortText | None = None
    non_ghg_metric: ShortText | None = None

    def to_domain(self) -> UnitAttributes:
        return UnitAttributes(**self.model_dump())


class UnitAttributesPublic(ResponseModel):
    ca_id: str
    registry_id: str
    first_transferring_party: str
    vintage: int
    metric: Metric
    gwp: str
    mitigation_type: MitigationType
    sector: str
    activity_type: str
    underlying_registry: str | None
    non_ghg_metric: str | None


class UnitBlockPublic(ResponseModel):
    block_id: int
    itmo_first_id: str
    itmo_last_id: str
    quantity: int
    attributes: UnitAttributesPublic
    first: int
    last: int
    account_id: str
    retired: bool
    authorization_id: str | None
    authorization_version: int | None
    first_transfer_seq: int | None
    underlying_first: int | None
    underlying_last: int | None
    parent_id: int | None
    inconsistent: bool
    created_seq: int
    last_action_date: date | None = Field(
        description="Action date of the last action on these units (null for blocks written "
        "before action dates were recorded)"
    )

    @classmethod
    def from_domain(cls, block: UnitBlock) -> UnitBlockPublic:
        return cls.model_validate(
            to_json(block)
            | {
                "itmo_first_id": block.itmo_id(block.first),
                "itmo_last_id": block.itmo_id(block.last),
                "quantity": block.quantity,
            }
        )


class BlocksPublic(ResponseModel):
    blocks: list[UnitBlockPublic]
    quantity: int

    @classmethod
    def from_domain(cls, blocks: list[UnitBlock]) -> BlocksPublic:
        return cls(
            blocks=[UnitBlockPublic.from_domain(b) for b in blocks],
            quantity=sum(b.quantity for b in blocks),
        )


class IssuanceShareIn(RequestModel):
    account_id: AccountId
    quantity: Quantity
    authorization_id: AuthorizationId | None = None
    underlying_first: Serial | None = None


class IssuanceCreate(DatedRequest):
    registry_id: RegistryId
    attributes: UnitAttributesIn
    shares: list[IssuanceShareIn] = Field(min_length=1, max_length=100)
    decision_reference: ShortText | None = None


class AuthorizeUnitsCreate(DatedRequest):
    account_id: AccountId
    selection: UnitSelectionIn


class TransferCreate(DatedRequest):
    from_account: AccountId
    to_account: AccountId
    selection: UnitSelectionIn
    reference: ShortText | None = None


class AcquisitionCreate(DatedRequest):
    """Units arriving from an external registry, with their original identifiers."""

    from_registry: RegistryId
    to_account: AccountId
    attributes: UnitAttributesIn
    first: Serial
    last: Serial
    authorization_id: AuthorizationId | None = None
    authorization_version: Annotated[int, Field(ge=1, le=MAX_EXACT)] | None = None
    first_transferred: StrictBool
    underlying_first: Serial | None = None
    reference: ShortText | None = None


class UseCreate(DatedRequest):
    from_account: AccountId
    to_account: AccountId
    selection: UnitSelectionIn
    use_year: Year
    reference: ShortText | None = None


class OimpUseCreate(DatedRequest):
    from_account: AccountId
    to_account: AccountId
    selection: UnitSelectionIn
    oimp_purpose: ShortText = Field(examples=["CORSIA"])
    entity_id: ShortText | None = None
    reference: ShortText | None = None


class CancellationCreate(DatedRequest):
    from_account: AccountId
    to_account: AccountId
    selection: UnitSelectionIn
    kind: CancellationKind = CancellationKind.OTHER
    reference: ShortText | None = None


class BlockEventPublic(ResponseModel):
    seq: int
    kind: str
    block_id: int
    first: int
    last: int
    account_id: str


class SerialHistoryPublic(ResponseModel):
    itmo_id: str
    events: list[BlockEventPublic]


def unit_block_from_public(data: dict[str, Any]) -> UnitBlock:
    """Inverse of ``UnitBlockPublic.from_domain`` (for clients and tests)."""
    raw = {k: v for k, v in data.items() if k not in ("itmo_first_id", "itmo_last_id", "quantity")}
    return from_json(UnitBlock, raw)
