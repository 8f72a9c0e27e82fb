"""Article 6.2 registry records: immutable values (article6.md §1, §4).

Parties, registries, cooperative approaches, versioned authorizations, authorized entities,
accounts and unit blocks. A unit block is a contiguous range of integer serials ``[first, last]``
whose units share every attribute; partial actions split blocks and record the lineage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

MIN_VINTAGE = 2021  # 2/CMA.3 annex para 1(e): mitigation from 2021 onwards
MAX_SERIAL = 2**53 - 1  # serials are exact in every JSON implementation

PARTY_CODE = re.compile(r"^[A-Z]{3}$")
REGISTRY_ID = re.compile(r"^[A-Z]{3}\d{2}$")
CA_ID = re.compile(r"^CA\d{4}$")
ACCOUNT_ID = re.compile(r"^[A-Z]{3}\d{2}-[A-Z0-9-]{1,40}$")
AUTHORIZATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,63}$")
ITMO_ID = re.compile(r"^(CA\d{4})-([A-Z]{3}\d{2})-([A-Z]{3})-(\d{1,16})-(\d{4})$")


class NdcType(StrEnum):
    SINGLE_YEAR = "single-year"
    MULTI_YEAR = "multi-year"


class Metric(StrEnum):
    """Metric of the mitigation outcomes, nomenclature Table 12(b). The AEF annex prints
    ``Non-GHG`` in Tables 2 and 4 and ``non-GHG`` in Table 3; the AEF module
    (``ledger.accounting.aef``) accepts both and its spelling policy chooses the output."""

    GHG = "GHG"
    NON_GHG = "non-GHG"


class CaMethod(StrEnum):
    """Corresponding-adjustment method (2/CMA.3 annex para 7)."""

    ANNUAL = "annual"  # multi-year NDC: annual and cumulative
    TRAJECTORY = "trajectory"  # single-year NDC, option (i)
    AVERAGING = "averaging"  # single-year NDC, option (ii)


class Purpose(StrEnum):
    """Purposes for authorization (4/CMA.6 annex II Table 2; 2/CMA.3 annex para 1(f))."""

    NDC = "NDC"
    OIMP = "OIMP"
    IMP = "IMP"
    OP = "OP"
    NDC_AND_OIMP = "NDC and OIMP"
    NDC_AND_IMP = "NDC and IMP"
    NDC_AND_OP = "NDC and OP"

    @property
    def covers_ndc(self) -> bool:
        return self.value.startswith("NDC")

    @property
    def covers_oimp(self) -> bool:
        return self is not Purpose.NDC


class FirstTransferDefinition(StrEnum):
    """OIMP first-transfer definition chosen by the first transferring Party (2/CMA.3 para 2(b))."""

    AUTHORIZATION = "Authorization"
    ISSUANCE = "Issuance"
    USE_OR_CANCELLATION = "Use or cancellation"

    @classmethod
    def parse(cls, text: str) -> FirstTransferDefinition:
        """Accept the annex and the nomenclature spellings (Authorisation, Use or Cancellation)."""
        folded = text.strip().lower().replace("authorisation", "authorization")
        for member in cls:
            if member.value.lower() == folded:
                return member
        raise ValueError(f"unknown first-transfer definition {text!r}")


class AccountType(StrEnum):
    """Registry account types. JCM's "cancellation account" used for Japan's target is
    ``ndc-use`` (use towards NDC), not ``cancellation``."""

    HOLDING = "holding"
    NDC_USE = "ndc-use"
    OIMP_USE = "oimp-use"
    CANCELLATION = "cancellation"
    VOLUNTARY_CANCELLATION = "voluntary-cancellation"
    ADAPTATION_FUND = "adaptation-fund"

    @property
    def is_terminal(self) -> bool:
        """Units in these accounts are used or cancelled: they never move again."""
        return self not in (AccountType.HOLDING, AccountType.ADAPTATION_FUND)


class MitigationType(StrEnum):
    """Nomenclature Table 36(b); the AEF annex prints only the first two."""

    EMISSION_REDUCTIONS = "Emission reductions"
    REMOVALS = "Removals"
    EMISSION_REDUCTIONS_AND_REMOVALS = "Emission reductions and removals"


class CancellationKind(StrEnum):
    """AEF Table 3 subtypes of cancellations (nomenclature 26(b))."""

    OTHER = "Other cancellations"
    VOLUNTARY_OMGE = "Voluntary cancellation to deliver OMGE"
    MANDATORY_OMGE = "Mandatory cancellation to deliver OMGE"


@dataclass(frozen=True, slots=True)
class NdcDeclaration:
    """What a Party declares for one NDC implementation period: the NDC type, metric, period,
    corresponding-adjustment method, NDC (target) year and, for a non-GHG metric, its unit
    (2/CMA.3 annex paras 7, 9, 18). ``ledger.registry.ndc`` validates it completely."""

    ndc_type: NdcType
    metric: Metric
    period_start: int
    period_end: int
    method: CaMethod
    target_year: int
    non_ghg_unit: str | None = None

    def covers(self, year: int) -> bool:
        return self.period_start <= year <= self.period_end

    @property
    def period_label(self) -> str:
        """The period as ``"T0-T1"`` (or its one year)."""
        if self.period_start == self.period_end:
            return str(self.period_start)
        return f"{self.period_start}-{self.period_end}"


@dataclass(frozen=True, slots=True)
class NdcPeriod:
    """One of a Party's NDC periods: its declaration in force and the version of it (1 when
    declared, one more for each amendment, ``ndc.amended``)."""

    declaration: NdcDeclaration
    version: int = 1


@dataclass(frozen=True, slots=True)
class Party:
    """A Party and its successive NDC periods, ordered by their first year (disjoint)."""

    code: str
    name: str
    ndc_periods: tuple[NdcPeriod, ...] = ()

    @classmethod
    def with_ndc(cls, code: str, name: str, ndc: NdcDeclaration | None) -> Party:
        """A Party with one NDC period (or none), as registered."""
        return cls(code, name, () if ndc is None else (NdcPeriod(ndc),))

    @property
    def declarations(self) -> tuple[NdcDeclaration, ...]:
        """The declarations of the Party's NDC periods, in period order."""
        return tuple(period.declaration for period in self.ndc_periods)

    def ndc_covering(self, year: int) -> NdcDeclaration | None:
        """The declaration of the NDC period that contains ``year``, if any."""
        return next((ndc for ndc in self.declarations if ndc.covers(year)), None)


@dataclass(frozen=True, slots=True)
class Registry:
    registry_id: str
    party: str
    name: str
    hosted: bool  # False: an external registry this instance exchanges with


@dataclass(frozen=True, slots=True)
class CooperativeApproach:
    ca_id: str
    name: str
    parties: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Authorization:
    """One version of an authorization (4/CMA.6 para 5; AEF Table 2)."""

    authorization_id: str
    version: int
    party: str
    ca_id: str
    authorized_on: date
    purposes: Purpose
    metric: Metric
    gwp: str
    sectors: tuple[str, ...]
    activity_types: tuple[str, ...]
    vintage_from: int
    vintage_to: int
    quantity: int | None = None
    non_ghg_metric: str | None = None
    authorized_parties: tuple[str, ...] = ()
    authorized_entities: tuple[str, ...] = ()
    oimp_authorized: str | None = None
    first_transfer_definition: FirstTransferDefinition | None = None
    valid_until: date | None = None
    terms: str | None = None
    documentation: str | None = None
    explanatory: str | None = None
    recorded_seq: int = -1
    #: 4/CMA.6 para 5(f): underlying regulations, frameworks, standards or procedures.
    standards: tuple[str, ...] = ()
    #: 4/CMA.6 para 5(f): the specific methodologies underpinning the approach.
    methodologies: tuple[str, ...] = ()
    #: 4/CMA.6 para 5(g): when the authorization may change and how changes are managed.
    change_process: str | None = None
    #: 4/CMA.6 para 5(i): the registry (id) the Party uses to track and record the ITMOs.
    tracking_registry: str | None = None
    #: 4/CMA.6 para 5(j): the registries of the underlying standards; when given, only units
    #: whose ``underlying_registry`` is one of them are bound to this authorization.
    underlying_registries: tuple[str, ...] = ()
    #: 4/CMA.6 para 5(l): the greenhouse gases covered (``GASES``).
    gases: tuple[str, ...] = ()
    #: 4/CMA.6 para 5(c): the final date for the mitigation outcomes to be issued.
    issuance_until: date | None = None
    #: Set on the version that revokes the authorization (dated ``authorized_on``, the same day):
    #: units already first transferred keep their version; no later binding or first transfer.
    revoked_on: date | None = None
    revocation_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_on is not None


#: Greenhouse gases an authorization may name (4/CMA.6 para 5(l); the Kyoto basket of the ETF).
GASES = ("CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3")


@dataclass(frozen=True, slots=True)
class AuthorizedEntity:
    """AEF Table 5."""

    entity_id: str
    name: str
    country: str
    identification: str
    ca_id: str
    authorized_on: date
    conditions: str | None = None
    change_conditions: str | None = None
    explanatory: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A registry account. ``metric`` makes it metric-specific (2/CMA.3 annex para 9: a
    non-GHG indicator is tracked in a metric-specific account): it then holds only units of that
    metric (and, for ``non-GHG``, of that ``non_ghg_metric``). ``None``: an account opened
    before accounts were metric-specific, or an external registry's account here; no check."""

    account_id: str
    registry_id: str
    account_type: AccountType
    name: str
    metric: Metric | None = None
    non_ghg_metric: str | None = None


CONVERSION_FACTOR = re.compile(r"^(0|[1-9]\d{0,11})(\.\d{1,12})?$")


@dataclass(frozen=True, slots=True)
class NonGhgConversion:
    """An authorized conversion of ITMOs of a non-GHG metric to t CO2 eq, for one cooperative
    approach and a range of vintages (2/CMA.3 annex paras 9, 22(d); 4/CMA.6 para 5(l)):
    ``factor`` t CO2 eq per unit, an exact decimal, authorized by ``authorized_by`` on
    ``authorized_on``. Without one, non-GHG ITMOs are not used towards a t CO2 eq NDC."""

    conversion_id: str
    ca_id: str
    non_ghg_metric: str
    factor: str
    vintage_from: int
    vintage_to: int
    authorized_by: str
    authorized_on: date
    reference: str | None = None

    @property
    def ratio(self) -> Fraction:
        """The factor, exactly."""
        return Fraction(Decimal(self.factor))

    def covers(self, ca_id: str, non_ghg_metric: str | None, vintage: int) -> bool:
        return (self.ca_id, self.non_ghg_metric) == (
            ca_id,
            non_ghg_metric,
        ) and self.vintage_from <= vintage <= self.vintage_to


@dataclass(frozen=True, slots=True)
class UnitAttributes:
    """What every unit of a block shares besides its serial and where it is held."""

    ca_id: str
    registry_id: str  # originating (Party ITMO) registry
    first_transferring_party: str
    vintage: int
    metric: Metric
    gwp: str
    mitigation_type: MitigationType
    sector: str
    activity_type: str
    underlying_registry: str | None = None
    non_ghg_metric: str | None = None


@dataclass(frozen=True, slots=True)
class UnitBlock:
    block_id: int
    attributes: UnitAttributes
    first: int
    last: int
    account_id: str
    retired: bool = False
    authorization_id: str | None = None
    authorization_version: int | None = None
    #: seq of the ``itmo.first_transfer`` entry; -1 when the first transfer was recorded in
    #: another registry (units acquired from an external registry as ITMOs).
    first_transfer_seq: int | None = None
    underlying_first: int | None = None
    underlying_last: int | None = None
    parent_id: int | None = None
    inconsistent: bool = False
    created_seq: int = -1
    #: Action date of the last entry that wrote this block (the action on it, or the split that
    #: made it a piece): the next action on these units is not dated before it. ``None`` for
    #: blocks written before action dates were recorded.
    last_action_date: date | None = None

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    @property
    def first_transferred(self) -> bool:
        return self.first_transfer_seq is not None

    def itmo_id(self, serial: int) -> str:
        """Composed identifier of the five minimum elements (6/CMA.4 annex I para 5)."""
        a = self.attributes
        return f"{a.ca_id}-{a.registry_id}-{a.first_transferring_party}-{serial}-{a.vintage}"

    def piece(self, block_id: int, first: int, last: int, created_seq: int) -> UnitBlock:
        """The sub-range ``[first, last]`` as a child block (underlying serials follow along)."""
        offset_first, offset_last = first - self.first, last - self.first
        under_first = under_last = None
        if self.underlying_first is not None:
            under_first = self.underlying_first + offset_first
            under_last = self.underlying_first + offset_last
        return replace(
            self,
            block_id=block_id,
            first=first,
            last=last,
            underlying_first=under_first,
            underlying_last=under_last,
            parent_id=self.block_id,
            created_seq=created_seq,
        )


@dataclass(frozen=True, slots=True)
class SerialRange:
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class UnitSelection:
    """Which units an action takes: explicit serial ranges (within one block key) or a quantity
    that the registry picks deterministically, oldest vintage first."""

    quantity: int | None = None
    ranges: tuple[SerialRange, ...] = field(default_factory=tuple)
    ca_id: str | None = None
    vintage: int | None = None
    first_transferring_party: str | None = None
    originating_registry: str | None = None


def parse_itmo_id(text: str) -> tuple[str, str, str, int, int]:
    match = ITMO_ID.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an ITMO identifier CA0001-THA01-THA-<serial>-<vintage>")
    ca, registry, party, serial, vintage = match.groups()
    if not 1 <= int(serial) <= MAX_SERIAL:
        raise ValueError(f"serial {serial} is outside 1..{MAX_SERIAL}")
    return ca, registry, party, int(serial), int(vintage)
