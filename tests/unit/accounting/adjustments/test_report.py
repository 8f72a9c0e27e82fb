"""Emissions restatement and report restatement (decision 2/CMA.3, annex, paras 12, 23)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    EmissionsFact,
    Figure,
    IncomparableReports,
    Restatement,
    RowField,
    compute_adjustments,
    restate,
)
from ledger.registry.model import CaMethod
from tests.unit.accounting.adjustments.builders import (
    HOST,
    T3_USES,
    emissions,
    ft,
    profile,
    t3_report,
    use,
)


class TestRestatement:
    PROFILE = profile(HOST, CaMethod.ANNUAL, (2021, 2022), budget=10_000)

    def test_later_emissions_fact_wins_and_keeps_the_earlier(self) -> None:
        facts = [EmissionsFact(7, 2021, 5_000), EmissionsFact(3, 2021, 4_800)]
        report = compute_adjustments(self.PROFILE, facts, [], [])
        row = report.row(2021)
        assert row.emissions == Figure(Fraction(5_000), (7,))
        assert row.emissions_superseded == (Figure(Fraction(4_800), (3,)),)

    def test_restated_emissions_show_up(self) -> None:
        first = [EmissionsFact(3, 2021, 4_800)]
        before = compute_adjustments(self.PROFILE, first, [ft(1, 2021, 100)], [])
        after = compute_adjustments(
            self.PROFILE, [*first, EmissionsFact(7, 2021, 5_000)], [ft(1, 2021, 100)], []
        )
        assert restate(before, after) == [
            Restatement(
                2021,
                RowField.EMISSIONS,
                Figure(Fraction(4_800), (3,)),
                Figure(Fraction(5_000), (7,)),
            ),
            Restatement(
                2021,
                RowField.EMISSIONS_BALANCE,
                Figure(Fraction(4_900), (1, 3)),
                Figure(Fraction(5_100), (1, 7)),
            ),
        ]

    def test_first_report_of_a_figure_is_not_a_restatement(self) -> None:
        before = compute_adjustments(self.PROFILE, [], [], [])
        after = compute_adjustments(self.PROFILE, emissions({2021: 1, 2022: 2}), [], [])
        assert restate(before, after) == []

    def test_identical_reports_restate_nothing(self) -> None:
        report = t3_report()
        assert restate(report, report) == []

    def test_averaging_restates_every_later_indicative_year(self) -> None:
        before = t3_report()
        uses = [use(i, y, q) for i, (y, q) in enumerate(T3_USES.items(), start=1)]
        uses.append(use(99, 2022, 10))
        after = compute_adjustments(profile(), emissions({2030: 1_000_000}), [], uses)
        changed = {r.year for r in restate(before, after) if r.field is RowField.CA}
        assert changed == set(range(2022, 2031))

    def test_rejects_reports_under_another_policy(self) -> None:
        with pytest.raises(IncomparableReports):
            restate(t3_report(), t3_report(AdjustmentPolicy(elapsed_years_inclusive=False)))

    def test_rejects_reports_of_another_party(self) -> None:
        other = compute_adjustments(profile(HOST), [], [], [])
        with pytest.raises(IncomparableReports) as caught:
            restate(t3_report(), other)
        assert caught.value.details["fields"] == ["party"]
