"""Request and response models of reference data: Parties and their NDC periods, registries,
cooperative approaches, accounts."""

from __future__ import annotations

from pydantic import Field, StrictBool

from app.schemas.base import (
    AccountId,
    CaId,
    MetricName,
    PartyCode,
    RegistryId,
    RequestModel,
    ResponseModel,
    ShortText,
    Year,
)
from ledger.registry.codec import to_json
from ledger.registry.model import (
    Account,
    AccountType,
    CaMethod,
    CooperativeApproach,
    Metric,
    NdcDeclaration,
    NdcPeriod,
    NdcType,
    Party,
    Registry,
)


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
    """An account holds units of one metric (2/CMA.3 annex para 9): ``GHG`` (t CO2 eq, the
    default) or ``non-GHG`` with its ``non_ghg_metric`` (e.g. ``MWh``)."""

    account_id: AccountId
    registry_id: RegistryId
    account_type: AccountType
    name: ShortText
    metric: Metric = Metric.GHG
    non_ghg_metric: MetricName | None = None

    def to_domain(self) -> Account:
        return Account(
            self.account_id,
            self.registry_id,
            self.account_type,
            self.name,
            self.metric,
            self.non_ghg_metric,
        )


class AccountPublic(ResponseModel):
    account_id: str
    registry_id: str
    account_type: AccountType
    name: str
    metric: Metric | None = Field(
        description="The metric of the units it holds; null: opened before accounts were "
        "metric-specific (no check)"
    )
    non_ghg_metric: str | None

    @classmethod
    def from_domain(cls, account: Account) -> AccountPublic:
        return cls.model_validate(to_json(account))
