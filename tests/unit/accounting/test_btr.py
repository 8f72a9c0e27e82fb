"""BTR structured summary (decision 5/CMA.3, CTF Table 4, Article 6 rows; article6.md §3.7) and
the para 23(j) breakdowns (decision 2/CMA.3, annex)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    AdjustmentReport,
    DuplicateSeq,
    EmissionsFact,
    FactNotOfParty,
    Figure,
    FirstTransferFact,
    InvalidFact,
    NdcProfile,
    OimpAuthorizationFact,
    OutsideNdcPeriod,
    UseFact,
    compute_adjustments,
)
from ledger.accounting.btr import (
    NOT_APPLICABLE,
    BreakdownDimension,
    BreakdownRow,
    Paragraph,
    StructuredSummary,
    SummaryRow,
    breakdowns_23j,
    build_structured_summary,
)
from ledger.errors import VintageBefore2021
from ledger.registry.model import CaMethod, Metric, NdcType, Purpose

HOST, BUYER = "THA", "JPN"

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


def make_profile(
    party: str,
    method: CaMethod,
    period: tuple[int, int] = (2021, 2030),
    **extra: object,
) -> NdcProfile:
    ndc_type = NdcType.MULTI_YEAR if method is CaMethod.ANNUAL else NdcType.SINGLE_YEAR
    return NdcProfile(
        party,
        ndc_type,
        extra.pop("metric", Metric.GHG),  # type: ignore[arg-type]
        period[0],
        period[1],
        method,
        period[1],
        **extra,  # type: ignore[arg-type]
    )


def ft(
    seq: int,
    vintage: int,
    quantity: int,
    *,
    purpose: Purpose = Purpose.NDC,
    approach: str = "CA0001",
    sector: str = "Energy generation",
    to: str | None = BUYER,
) -> FirstTransferFact:
    return FirstTransferFact(seq, vintage, quantity, purpose, approach, sector, HOST, to)


def use(
    seq: int,
    use_year: int,
    quantity: int,
    *,
    vintage: int = 2021,
    approach: str = "CA0001",
    sector: str = "Energy generation",
    source: str = HOST,
    party: str = BUYER,
) -> UseFact:
    return UseFact(seq, use_year, vintage, quantity, approach, sector, source, party)


def oimp(
    seq: int, year: int, quantity: int, entities: tuple[str, ...] = ("Airline A",)
) -> OimpAuthorizationFact:
    return OimpAuthorizationFact(
        seq, year, quantity, entities, "CA0002", "Forestry and land use", HOST, year
    )


def emissions(values: Mapping[int, int], first_seq: int = 1000) -> list[EmissionsFact]:
    return [EmissionsFact(first_seq + i, y, v) for i, (y, v) in enumerate(values.items())]


def cell_values(row: SummaryRow) -> dict[int, Fraction | None]:
    return {cell.year: None if cell.value is None else cell.value.value for cell in row.cells}


def japan_averaging() -> AdjustmentReport:
    """T3 with a target level (article6.md §2.3)."""
    uses = [
        use(i, year, qty)
        for i, (year, qty) in enumerate(
            {
                2025: 1_009,
                2026: 5_000,
                2027: 10_000,
                2028: 20_000,
                2029: 30_000,
                2030: 33_991,
            }.items(),
            start=1,
        )
    ]
    party = make_profile(BUYER, CaMethod.AVERAGING, target_level=995_000)
    return compute_adjustments(party, emissions({2030: 1_000_000}), [], uses)


def host_multi_year() -> AdjustmentReport:
    """T1 (article6.md §2.3)."""
    party = make_profile(HOST, CaMethod.ANNUAL, (2021, 2023), budget=2_960_000)
    return compute_adjustments(
        party,
        emissions({2021: 1_000_000, 2022: 980_000, 2023: 960_000}, first_seq=1),
        [ft(10, 2021, 5_000), ft(11, 2022, 8_000)],
        [],
    )


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


# --------------------------------------------------------------------------------------------
# 23(j)
# --------------------------------------------------------------------------------------------


def keyed(rows: tuple[BreakdownRow, ...]) -> dict[tuple[str, int, str, str, str], Fraction]:
    return {
        (
            r.paragraph.value,
            r.year,
            r.cooperative_approach,
            r.dimension.value,
            r.key,
        ): r.quantity.value
        for r in rows
    }


class TestBreakdowns:
    TRANSFERS = (
        ft(1, 2021, 1_000),
        ft(2, 2021, 500, sector="Waste management"),
        ft(3, 2021, 200, approach="CA0002", purpose=Purpose.OIMP, to=None),
    )
    USES = (
        use(4, 2025, 300, vintage=2021, source="CHE"),
        use(5, 2025, 700, vintage=2022),
    )

    def test_first_transfers_per_approach_and_dimension(self) -> None:
        rows = keyed(breakdowns_23j(self.TRANSFERS, []))
        assert rows == {
            ("23(c)", 2021, "CA0001", "cooperative approach", "CA0001"): 1_500,
            ("23(c)", 2021, "CA0001", "sector", "Energy generation"): 1_000,
            ("23(c)", 2021, "CA0001", "sector", "Waste management"): 500,
            ("23(c)", 2021, "CA0001", "transferring Party", HOST): 1_500,
            ("23(c)", 2021, "CA0001", "using Party", BUYER): 1_500,
            ("23(c)", 2021, "CA0001", "vintage", "2021"): 1_500,
            ("23(c)", 2021, "CA0002", "cooperative approach", "CA0002"): 200,
            ("23(c)", 2021, "CA0002", "sector", "Energy generation"): 200,
            ("23(c)", 2021, "CA0002", "transferring Party", HOST): 200,
            ("23(c)", 2021, "CA0002", "using Party", NOT_APPLICABLE): 200,
            ("23(c)", 2021, "CA0002", "vintage", "2021"): 200,
        }

    def test_uses_by_transferring_party_and_vintage(self) -> None:
        rows = keyed(breakdowns_23j([], self.USES))
        assert rows[("23(e)", 2025, "CA0001", "transferring Party", "CHE")] == 300
        assert rows[("23(e)", 2025, "CA0001", "transferring Party", HOST)] == 700
        assert rows[("23(e)", 2025, "CA0001", "vintage", "2021")] == 300
        assert rows[("23(e)", 2025, "CA0001", "vintage", "2022")] == 700
        assert rows[("23(e)", 2025, "CA0001", "using Party", BUYER)] == 1_000

    def test_oimp_authorizations_are_23d(self) -> None:
        rows = breakdowns_23j([], [], [oimp(9, 2026, 3_000)])
        assert {r.paragraph for r in rows} == {Paragraph.P23_D}
        assert keyed(rows)[("23(d)", 2026, "CA0002", "using Party", NOT_APPLICABLE)] == 3_000

    def test_rows_are_sorted_and_explain_themselves(self) -> None:
        rows = breakdowns_23j(self.TRANSFERS, self.USES, [oimp(9, 2026, 3_000)])
        assert [r.paragraph for r in rows] == sorted(
            (r.paragraph for r in rows), key=list(Paragraph).index
        )
        first = rows[0]
        assert first.dimension is BreakdownDimension.COOPERATIVE_APPROACH
        assert first.quantity.seqs == (1, 2)

    def test_totals_match_the_summary_rows(self) -> None:
        report = host_multi_year()
        transfers = [ft(10, 2021, 5_000), ft(11, 2022, 8_000, approach="CA0002")]
        summary = build_structured_summary(report)
        totals: dict[int, Fraction] = defaultdict(Fraction)
        for row in breakdowns_23j(transfers, []):
            if row.dimension is BreakdownDimension.COOPERATIVE_APPROACH:
                totals[row.year] += row.quantity.value
        first_transferred = cell_values(summary.row("23(c)"))
        assert {year: v for year, v in first_transferred.items() if v} == dict(totals)

    def test_empty(self) -> None:
        assert breakdowns_23j([], []) == ()


@st.composite
def facts(draw: st.DrawFn) -> tuple[list[FirstTransferFact], list[UseFact]]:
    approaches = st.sampled_from(["CA0001", "CA0002", "CA0003"])
    sectors = st.sampled_from(["Energy generation", "Waste management", "Transportation"])
    parties = st.sampled_from(["CHE", "JPN", "SGP"])
    years = st.integers(2021, 2030)
    quantities = st.integers(1, 10**6)
    transfers = draw(
        st.lists(
            st.tuples(years, quantities, approaches, sectors, st.none() | parties), max_size=15
        )
    )
    uses = draw(
        st.lists(st.tuples(years, years, quantities, approaches, sectors, parties), max_size=15)
    )
    fts = [ft(i, v, q, approach=a, sector=s, to=to) for i, (v, q, a, s, to) in enumerate(transfers)]
    us = [
        use(100 + i, y, q, vintage=v, approach=a, sector=s, source=p)
        for i, (y, v, q, a, s, p) in enumerate(uses)
    ]
    return fts, us


@given(generated=facts())
def test_every_dimension_adds_up_to_the_approach_total(
    generated: tuple[list[FirstTransferFact], list[UseFact]],
) -> None:
    transfers, uses = generated
    sums: dict[tuple[Paragraph, int, str], dict[BreakdownDimension, Fraction]] = defaultdict(
        lambda: defaultdict(Fraction)
    )
    for row in breakdowns_23j(transfers, uses):
        sums[(row.paragraph, row.year, row.cooperative_approach)][row.dimension] += (
            row.quantity.value
        )
    for per_dimension in sums.values():
        assert set(per_dimension) == set(BreakdownDimension)
        assert len(set(per_dimension.values())) == 1
    grand = sum(per[BreakdownDimension.COOPERATIVE_APPROACH] for per in sums.values())
    assert grand == sum(f.quantity for f in transfers) + sum(u.quantity for u in uses)


@given(generated=facts())
def test_summary_cells_equal_the_breakdown_totals(
    generated: tuple[list[FirstTransferFact], list[UseFact]],
) -> None:
    transfers, uses = generated
    host_uses = [
        UseFact(
            u.seq, u.use_year, u.vintage, u.quantity, u.cooperative_approach, u.sector, "CHE", HOST
        )
        for u in uses
    ]
    report = compute_adjustments(make_profile(HOST, CaMethod.AVERAGING), [], transfers, host_uses)
    summary: StructuredSummary = build_structured_summary(report)
    for paragraph in (Paragraph.P23_C, Paragraph.P23_E):
        totals: dict[int, Fraction] = defaultdict(Fraction)
        for row in breakdowns_23j(transfers, host_uses):
            if row.paragraph is paragraph and row.dimension is BreakdownDimension.VINTAGE:
                totals[row.year] += row.quantity.value
        cells = cell_values(summary.row(paragraph))
        assert all(cells[year] == totals.get(year, 0) for year in cells)
