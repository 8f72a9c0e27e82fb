"""Corresponding adjustments (CAs) and emissions balances under decision 2/CMA.3, annex, ch. III.

Pure functions over ledger facts. Every quantity is exact (``int`` or ``fractions.Fraction``); no
value is rounded here. :func:`render_decimal` rounds for display only.

Formal contract (``article6.md`` §2.2), for Party P and NDC period years t = T0..T1, N = T1-T0+1:

- ``FT[t]``: ITMOs P first transferred, booked to the **vintage** t (para 8(a)).
- ``U[t]``: ITMOs P used towards its NDC, booked to the **calendar year of use** t (para 8(b)).
- ``NET[t] = FT[t] - U[t]`` (para 23(f)); its running sum is para 23(h).
- Annual methods (multi-year NDC, para 7(b); single-year trajectory, para 7(a)(i)):
  ``CA[t] = NET[t]``.
- Averaging (single-year NDC, para 7(a)(ii)): ``AVG(y) = sum(NET[T0..y]) / n(y)`` is the indicative
  CA of year y; the actual CA of the NDC year is ``sum(NET[T0..T1]) / N``.
- Emissions balance (para 8, para 23(k)(i)): ``EB[t] = E[t] + CA[t]``. For a non-GHG indicator
  the signs are reversed (para 9, para 23(k)(ii)):
  ``Indicator[t] - FT[t] + U[t] = Indicator[t] - CA[t]``.

The points the decision leaves open are settings of :class:`AdjustmentPolicy`, not hard-coded.
Every :class:`Figure` lists the ledger ``seq`` numbers of the facts it was computed from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Protocol

from ledger.errors import InvalidInput, RuleViolation, UseOutsideNdcPeriod, VintageBefore2021
from ledger.registry.model import MIN_VINTAGE, PARTY_CODE, CaMethod, Metric, NdcType, Purpose

__all__ = [
    "DEFAULT_POLICY",
    "GHG_UNIT",
    "AdjustmentPolicy",
    "AdjustmentReport",
    "AverageNotDefined",
    "AveragingBasis",
    "BudgetAssessment",
    "CaKind",
    "CaMethod",
    "DuplicateSeq",
    "EmissionsFact",
    "EmissionsNotReported",
    "FactNotOfParty",
    "Figure",
    "FirstTransferFact",
    "IncomparableReports",
    "InvalidFact",
    "InvalidNdcProfile",
    "Metric",
    "MethodNotAllowedForNdc",
    "NdcProfile",
    "NdcType",
    "OimpAuthorizationFact",
    "OutsideNdcPeriod",
    "Purpose",
    "Restatement",
    "RowField",
    "UseFact",
    "UseOutsideNdcPeriod",
    "VintageBefore2021",
    "YearRow",
    "check_oimp_authorizations",
    "compute_adjustments",
    "render_decimal",
    "restate",
]

GHG_UNIT = "t CO2 eq"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class InvalidNdcProfile(InvalidInput):
    """The NDC profile is inconsistent: a bad Party code, period, target year, budget,
    trajectory or unit (decision 2/CMA.3, annex, paras 7 and 18(c)-(e))."""

    rule = "ndc-profile"


class MethodNotAllowedForNdc(RuleViolation):
    """The CA method does not fit the NDC type: averaging and the indicative trajectory are for
    single-year NDCs (para 7(a)), annual application with a multi-year trajectory or budget is for
    multi-year NDCs (para 7(b))."""

    rule = "ca-method-ndc-type"


class InvalidFact(InvalidInput):
    """A ledger fact has a value of the wrong type or range (seq, year, quantity, Party code)."""

    rule = "invalid-fact"


class DuplicateSeq(InvalidInput):
    """Two facts of the same kind carry the same ledger ``seq``; one entry would count twice."""

    rule = "duplicate-seq"


class FactNotOfParty(InvalidInput):
    """A fact belongs to another Party's accounts: a first transfer whose first transferring
    Party, or a use whose using Party, is not the reporting Party (para 8)."""

    rule = "fact-not-of-party"


class OutsideNdcPeriod(InvalidInput):
    """A first transfer's vintage, an OIMP authorization's year, an emissions year or an asked
    year lies outside the NDC implementation period of the report: the fact belongs to another
    period's accounting. (A use outside the period breaks para 8(b) and raises
    :class:`~ledger.errors.UseOutsideNdcPeriod` instead.)"""

    rule = "ndc-period"


class EmissionsNotReported(InvalidInput):
    """An emissions balance was asked for a year whose NDC-covered emissions (or non-GHG
    indicator level) have not been recorded (para 23(a), 23(i))."""

    rule = "emissions-not-reported"


class AverageNotDefined(InvalidInput):
    """Under ``elapsed_years_inclusive=False`` no year has elapsed in the first year of the
    period, so its indicative average CA (para 7(a)(ii)) does not exist."""

    rule = "average-not-defined"


class IncomparableReports(InvalidInput):
    """Two reports for a different Party, period, metric, method or policy cannot restate each
    other: the method must be applied consistently through the period (para 7)."""

    rule = "incomparable-reports"


# --------------------------------------------------------------------------------------------
# Closed sets
# --------------------------------------------------------------------------------------------


class AveragingBasis(StrEnum):
    """What the averaging method averages; the decision does not say (article6.md §2.2)."""

    NET = "net"
    """Average ``NET[t] = FT[t] - U[t]``."""
    SEPARATE = "separate"
    """Average ``FT`` and ``U`` separately and report both; the CA is their difference."""


class CaKind(StrEnum):
    """Status of a year's CA figure under the Party's method."""

    ANNUAL = "annual"
    """Applied annually (paras 7(a)(i), 7(b))."""
    INDICATIVE = "indicative"
    """Averaging method, a year before the NDC year (para 7(a)(ii))."""
    FINAL = "final"
    """Averaging method, the actual CA in the NDC year (para 7(a)(ii))."""


class RowField(StrEnum):
    """The per-year figures of a :class:`YearRow` that a restatement can change (para 23)."""

    EMISSIONS = "emissions"
    FIRST_TRANSFERRED = "first_transferred"
    FIRST_TRANSFERRED_OIMP = "first_transferred_oimp"
    USED = "used"
    NET = "net"
    CUMULATIVE_NET = "cumulative_net"
    AVERAGE = "average"
    AVERAGE_FIRST_TRANSFERRED = "average_first_transferred"
    AVERAGE_USED = "average_used"
    CA = "ca"
    EMISSIONS_BALANCE = "emissions_balance"
    TRAJECTORY_DIFFERENCE = "trajectory_difference"


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return type(value) is int


def _check_int(error: type[InvalidInput], name: str, value: object) -> None:
    if not _is_int(value):
        raise error(f"{name} must be an int, got {type(value).__name__}", field=name)


def _check_party(error: type[InvalidInput], name: str, value: object) -> None:
    if not isinstance(value, str) or PARTY_CODE.fullmatch(value) is None:
        raise error(f"{name} must be an ISO 3166-1 alpha-3 code, got {value!r}", field=name)


def _check_text(error: type[InvalidInput], name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise error(f"{name} must be a non-empty string", field=name)


def _check_fact_header(fact: _Fact, quantity: object) -> None:
    _check_int(InvalidFact, "seq", fact.seq)
    if fact.seq < 0:
        raise InvalidFact(f"seq must be >= 0, got {fact.seq}", field="seq", seq=fact.seq)
    _check_int(InvalidFact, "quantity", quantity)
    if not isinstance(quantity, int) or quantity <= 0:
        raise InvalidFact(
            f"quantity must be a positive int, got {quantity!r}", field="quantity", seq=fact.seq
        )


def _coerce_enum(owner: object, name: str, enum: type[StrEnum], error: type[InvalidInput]) -> None:
    raw = getattr(owner, name)
    try:
        object.__setattr__(owner, name, enum(raw))
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum)
        raise error(f"{name} must be one of {allowed}, got {raw!r}", field=name) from None


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    """An exact quantity and the ledger entries (``seq``) it was computed from.

    ``value`` is always a :class:`~fractions.Fraction` (an ``int`` is converted); ``seqs`` is
    sorted and free of duplicates. Arithmetic keeps values exact and unions the seqs, so each
    derived figure still names every ledger entry behind it.
    """

    value: Fraction
    seqs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        raw: object = self.value
        if _is_int(raw):
            object.__setattr__(self, "value", Fraction(self.value))
        elif not isinstance(raw, Fraction):
            raise InvalidInput(f"a figure is an int or a Fraction, got {type(raw).__name__}")
        object.__setattr__(self, "seqs", tuple(sorted(set(self.seqs))))

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.value + other.value, self.seqs + other.seqs)

    def __sub__(self, other: Figure) -> Figure:
        return Figure(self.value - other.value, self.seqs + other.seqs)

    def __neg__(self) -> Figure:
        return Figure(-self.value, self.seqs)

    def __truediv__(self, divisor: int) -> Figure:
        return Figure(self.value / divisor, self.seqs)

    @property
    def is_integral(self) -> bool:
        """True if the value is a whole number."""
        return self.value.denominator == 1

    def render(self, places: int = 0) -> str:
        """The value as a decimal string for display (see :func:`render_decimal`)."""
        return render_decimal(self.value, places)


ZERO = Figure(Fraction(0))


def render_decimal(value: Fraction, places: int) -> str:
    """Render ``value`` with ``places`` decimals, rounding half to even (ROUND_HALF_EVEN).

    For display only: the rounding happens here and nowhere in the computation, because the
    decision does not say how averages are rounded (article6.md §2.2). The result is exact
    up to that single rounding step, e.g. ``render_decimal(Fraction(-22003, 3), 3)`` is
    ``"-7334.333"``.
    """
    if not _is_int(places) or places < 0:
        raise InvalidInput(f"places must be an int >= 0, got {places!r}", places=places)
    scaled = round(Fraction(value) * 10**places)  # Fraction.__round__ rounds half to even
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    if places == 0:
        return f"{sign}{digits}"
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdjustmentPolicy:
    """Settings for the points decision 2/CMA.3 leaves open (article6.md §2.2).

    - ``averaging_basis``: average ``NET`` (default) or ``FT`` and ``U`` separately (para
      7(a)(ii) says "ITMOs first transferred and used"). With exact arithmetic both give the
      same CA; ``SEPARATE`` also reports the two averages.
    - ``elapsed_years_inclusive``: *unverified* reading of "number of elapsed years" in para
      7(a)(ii). ``True`` (default): the reporting year y counts, ``n(y) = y - T0 + 1`` and the
      cumulative sum runs over T0..y. ``False``: only the years completed before y count,
      ``n(y) = y - T0`` over T0..y-1, so the first year has no indicative average. The actual
      CA of the NDC year is over the whole period (N years) either way.
    - ``oimp_first_transfers_in_net``: whether first transfers of ITMOs authorized for OIMP
      only (``OIMP``, ``IMP``, ``OP``) enter ``NET`` and the CA (para 23(f) "resulting from
      paragraph 23(c-e)"; para 16 applies CAs to them). Default ``True``. They stay in the
      23(c) first-transferred figure either way; authorizations alone (23(d)) never enter NET.
    """

    averaging_basis: AveragingBasis = AveragingBasis.NET
    elapsed_years_inclusive: bool = True
    oimp_first_transfers_in_net: bool = True

    def __post_init__(self) -> None:
        _coerce_enum(self, "averaging_basis", AveragingBasis, InvalidInput)
        for name in ("elapsed_years_inclusive", "oimp_first_transfers_in_net"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(f"{name} must be a bool", field=name)


DEFAULT_POLICY = AdjustmentPolicy()


@dataclass(frozen=True, slots=True)
class NdcProfile:
    """What a Party declared about its NDC and CA method (para 18(c)-(e), para 7).

    - ``party``: ISO 3166-1 alpha-3 code.
    - ``period_start``/``period_end``: first and last year of the NDC implementation period.
    - ``target_year``: the NDC year; for a single-year NDC it is the last year of the period
      (the formal definitions in article6.md §2.2 place the NDC year at T1).
    - ``budget``: multi-year emissions budget for the period (para 7(b)), or the indicative
      budget of a single-year NDC under the trajectory option (para 7(a)(i)); GHG only.
    - ``trajectory``: year -> emissions (or indicator) level of the multi-year trajectory
      (para 7(b)) or indicative trajectory (para 7(a)(i)).
    - ``target_level``: the NDC target level in :attr:`unit` for the target year, if
      quantified (para 18(d)); used for the end-of-period comparison (para 23(l)).
    - ``non_ghg_unit``: the unit of a non-GHG metric (e.g. ``"MWh"``, para 22(d)); required
      for ``Metric.NON_GHG``, absent for GHG (as in :class:`ledger.registry.model.NdcDeclaration`).

    ``ndc_type``, ``metric`` and ``method`` take the enums of :mod:`ledger.registry.model` (or their
    string values).
    """

    party: str
    ndc_type: NdcType
    metric: Metric
    period_start: int
    period_end: int
    method: CaMethod
    target_year: int
    budget: int | None = None
    trajectory: Mapping[int, int] = field(default_factory=dict, hash=False)
    target_level: int | None = None
    non_ghg_unit: str | None = None

    def __post_init__(self) -> None:
        _check_party(InvalidNdcProfile, "party", self.party)
        _coerce_enum(self, "ndc_type", NdcType, InvalidNdcProfile)
        _coerce_enum(self, "metric", Metric, InvalidNdcProfile)
        _coerce_enum(self, "method", CaMethod, InvalidNdcProfile)
        for name in ("period_start", "period_end", "target_year"):
            _check_int(InvalidNdcProfile, name, getattr(self, name))
        if self.period_start > self.period_end:
            raise InvalidNdcProfile(
                "period_start is after period_end",
                period_start=self.period_start,
                period_end=self.period_end,
            )
        self._check_method()
        self._check_target()
        self._check_budget_and_trajectory()
        if self.metric is Metric.NON_GHG:
            _check_text(InvalidNdcProfile, "non_ghg_unit", self.non_ghg_unit)
        elif self.non_ghg_unit is not None:
            raise InvalidNdcProfile("a GHG NDC has no non-GHG unit", field="non_ghg_unit")

    def _check_method(self) -> None:
        allowed = (
            (CaMethod.ANNUAL,)
            if self.ndc_type is NdcType.MULTI_YEAR
            else (CaMethod.TRAJECTORY, CaMethod.AVERAGING)
        )
        if self.method not in allowed:
            raise MethodNotAllowedForNdc(
                f"method {self.method.value!r} does not apply to a {self.ndc_type.value} NDC",
                method=self.method.value,
                ndc_type=self.ndc_type.value,
                allowed=[m.value for m in allowed],
            )

    def _check_target(self) -> None:
        if not self.period_start <= self.target_year <= self.period_end:
            raise InvalidNdcProfile(
                "target_year is outside the NDC period", target_year=self.target_year
            )
        if self.ndc_type is NdcType.SINGLE_YEAR and self.target_year != self.period_end:
            raise InvalidNdcProfile(
                "the NDC year of a single-year NDC is the last year of its period",
                target_year=self.target_year,
                period_end=self.period_end,
            )
        if self.target_level is not None:
            _check_int(InvalidNdcProfile, "target_level", self.target_level)

    def _check_budget_and_trajectory(self) -> None:
        if not isinstance(self.trajectory, Mapping):
            raise InvalidNdcProfile("trajectory must be a mapping year -> level")
        points = dict(sorted(self.trajectory.items()))
        for year, level in points.items():
            _check_int(InvalidNdcProfile, "trajectory year", year)
            _check_int(InvalidNdcProfile, "trajectory level", level)
            if not self.period_start <= year <= self.period_end:
                raise InvalidNdcProfile("trajectory year outside the NDC period", year=year)
        object.__setattr__(self, "trajectory", MappingProxyType(points))
        if self.budget is not None:
            _check_int(InvalidNdcProfile, "budget", self.budget)
            if self.metric is not Metric.GHG:
                raise InvalidNdcProfile("an emissions budget needs the GHG metric")
        if self.method is CaMethod.AVERAGING:
            if self.budget is not None or points:
                raise InvalidNdcProfile(
                    "the averaging method (para 7(a)(ii)) takes no trajectory or budget"
                )
        elif self.budget is None and not points:
            raise InvalidNdcProfile(
                f"the {self.method.value} method needs a trajectory or a budget "
                "(para 7(a)(i), 7(b))"
            )

    @property
    def unit(self) -> str:
        """``"t CO2 eq"`` for a GHG NDC, else the non-GHG metric unit."""
        return self.non_ghg_unit if self.non_ghg_unit is not None else GHG_UNIT

    @property
    def years(self) -> tuple[int, ...]:
        """The years of the NDC implementation period, in order."""
        return tuple(range(self.period_start, self.period_end + 1))

    @property
    def period_label(self) -> str:
        """The period as ``"T0-T1"`` (or one year)."""
        if self.period_start == self.period_end:
            return str(self.period_start)
        return f"{self.period_start}-{self.period_end}"


class _Fact(Protocol):
    @property
    def seq(self) -> int: ...


class _QuantityFact(_Fact, Protocol):
    @property
    def quantity(self) -> int: ...


@dataclass(frozen=True, slots=True)
class FirstTransferFact:
    """A first transfer of ITMOs recorded by the ledger at ``seq`` (para 2, para 8(a)).

    Booked to its ``vintage`` (the year the mitigation occurred). ``purpose`` is the authorized
    purpose; ``using_party`` is the acquiring Party, or ``None`` for an OIMP first transfer at
    authorization, issuance or cancellation with no acquiring Party. ``cooperative_approach``,
    ``sector`` and the Parties feed the para 23(j) breakdowns.
    """

    seq: int
    vintage: int
    quantity: int
    purpose: Purpose
    cooperative_approach: str
    sector: str
    transferring_party: str
    using_party: str | None = None

    def __post_init__(self) -> None:
        _check_fact_header(self, self.quantity)
        _check_int(InvalidFact, "vintage", self.vintage)
        _coerce_enum(self, "purpose", Purpose, InvalidFact)
        _check_text(InvalidFact, "cooperative_approach", self.cooperative_approach)
        _check_text(InvalidFact, "sector", self.sector)
        _check_party(InvalidFact, "transferring_party", self.transferring_party)
        if self.using_party is not None:
            _check_party(InvalidFact, "using_party", self.using_party)


@dataclass(frozen=True, slots=True)
class UseFact:
    """A use of ITMOs towards the NDC recorded at ``seq``, booked to ``use_year`` (para 8(b)).

    ``transferring_party`` is the first transferring Party of the ITMOs; ``using_party`` is the
    Party that used them.
    """

    seq: int
    use_year: int
    vintage: int
    quantity: int
    cooperative_approach: str
    sector: str
    transferring_party: str
    using_party: str

    def __post_init__(self) -> None:
        _check_fact_header(self, self.quantity)
        _check_int(InvalidFact, "use_year", self.use_year)
        _check_int(InvalidFact, "vintage", self.vintage)
        _check_text(InvalidFact, "cooperative_approach", self.cooperative_approach)
        _check_text(InvalidFact, "sector", self.sector)
        _check_party(InvalidFact, "transferring_party", self.transferring_party)
        _check_party(InvalidFact, "using_party", self.using_party)


@dataclass(frozen=True, slots=True)
class EmissionsFact:
    """NDC-covered emissions and removals ``E[year]`` (para 23(a)), or the non-GHG indicator
    level (para 23(i)), recorded at ``seq``. A later fact for the same year (higher ``seq``)
    restates it; the earlier value stays as "previously reported"."""

    seq: int
    year: int
    value: int

    def __post_init__(self) -> None:
        _check_int(InvalidFact, "seq", self.seq)
        if self.seq < 0:
            raise InvalidFact(f"seq must be >= 0, got {self.seq}", field="seq")
        _check_int(InvalidFact, "year", self.year)
        _check_int(InvalidFact, "value", self.value)


@dataclass(frozen=True, slots=True)
class OimpAuthorizationFact:
    """Mitigation outcomes authorized for other international mitigation purposes in ``year``,
    and the entities authorized to use them (para 23(d)), recorded at ``seq``.

    Reported on its own row; it enters ``FT`` only when a first transfer is recorded for the
    same outcomes (a separate :class:`FirstTransferFact`).
    """

    seq: int
    year: int
    quantity: int
    entities: tuple[str, ...]
    cooperative_approach: str
    sector: str
    transferring_party: str
    vintage: int

    def __post_init__(self) -> None:
        _check_fact_header(self, self.quantity)
        _check_int(InvalidFact, "year", self.year)
        _check_int(InvalidFact, "vintage", self.vintage)
        entities: object = self.entities
        if isinstance(entities, str) or not isinstance(entities, Iterable):
            raise InvalidFact("entities must be a sequence of names", field="entities")
        object.__setattr__(self, "entities", tuple(entities))
        for entity in self.entities:
            _check_text(InvalidFact, "entities", entity)
        _check_text(InvalidFact, "cooperative_approach", self.cooperative_approach)
        _check_text(InvalidFact, "sector", self.sector)
        _check_party(InvalidFact, "transferring_party", self.transferring_party)


def check_oimp_authorizations(
    profile: NdcProfile, facts: Iterable[OimpAuthorizationFact]
) -> tuple[OimpAuthorizationFact, ...]:
    """Validate 23(d) facts for ``profile``: the authorizing Party is the reporting Party, the
    year of authorization lies in the NDC period, the vintage is 2021 or later (para 1(e)) and no
    ``seq`` repeats. Returns the facts in ``seq`` order."""
    ordered = tuple(sorted(facts, key=lambda fact: fact.seq))
    _check_unique_seqs("OIMP-authorization", ordered)
    for fact in ordered:
        _check_party_of(profile, fact.seq, "transferring_party", fact.transferring_party)
        _check_vintage(fact.seq, fact.vintage)
        _check_in_period(profile, fact.seq, "year", fact.year)
    return ordered


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearRow:
    """All figures of one NDC-period year (para 23), each with the seqs behind it.

    - ``emissions``: latest ``E[t]`` or indicator level (23(a)/23(i)); ``None`` if unreported.
      ``emissions_superseded``: earlier values of the same year, oldest first.
    - ``first_transferred``: ``FT[t]`` by vintage, all purposes (23(c)).
      ``first_transferred_oimp``: the part authorized for OIMP only.
    - ``used``: ``U[t]`` by year of use (23(e)).
    - ``net``: ``FT[t] - U[t]`` with the FT counted under the policy (23(f));
      ``cumulative_net``: sum of ``net`` over T0..t (23(h)).
    - ``average``: averaging method only, the indicative ``AVG(t)`` (7(a)(ii)); ``None`` for
      other methods or where undefined. ``average_first_transferred``/``average_used``: its two
      parts under ``AveragingBasis.SEPARATE``.
    - ``ca``: the CA applied in the year (23(g)), of kind ``ca_kind``.
    - ``emissions_balance``: ``E[t] + CA[t]`` (23(k)(i)); for a non-GHG metric the annual
      adjusted indicator ``Indicator[t] - CA[t]`` (para 9, 23(k)(ii)). ``None`` if ``E[t]`` or
      ``CA[t]`` is missing.
    - ``trajectory_point``/``trajectory_difference``: the declared trajectory level and
      ``emissions_balance - trajectory_point`` (positive: the balance exceeds the trajectory).
    """

    year: int
    emissions: Figure | None
    emissions_superseded: tuple[Figure, ...]
    first_transferred: Figure
    first_transferred_oimp: Figure
    used: Figure
    net: Figure
    cumulative_net: Figure
    average: Figure | None
    average_first_transferred: Figure | None
    average_used: Figure | None
    ca: Figure | None
    ca_kind: CaKind
    emissions_balance: Figure | None
    trajectory_point: int | None
    trajectory_difference: Figure | None

    def figures(self) -> dict[RowField, Figure | None]:
        """The restatable figures of the row, by field."""
        return {
            RowField.EMISSIONS: self.emissions,
            RowField.FIRST_TRANSFERRED: self.first_transferred,
            RowField.FIRST_TRANSFERRED_OIMP: self.first_transferred_oimp,
            RowField.USED: self.used,
            RowField.NET: self.net,
            RowField.CUMULATIVE_NET: self.cumulative_net,
            RowField.AVERAGE: self.average,
            RowField.AVERAGE_FIRST_TRANSFERRED: self.average_first_transferred,
            RowField.AVERAGE_USED: self.average_used,
            RowField.CA: self.ca,
            RowField.EMISSIONS_BALANCE: self.emissions_balance,
            RowField.TRAJECTORY_DIFFERENCE: self.trajectory_difference,
        }


@dataclass(frozen=True, slots=True)
class BudgetAssessment:
    """Cumulative emissions balance over the period against the budget (para 7(b); for a
    single-year NDC under para 7(a)(i) the budget is indicative).

    ``difference = cumulative_balance - budget``; ``met`` iff ``cumulative_balance <= budget``.
    """

    budget: int
    cumulative_balance: Figure
    difference: Figure
    met: bool


@dataclass(frozen=True, slots=True)
class AdjustmentReport:
    """The result of :func:`compute_adjustments`.

    ``rows`` has one :class:`YearRow` per NDC-period year. ``final_ca`` is the actual CA of the
    NDC year under the averaging method (``sum(NET) / N``, para 7(a)(ii)), else ``None``.
    ``budget_assessment`` is set when the profile has a budget and every year's emissions are
    recorded.
    """

    profile: NdcProfile
    policy: AdjustmentPolicy
    rows: tuple[YearRow, ...]
    final_ca: Figure | None
    budget_assessment: BudgetAssessment | None

    def row(self, year: int) -> YearRow:
        """The row of ``year``; :class:`OutsideNdcPeriod` if the year is not in the period."""
        index = year - self.profile.period_start
        if not 0 <= index < len(self.rows):
            raise OutsideNdcPeriod(f"{year} is outside the NDC period", year=year)
        return self.rows[index]

    def emissions_balance(self, year: int) -> Figure:
        """``EB[year]`` (para 23(k)); raises if the emissions or the CA of the year are missing."""
        row = self.row(year)
        if row.emissions is None:
            raise EmissionsNotReported(
                f"no emissions recorded for {year}; the emissions balance needs them", year=year
            )
        if row.ca is None or row.emissions_balance is None:
            raise AverageNotDefined(f"no average CA is defined for {year}", year=year)
        return row.emissions_balance

    @property
    def cumulative_net(self) -> Figure:
        """Sum of ``NET`` over the whole period (para 23(h); the cumulative CA of para 7(b))."""
        return self.rows[-1].cumulative_net

    @property
    def missing_emissions_years(self) -> tuple[int, ...]:
        """The years with no emissions (or indicator) recorded."""
        return tuple(row.year for row in self.rows if row.emissions is None)


@dataclass(frozen=True, slots=True)
class Restatement:
    """A figure reported before that a later computation changed (para 12; para 23 "any
    updates to information submitted for previous years")."""

    year: int
    field: RowField
    reported_before: Figure
    restated: Figure | None

    @property
    def change(self) -> Fraction | None:
        """``restated - reported_before``, or ``None`` if the figure is no longer available."""
        if self.restated is None:
            return None
        return self.restated.value - self.reported_before.value


# --------------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------------


def _total(facts: Iterable[_QuantityFact]) -> Figure:
    items = list(facts)
    return Figure(Fraction(sum(fact.quantity for fact in items)), tuple(f.seq for f in items))


def _check_unique_seqs(
    kind: str, facts: Iterable[_Fact], booking: Callable[[Any], object] | None = None
) -> None:
    """One entry counts once. Without ``booking`` a seq may carry one fact only; with it, one
    entry may carry several facts (an entry acting on blocks of several vintages) as long as
    they agree on ``booking`` (e.g. the year of use) and none is repeated: facts of one entry
    that agree on every field are given once, with their quantities added (as
    ``ledger.accounting.reporting`` does)."""
    seen: dict[int, object] = {}
    distinct: set[object] = set()
    for fact in facts:
        if fact.seq in seen and (
            booking is None or seen[fact.seq] != booking(fact) or fact in distinct
        ):
            raise DuplicateSeq(f"two {kind} facts carry seq {fact.seq}", seq=fact.seq, kind=kind)
        seen[fact.seq] = None if booking is None else booking(fact)
        distinct.add(fact)


def _check_in_period(
    profile: NdcProfile,
    seq: int,
    name: str,
    year: int,
    error: type[InvalidInput | RuleViolation] = OutsideNdcPeriod,
) -> None:
    if not profile.period_start <= year <= profile.period_end:
        raise error(
            f"{name} {year} of seq {seq} is outside the NDC period {profile.period_label}",
            seq=seq,
            field=name,
            year=year,
            period_start=profile.period_start,
            period_end=profile.period_end,
        )


def _check_vintage(seq: int, vintage: int) -> None:
    if vintage < MIN_VINTAGE:
        raise VintageBefore2021(
            f"vintage {vintage} of seq {seq} is before {MIN_VINTAGE}",
            seq=seq,
            vintage=vintage,
        )


def _check_party_of(profile: NdcProfile, seq: int, role: str, party: str) -> None:
    if party != profile.party:
        raise FactNotOfParty(
            f"seq {seq}: {role} is {party}, not the reporting Party {profile.party}",
            seq=seq,
            role=role,
            party=party,
        )


def _validate(
    profile: NdcProfile,
    emissions: tuple[EmissionsFact, ...],
    first_transfers: tuple[FirstTransferFact, ...],
    uses: tuple[UseFact, ...],
) -> None:
    _check_unique_seqs("emissions", emissions)
    _check_unique_seqs("first-transfer", first_transfers, lambda fact: fact.transferring_party)
    _check_unique_seqs("use", uses, lambda fact: (fact.use_year, fact.using_party))
    for ft in first_transfers:
        _check_party_of(profile, ft.seq, "transferring_party", ft.transferring_party)
        _check_vintage(ft.seq, ft.vintage)
        _check_in_period(profile, ft.seq, "vintage", ft.vintage)
    for use in uses:
        _check_party_of(profile, use.seq, "using_party", use.using_party)
        _check_vintage(use.seq, use.vintage)
        _check_in_period(profile, use.seq, "vintage", use.vintage, UseOutsideNdcPeriod)
        _check_in_period(profile, use.seq, "use_year", use.use_year, UseOutsideNdcPeriod)
    for fact in emissions:
        _check_in_period(profile, fact.seq, "year", fact.year)


@dataclass(frozen=True, slots=True)
class _YearTotals:
    """The facts of one year, summed: all first transfers, the OIMP-only part, the part counted
    in NET under the policy, and the uses."""

    first_transferred: Figure
    first_transferred_oimp: Figure
    counted: Figure
    used: Figure


@dataclass(frozen=True, slots=True)
class _Average:
    """An average over a window of years and, under the separate basis, its two parts."""

    value: Figure
    first_transferred: Figure | None
    used: Figure | None


def _year_totals(
    profile: NdcProfile,
    policy: AdjustmentPolicy,
    first_transfers: Iterable[FirstTransferFact],
    uses: Iterable[UseFact],
) -> list[_YearTotals]:
    fts: dict[int, list[FirstTransferFact]] = {year: [] for year in profile.years}
    used: dict[int, list[UseFact]] = {year: [] for year in profile.years}
    for ft in first_transfers:
        fts[ft.vintage].append(ft)
    for use in uses:
        used[use.use_year].append(use)
    return [
        _YearTotals(
            first_transferred=_total(fts[year]),
            first_transferred_oimp=_total(ft for ft in fts[year] if not ft.purpose.covers_ndc),
            counted=_total(
                ft
                for ft in fts[year]
                if policy.oimp_first_transfers_in_net or not not ft.purpose.covers_ndc
            ),
            used=_total(used[year]),
        )
        for year in profile.years
    ]


def _prefix_sums(figures: Iterable[Figure]) -> list[Figure]:
    """``sums[k]`` is the sum of the first ``k`` figures."""
    sums = [ZERO]
    for figure in figures:
        sums.append(sums[-1] + figure)
    return sums


def _average(
    cum_ft: Figure, cum_used: Figure, years: int, basis: AveragingBasis
) -> _Average | None:
    if years == 0:
        return None
    if basis is AveragingBasis.SEPARATE:
        avg_ft, avg_used = cum_ft / years, cum_used / years
        return _Average(avg_ft - avg_used, avg_ft, avg_used)
    return _Average((cum_ft - cum_used) / years, None, None)


def _balance(profile: NdcProfile, emissions: Figure | None, ca: Figure | None) -> Figure | None:
    if emissions is None or ca is None:
        return None
    if profile.metric is Metric.NON_GHG:
        return emissions - ca
    return emissions + ca


def compute_adjustments(
    profile: NdcProfile,
    emissions: Iterable[EmissionsFact],
    first_transfers: Iterable[FirstTransferFact],
    uses: Iterable[UseFact],
    policy: AdjustmentPolicy = DEFAULT_POLICY,
) -> AdjustmentReport:
    """Apply the Party's CA method to its recorded facts (decision 2/CMA.3, annex, paras 7-9).

    ``first_transfers`` are the Party's own first transfers (para 8(a)), ``uses`` its own uses
    towards the NDC (para 8(b)); acquisitions and holdings are not inputs because they do not
    change the balance. Raises :class:`VintageBefore2021`, :class:`UseOutsideNdcPeriod`,
    :class:`OutsideNdcPeriod`, :class:`FactNotOfParty`, :class:`DuplicateSeq` or
    :class:`InvalidFact` for facts that cannot be counted. Years without recorded emissions get
    no balance rather than an error; ask :meth:`AdjustmentReport.emissions_balance` to require
    one.
    """
    emission_facts = tuple(sorted(emissions, key=lambda fact: fact.seq))
    ft_facts = tuple(first_transfers)
    use_facts = tuple(uses)
    _validate(profile, emission_facts, ft_facts, use_facts)

    totals = _year_totals(profile, policy, ft_facts, use_facts)
    cum_ft = _prefix_sums(t.counted for t in totals)
    cum_used = _prefix_sums(t.used for t in totals)
    recorded: dict[int, list[Figure]] = {year: [] for year in profile.years}
    for fact in emission_facts:
        recorded[fact.year].append(Figure(Fraction(fact.value), (fact.seq,)))

    averaging = profile.method is CaMethod.AVERAGING
    final = _average(cum_ft[-1], cum_used[-1], len(totals), policy.averaging_basis)
    final_ca = final.value if averaging and final is not None else None

    rows: list[YearRow] = []
    for index, (year, sums) in enumerate(zip(profile.years, totals, strict=True)):
        net = sums.counted - sums.used
        average: _Average | None = None
        ca: Figure | None
        if not averaging:
            ca, kind = net, CaKind.ANNUAL
        else:
            elapsed = index + 1 if policy.elapsed_years_inclusive else index
            average = _average(cum_ft[elapsed], cum_used[elapsed], elapsed, policy.averaging_basis)
            if year == profile.target_year:
                ca, kind = final_ca, CaKind.FINAL
            else:
                ca, kind = (None if average is None else average.value), CaKind.INDICATIVE
        emissions_now = recorded[year][-1] if recorded[year] else None
        balance = _balance(profile, emissions_now, ca)
        point = profile.trajectory.get(year)
        rows.append(
            YearRow(
                year=year,
                emissions=emissions_now,
                emissions_superseded=tuple(recorded[year][:-1]),
                first_transferred=sums.first_transferred,
                first_transferred_oimp=sums.first_transferred_oimp,
                used=sums.used,
                net=net,
                cumulative_net=cum_ft[index + 1] - cum_used[index + 1],
                average=None if average is None else average.value,
                average_first_transferred=None if average is None else average.first_transferred,
                average_used=None if average is None else average.used,
                ca=ca,
                ca_kind=kind,
                emissions_balance=balance,
                trajectory_point=point,
                trajectory_difference=(
                    None if balance is None or point is None else balance - Figure(Fraction(point))
                ),
            )
        )
    return AdjustmentReport(
        profile=profile,
        policy=policy,
        rows=tuple(rows),
        final_ca=final_ca,
        budget_assessment=_assess_budget(profile, rows),
    )


def _assess_budget(profile: NdcProfile, rows: Iterable[YearRow]) -> BudgetAssessment | None:
    if profile.budget is None:
        return None
    balances = [row.emissions_balance for row in rows]
    present = [balance for balance in balances if balance is not None]
    if len(present) != len(balances):
        return None
    cumulative = _prefix_sums(present)[-1]
    return BudgetAssessment(
        budget=profile.budget,
        cumulative_balance=cumulative,
        difference=cumulative - Figure(Fraction(profile.budget)),
        met=cumulative.value <= profile.budget,
    )


def _changes(previous: YearRow, current: YearRow) -> Iterator[Restatement]:
    now = current.figures()
    for name, before in previous.figures().items():
        after = now[name]
        if before is not None and (after is None or after.value != before.value):
            yield Restatement(previous.year, name, before, after)


def restate(previous: AdjustmentReport, current: AdjustmentReport) -> list[Restatement]:
    """Figures of ``previous`` that ``current`` changes, year by year (para 12, para 23).

    Only figures that were reported (not ``None``) count; a figure reported for the first time
    is new information, not a restatement. Raises :class:`IncomparableReports` if the reports
    differ in Party, period, NDC type, metric, method or policy.
    """
    before, after = previous.profile, current.profile
    keys = ("party", "ndc_type", "metric", "period_start", "period_end", "method")
    differing = [key for key in keys if getattr(before, key) != getattr(after, key)]
    if differing or previous.policy != current.policy:
        raise IncomparableReports(
            "reports differ in " + ", ".join(differing or ["policy"]),
            fields=differing or ["policy"],
        )
    return [
        change
        for old, new in zip(previous.rows, current.rows, strict=True)
        for change in _changes(old, new)
    ]
