"""The computation: the Party's CA method applied to its facts, year by year (decision 2/CMA.3,
annex, paras 7-9); see :mod:`ledger.accounting.adjustments` for the formulas."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from ledger.accounting.adjustments.facts import (
    EmissionsFact,
    FirstTransferFact,
    QuantityFact,
    UseFact,
    check_in_period,
    check_party_of,
    check_unique_seqs,
    check_vintage,
)
from ledger.accounting.adjustments.figures import ZERO, Figure
from ledger.accounting.adjustments.profile import (
    DEFAULT_POLICY,
    AdjustmentPolicy,
    AveragingBasis,
    NdcProfile,
    NonGhgSign,
)
from ledger.accounting.adjustments.report import (
    AdjustmentReport,
    BudgetAssessment,
    CaKind,
    YearRow,
)
from ledger.errors import UseOutsideNdcPeriod
from ledger.registry.model import CaMethod, Metric


def _total(facts: Iterable[QuantityFact]) -> Figure:
    items = list(facts)
    return Figure(Fraction(sum(fact.quantity for fact in items)), tuple(f.seq for f in items))


def _validate(
    profile: NdcProfile,
    emissions: tuple[EmissionsFact, ...],
    first_transfers: tuple[FirstTransferFact, ...],
    uses: tuple[UseFact, ...],
) -> None:
    check_unique_seqs("emissions", emissions)
    check_unique_seqs("first-transfer", first_transfers, lambda fact: fact.transferring_party)
    check_unique_seqs("use", uses, lambda fact: (fact.use_year, fact.using_party))
    for ft in first_transfers:
        check_party_of(profile, ft.seq, "transferring_party", ft.transferring_party)
        check_vintage(ft.seq, ft.vintage)
        check_in_period(profile, ft.seq, "vintage", ft.vintage)
    for use in uses:
        check_party_of(profile, use.seq, "using_party", use.using_party)
        check_vintage(use.seq, use.vintage)
        check_in_period(profile, use.seq, "vintage", use.vintage, UseOutsideNdcPeriod)
        check_in_period(profile, use.seq, "use_year", use.use_year, UseOutsideNdcPeriod)
    for fact in emissions:
        check_in_period(profile, fact.seq, "year", fact.year)


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


def _balance(
    profile: NdcProfile, policy: AdjustmentPolicy, emissions: Figure | None, ca: Figure | None
) -> Figure | None:
    if emissions is None or ca is None:
        return None
    if (
        profile.metric is Metric.NON_GHG
        and policy.non_ghg_sign is NonGhgSign.FIRST_TRANSFERS_SUBTRACT
    ):
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
        balance = _balance(profile, policy, emissions_now, ca)
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
