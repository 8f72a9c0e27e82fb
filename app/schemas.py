"""Request and response models. Requests are strict: unknown fields, wrong types and integers
outside the ledger's exact range are 422 problems, before any domain code runs.

Dates and years must be plausible for Article 6.2 (1990 to 2100), and names and free texts
must read as they print: invisible format characters (bidirectional overrides and isolates,
zero-width characters, byte order marks, soft hyphens: Unicode category Cf) are refused, and
the rest is normalized to NFC, so two names that look alike in a report are the same string.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from ledger.registry.codec import from_json, to_json
from ledger.registry.dating import Dating
from ledger.registry.model import (
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CaMethod,
    CancellationKind,
    CooperativeApproach,
    FirstTransferDefinition,
    Metric,
    MitigationType,
    NdcDeclaration,
    NdcPeriod,
    NdcType,
    Party,
    Purpose,
    Registry,
    SerialRange,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)

MAX_EXACT = 2**53 - 1
Quantity = Annotated[int, Field(gt=0, le=MAX_EXACT, strict=True)]
Serial = Annotated[int, Field(ge=1, le=MAX_EXACT, strict=True)]
Year = Annotated[int, Field(ge=1990, le=2100, strict=True)]
PartyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["JPN"])]
RegistryId = Annotated[str, Field(pattern=r"^[A-Z]{3}\d{2}$", examples=["JPN01"])]
CaId = Annotated[str, Field(pattern=r"^CA\d{4}$", examples=["CA0001"])]
AccountId = Annotated[
    str, Field(pattern=r"^[A-Z]{3}\d{2}-[A-Z0-9-]{1,40}$", examples=["JPN01-GOV"])
]
FIRST_DATE = date(1990, 1, 1)
LAST_DATE = date(2100, 12, 31)


def plausible_date(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"must be a date from {FIRST_DATE} to {LAST_DATE}")
    return value


LedgerDate = Annotated[
    date,
    AfterValidator(plausible_date),
    Field(description=f"A date from {FIRST_DATE} to {LAST_DATE}."),
]
"""An action or validity date: 1990-01-01 to 2100-12-31 (``0001-01-01`` and ``9999-12-31``
are typing errors, never Article 6.2 dates)."""


def visible_text(value: str) -> str:
    """``value`` in NFC; ``ValueError`` if it holds an invisible format character."""
    hidden = sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) == "Cf"})
    if hidden:
        raise ValueError(
            "must not contain invisible format characters (bidirectional controls, zero-width "
            f"characters, byte order marks): {', '.join(hidden)}"
        )
    return unicodedata.normalize("NFC", value)


# No control characters in identifiers and names (PostgreSQL text cannot even hold NUL);
# long texts may contain line breaks and tabs. Neither holds invisible format characters.
_NO_FORMAT_CHARACTERS = "No invisible format characters (Unicode category Cf); stored in NFC."
ShortText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description=_NO_FORMAT_CHARACTERS,
    ),
    AfterValidator(visible_text),
]
LongText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4000,
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+$",
        description=_NO_FORMAT_CHARACTERS,
    ),
    AfterValidator(visible_text),
]
AuthorizationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,63}$")]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class DatedRequest(RequestModel):
    """An action request: the date the action took effect, if not today, and whether it
    knowingly restates a reported year whose AEF was submitted."""

    action_date: LedgerDate | None = Field(
        default=None,
        description="The date the action took effect in the registry of record (ISO 8601, "
        "UTC); default: the recording date. Never in the future; only admin tokens and "
        "registry tokens acting for their own registry may send a date other than today. "
        f"A date from {FIRST_DATE} to {LAST_DATE}.",
        examples=["2025-11-11"],
    )
    restates: StrictBool = Field(
        default=False,
        description="The action is dated in a reported year whose AEF was already submitted and "
        "restates that year: the next AEF version of the year shows it. Without it such an "
        "action is refused (rule restates-submitted-year).",
    )

    def dating(self, end_of_period_btr_after: int) -> Dating:
        return Dating(self.action_date, self.restates, end_of_period_btr_after)


# --- reference data ------------------------------------------------------------------------------


class NdcDeclarationIn(RequestModel):
    ndc_type: NdcType
    metric: Metric
    period_start: Year
    period_end: Year
    method: CaMethod
    target_year: Year
    non_ghg_unit: ShortText | None = None

    def to_domain(self) -> NdcDeclaration:
        return NdcDeclaration(**self.model_dump())


class NdcDeclarationPublic(ResponseModel):
    ndc_type: NdcType
    metric: Metric
    period_start: int
    period_end: int
    method: CaMethod
    target_year: int
    non_ghg_unit: str | None = None


class NdcPeriodPublic(NdcDeclarationPublic):
    """One of the Party's NDC periods: its declaration in force and the version of it (1 as
    declared, one more per amendment)."""

    version: int

    @classmethod
    def from_domain(cls, period: NdcPeriod) -> NdcPeriodPublic:
        return cls.model_validate({**to_json(period.declaration), "version": period.version})


class PartyCreate(RequestModel):
    code: PartyCode
    name: ShortText
    ndc: NdcDeclarationIn | None = Field(
        default=None, description="The Party's first NDC period; declare later ones afterwards"
    )

    def to_domain(self) -> Party:
        return Party.with_ndc(self.code, self.name, self.ndc.to_domain() if self.ndc else None)


class PartyPublic(ResponseModel):
    code: str
    name: str
    ndc: NdcDeclarationPublic | None = Field(
        default=None, description="The Party's first NDC period (every period: ndc_periods)"
    )
    ndc_periods: list[NdcPeriodPublic] = Field(
        default_factory=list, description="The Party's successive NDC periods, in period order"
    )

    @classmethod
    def from_domain(cls, party: Party) -> PartyPublic:
        periods = [NdcPeriodPublic.from_domain(p) for p in party.ndc_periods]
        first = None if not party.ndc_periods else party.ndc_periods[0].declaration
        return cls(
            code=party.code,
            name=party.name,
            ndc=None if first is None else NdcDeclarationPublic.model_validate(to_json(first)),
            ndc_periods=periods,
        )


class RegistryCreate(RequestModel):
    registry_id: RegistryId
    party: PartyCode
    name: ShortText
    hosted: StrictBool = True

    def to_domain(self) -> Registry:
        return Registry(self.registry_id, self.party, self.name, self.hosted)


class RegistryPublic(ResponseModel):
    registry_id: str
    party: str
    name: str
    hosted: bool

    @classmethod
    def from_domain(cls, registry: Registry) -> RegistryPublic:
        return cls.model_validate(to_json(registry))


class CooperativeApproachCreate(RequestModel):
    ca_id: CaId
    name: ShortText
    parties: list[PartyCode] = Field(min_length=2, max_length=200)

    def to_domain(self) -> CooperativeApproach:
        return CooperativeApproach(self.ca_id, self.name, tuple(self.parties))


class CooperativeApproachPublic(ResponseModel):
    ca_id: str
    name: str
    parties: list[str]

    @classmethod
    def from_domain(cls, approach: CooperativeApproach) -> CooperativeApproachPublic:
        return cls.model_validate(to_json(approach))


class AccountCreate(RequestModel):
    account_id: AccountId
    registry_id: RegistryId
    account_type: AccountType
    name: ShortText

    def to_domain(self) -> Account:
        return Account(self.account_id, self.registry_id, self.account_type, self.name)


class AccountPublic(ResponseModel):
    account_id: str
    registry_id: str
    account_type: AccountType
    name: str

    @classmethod
    def from_domain(cls, account: Account) -> AccountPublic:
        return cls.model_validate(to_json(account))


# --- authorizations ------------------------------------------------------------------------------


class AuthorizationCreate(RequestModel):
    """One version of an authorization (AEF Table 2). Posting an existing id records a new
    version; ITMOs already first transferred keep the version they were transferred under.
    Its action date is ``authorized_on``: not in the future, and in a reported year whose AEF
    was submitted only with ``restates``."""

    authorization_id: AuthorizationId
    party: PartyCode
    ca_id: CaId
    authorized_on: LedgerDate
    purposes: Purpose
    metric: Metric
    gwp: ShortText
    sectors: list[ShortText] = Field(default_factory=list, max_length=50)
    activity_types: list[ShortText] = Field(default_factory=list, max_length=50)
    vintage_from: Year
    vintage_to: Year
    quantity: Quantity | None = None
    non_ghg_metric: ShortText | None = None
    authorized_parties: list[PartyCode] = Field(default_factory=list, max_length=200)
    authorized_entities: list[ShortText] = Field(default_factory=list, max_length=1000)
    oimp_authorized: ShortText | None = None
    first_transfer_definition: str | None = Field(
        default=None,
        description="OIMP first-transfer definition: Authorization, Issuance or Use or "
        "cancellation (the nomenclature spellings Authorisation / Use or Cancellation are "
        "accepted too)",
    )
    valid_until: LedgerDate | None = None
    terms: LongText | None = None
    documentation: LongText | None = None
    explanatory: LongText | None = None
    restates: StrictBool = Field(
        default=False,
        description="``authorized_on`` lies in a reported year whose AEF was already submitted "
        "and the new version restates it.",
    )

    def to_domain(self) -> Authorization:
        data: dict[str, Any] = self.model_dump(exclude={"restates"})
        definition = data.pop("first_transfer_definition")
        for name in ("sectors", "activity_types", "authorized_parties", "authorized_entities"):
            data[name] = tuple(data[name])
        return Authorization(
            version=0,
            first_transfer_definition=(
                None if definition is None else FirstTransferDefinition.parse(definition)
            ),
            **data,
        )


class AuthorizationPublic(ResponseModel):
    authorization_id: str
    version: int
    party: str
    ca_id: str
    authorized_on: date
    purposes: Purpose
    metric: Metric
    gwp: str
    sectors: list[str]
    activity_types: list[str]
    vintage_from: int
    vintage_to: int
    quantity: int | None
    non_ghg_metric: str | None
    authorized_parties: list[str]
    authorized_entities: list[str]
    oimp_authorized: str | None
    first_transfer_definition: FirstTransferDefinition | None
    valid_until: date | None
    terms: str | None
    documentation: str | None
    explanatory: str | None
    recorded_seq: int

    @classmethod
    def from_domain(cls, authorization: Authorization) -> AuthorizationPublic:
        return cls.model_validate(to_json(authorization))


class AuthorizedEntityCreate(RequestModel):
    entity_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
    name: ShortText
    country: PartyCode
    identification: ShortText
    ca_id: CaId
    authorized_on: LedgerDate
    conditions: LongText | None = None
    change_conditions: LongText | None = None
    explanatory: LongText | None = None

    def to_domain(self) -> AuthorizedEntity:
        return AuthorizedEntity(**self.model_dump())


class AuthorizedEntityPublic(ResponseModel):
    entity_id: str
    name: str
    country: str
    identification: str
    ca_id: str
    authorized_on: date
    conditions: str | None
    change_conditions: str | None
    explanatory: str | None

    @classmethod
    def from_domain(cls, entity: AuthorizedEntity) -> AuthorizedEntityPublic:
        return cls.model_validate(to_json(entity))


# --- units ---------------------------------------------------------------------------------------


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
