"""BTR structured summary (decision 5/CMA.3, CTF Table 4, Article 6 rows; article6.md §3.7)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    DuplicateSeq,
    FactNotOfParty,
    Figure,
    InvalidFact,
    OimpAuthorizationFact,
    OutsideNdcPeriod,
    compute_adjustments,
)
from ledger.accounting.btr import (
    Paragraph,
    build_structured_summary,
)
from ledger.errors import VintageBefore2021
from ledger.registry.model import CaMethod, Metric
from tests.unit.accounting.btr.builders import (
    BUYER,
    HOST,
    cell_values,
    emissions,
    ft,
    host_multi_year,
    japan_averaging,
    make_profile,
    oimp,
    use,
)

LABELS = [
    ("7(a)(i)", "Indicative multi-year trajectory/trajectories/budget (7(a)(i)), if applicable"),
    ("7(b)", "Multi-year trajectory/trajectories/budget (7(b)), if applicable"),
    ("23(a)", "Annual NDC-covered emissions and removals (23(a)), or the para 10 categories"),
    ("23(b)", "The same for the portion of the NDC (23(b))"),
    ("23(i)", "Annual level of the relevant non-GHG indicator (23(i))"),
    ("23(c)", "Annual quantity of ITMOs first transferred (23(c))"),
    ("23(d)", "Annual quantity of MOs authorized for OIMP, and the entities authorized (23(d))"),
    ("23(e)", "Annual quantity of ITMOs used towards the NDC (23(e))"),
    ("23(f)", "Net annual quantity (23(f))"),
    ("7(a)(ii)", "Cumulative ITMOs ÷ elapsed years (7(a)(ii)), if applicable"),
    ("23(g)", "Total quantitative CAs used to calculate the emissions balance (23(g))"),
    ("23(h)", "Cumulative information on 23(f) (23(h))"),
    ("23(k)(i)", "Annual emissions balance (23(k)(i))"),
    ("23(k)(ii)", "Annual adjusted indicator for non-GHG (23(k)(ii))"),
    ("MPG 77(d)(iii)", "Any other Article 6 information (MPG 77(d)(iii))"),
    (
        "23(l)",
        "The end-of-period assessment, including the final indicator with CAs applied (23(l)), "
        'Comparison, and "Achievement of NDC: yes/no"',
    ),
]


class TestRows:
    def test_sixteen_rows_in_ctf_order_with_exact_labels(self) -> None:
        summary = build_structured_summary(japan_averaging())
        assert [(row.paragraph.value, row.label) for row in summary.rows] == LABELS
        assert [row.number for row in summary.rows] == list(range(1, 17))
        assert all(row.ctf_text for row in summary.rows)
        assert summary.row("23(c)").ctf_text.startswith(
            "Annual quantity of ITMOs first transferred (para. 23(c), annex to decision 2/CMA.3)"
        )
        assert (summary.party, summary.period_start, summary.period_end) == (BUYER, 2021, 2030)

    def test_one_cell_per_period_year(self) -> None:
        summary = build_structured_summary(japan_averaging())
        for row in summary.rows:
            if row.applicable and row.paragraph is not Paragraph.MPG_77_D_III:
                assert [cell.year for cell in row.cells] == list(range(2021, 2031))


class TestAveragingParty:
    SUMMARY = build_structured_summary(japan_averaging())

    @pytest.mark.parametrize("paragraph", ["7(a)(i)", "7(b)", "23(b)", "23(i)", "23(k)(ii)"])
    def test_rows_of_other_methods_are_not_applicable(self, paragraph: str) -> None:
        row = self.SUMMARY.row(paragraph)
        assert row.applicable is False
        assert row.cells == ()
        assert row.unit is None
        assert row.note

    def test_averaging_row_holds_the_indicative_and_final_ca(self) -> None:
        row = self.SUMMARY.row(Paragraph.P7_A_II)
        values = cell_values(row)
        assert values[2024] == 0
        assert values[2029] == Fraction(-22003, 3)
        assert values[2030] == -10_000
        assert values == cell_values(self.SUMMARY.row("23(g)"))
        assert row.unit == "t CO2 eq"

    def test_quantities(self) -> None:
        assert cell_values(self.SUMMARY.row("23(e)"))[2030] == 33_991
        assert cell_values(self.SUMMARY.row("23(f)"))[2030] == -33_991
        assert cell_values(self.SUMMARY.row("23(h)"))[2030] == -100_000
        assert set(cell_values(self.SUMMARY.row("23(c)")).values()) == {0}

    def test_balance_and_end_of_period_assessment(self) -> None:
        balance = self.SUMMARY.row("23(k)(i)")
        assert cell_values(balance)[2030] == 990_000
        assert cell_values(balance)[2029] is None  # emissions not recorded: no made-up number
        assert balance.target_level == Figure(Fraction(995_000))
        assert balance.target_year == "2030"
        assert balance.progress is not None
        assert balance.progress.value == -5_000
        assert balance.achieved is None
        final = self.SUMMARY.row("23(l)")
        assert cell_values(final) == dict.fromkeys(range(2021, 2030)) | {2030: 990_000}
        assert final.achieved is True
        assert final.progress == balance.progress

    def test_disclosure_row_states_the_policy(self) -> None:
        row = self.SUMMARY.row("MPG 77(d)(iii)")
        assert row.applicable is True
        assert row.cells == ()
        assert "Averaging basis: net" in row.note
        assert "including the reporting year" in row.note
        assert "rounded half to even" in row.note

    def test_disclosure_follows_the_policy(self) -> None:
        policy = AdjustmentPolicy(elapsed_years_inclusive=False, oimp_first_transfers_in_net=False)
        report = compute_adjustments(japan_averaging().profile, [], [], [], policy)
        summary = build_structured_summary(report)
        note = summary.row("MPG 77(d)(iii)").note
        assert "completed before the reporting year" in note
        assert "only enter the net quantity: no" in note
        assert "not counted" in summary.row("23(f)").note
        assert cell_values(summary.row("7(a)(ii)"))[2021] is None

    def test_not_achieved_and_missing_end_year(self) -> None:
        report = japan_averaging()
        tight = make_profile(BUYER, CaMethod.AVERAGING, target_level=985_000)
        assessed = build_structured_summary(
            compute_adjustments(tight, emissions({2030: 1_000_000}), [], [use(1, 2030, 10)])
        )
        assert assessed.row("23(l)").achieved is False
        unreported = compute_adjustments(report.profile, [], [], [])
        final = build_structured_summary(unreported).row("23(l)")
        assert final.achieved is None
        assert final.progress is None
        assert "emissions not yet recorded for 2030" in final.note


class TestMultiYearHost:
    SUMMARY = build_structured_summary(host_multi_year())

    def test_budget_row(self) -> None:
        row = self.SUMMARY.row("7(b)")
        assert row.applicable is True
        assert row.target_level == Figure(Fraction(2_960_000))
        assert row.target_year == "2021-2023"
        assert row.progress is not None
        assert row.progress.value == -7_000
        assert set(cell_values(row).values()) == {None}  # no trajectory points declared

    def test_first_transfers_and_balances(self) -> None:
        assert cell_values(self.SUMMARY.row("23(c)")) == {2021: 5_000, 2022: 8_000, 2023: 0}
        assert cell_values(self.SUMMARY.row("23(k)(i)")) == {
            2021: 1_005_000,
            2022: 988_000,
            2023: 960_000,
        }
        assert self.SUMMARY.row("23(g)").note == "applied annually"
        assert self.SUMMARY.row("23(c)").cells[0].value == Figure(Fraction(5_000), (10,))

    def test_end_of_period_budget_met(self) -> None:
        final = self.SUMMARY.row("23(l)")
        assert final.achieved is True
        assert final.target_year == "2021-2023"
        assert cell_values(final) == cell_values(self.SUMMARY.row("23(k)(i)"))

    def test_incomplete_emissions(self) -> None:
        report = host_multi_year()
        partial = compute_adjustments(report.profile, emissions({2021: 1}), [], [])
        final = build_structured_summary(partial).row("23(l)")
        assert final.achieved is None
        assert "emissions not yet recorded for 2022, 2023" in final.note

    @pytest.mark.parametrize("paragraph", ["7(a)(i)", "7(a)(ii)", "23(i)", "23(k)(ii)"])
    def test_not_applicable(self, paragraph: str) -> None:
        assert self.SUMMARY.row(paragraph).applicable is False


class TestTrajectoryParty:
    def test_trajectory_row_compares_the_target_year(self) -> None:
        """T2: exceeds the 2030 trajectory point by 4,000."""
        party = make_profile(BUYER, CaMethod.TRAJECTORY, trajectory={2030: 470_000})
        report = compute_adjustments(
            party,
            emissions({2029: 500_000, 2030: 480_000}),
            [],
            [use(1, 2029, 2_000), use(2, 2030, 6_000, vintage=2028)],
        )
        summary = build_structured_summary(report)
        row = summary.row("7(a)(i)")
        assert row.applicable is True
        assert cell_values(row)[2030] == 470_000
        assert cell_values(row)[2029] is None
        assert row.target_level == Figure(Fraction(470_000))
        assert row.progress is not None
        assert row.progress.value == 4_000
        assert summary.row("7(a)(ii)").applicable is False
        final = summary.row("23(l)")
        assert final.achieved is None
        assert "no target level or budget declared" in final.note

    def test_indicative_budget(self) -> None:
        party = make_profile(BUYER, CaMethod.TRAJECTORY, (2029, 2030), budget=1_000_000)
        report = compute_adjustments(party, emissions({2029: 500_000, 2030: 480_000}), [], [])
        row = build_structured_summary(report).row("7(a)(i)")
        assert row.target_level == Figure(Fraction(1_000_000))
        assert row.progress is not None
        assert row.progress.value == -20_000


class TestNonGhgParty:
    def test_indicator_rows(self) -> None:
        """T6: adjusted indicator 48,800 MWh."""
        party = make_profile(
            HOST,
            CaMethod.TRAJECTORY,
            metric=Metric.NON_GHG,
            trajectory={2030: 60_000},
            target_level=60_000,
            non_ghg_unit="MWh",
        )
        report = compute_adjustments(party, emissions({2025: 50_000}), [ft(1, 2025, 1_200)], [])
        summary = build_structured_summary(report)
        assert summary.row("23(a)").applicable is False
        assert summary.row("23(k)(i)").applicable is False
        indicator = summary.row("23(i)")
        assert indicator.unit == "MWh"
        assert cell_values(indicator)[2025] == 50_000
        adjusted = summary.row("23(k)(ii)")
        assert cell_values(adjusted)[2025] == 48_800
        assert adjusted.unit == "MWh"
        assert summary.row("23(c)").unit == "MWh"
        final = summary.row("23(l)")
        assert final.achieved is None
        assert "achievement is not assessed" in final.note


class TestOimpAuthorizations:
    def test_row_23d_sums_quantities_and_lists_entities(self) -> None:
        facts = [
            oimp(1, 2026, 3_000, ("Airline B", "Airline A")),
            oimp(2, 2026, 500, ("Airline A",)),
            oimp(3, 2028, 100, ()),
        ]
        report = compute_adjustments(make_profile(HOST, CaMethod.AVERAGING), [], [], [])
        row = build_structured_summary(report, facts).row("23(d)")
        cells = {cell.year: cell for cell in row.cells}
        assert cells[2026].value == Figure(Fraction(3_500), (1, 2))
        assert cells[2026].entities == ("Airline A", "Airline B")
        assert cells[2028].value == Figure(Fraction(100), (3,))
        assert cells[2028].entities == ()
        assert cells[2021].value == Figure(Fraction(0))
        # authorizations alone never enter the net quantity
        assert set(cell_values(build_structured_summary(report, facts).row("23(f)")).values()) == {
            0
        }

    def test_rejects_another_partys_authorization(self) -> None:
        report = compute_adjustments(make_profile(BUYER, CaMethod.AVERAGING), [], [], [])
        with pytest.raises(FactNotOfParty):
            build_structured_summary(report, [oimp(1, 2026, 1)])

    def test_rejects_authorizations_outside_the_period(self) -> None:
        report = compute_adjustments(make_profile(HOST, CaMethod.AVERAGING), [], [], [])
        with pytest.raises(OutsideNdcPeriod):
            build_structured_summary(report, [oimp(1, 2031, 1)])

    def test_rejects_old_vintages_and_repeated_seqs(self) -> None:
        report = compute_adjustments(make_profile(HOST, CaMethod.AVERAGING), [], [], [])
        old = OimpAuthorizationFact(1, 2025, 1, (), "CA0002", "Waste management", HOST, 2020)
        with pytest.raises(VintageBefore2021):
            build_structured_summary(report, [old])
        with pytest.raises(DuplicateSeq):
            build_structured_summary(report, [oimp(1, 2025, 1), oimp(1, 2026, 1)])

    @pytest.mark.parametrize("entities", ["Airline A", ("",), 5])
    def test_malformed_entities(self, entities: object) -> None:
        with pytest.raises(InvalidFact):
            oimp(1, 2025, 1, entities)  # type: ignore[arg-type]
