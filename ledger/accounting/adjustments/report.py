"""What the computation returns: one row of figures per NDC-period year, the budget assessment,
and the restatements between two reports (para 12, para 23)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from ledger.accounting.adjustments.errors import (
    AverageNotDefined,
    EmissionsNotReported,
    IncomparableReports,
    OutsideNdcPeriod,
)
from ledger.accounting.adjustments.figures import Figure
from ledger.accounting.adjustments.profile import AdjustmentPolicy, NdcProfile


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
