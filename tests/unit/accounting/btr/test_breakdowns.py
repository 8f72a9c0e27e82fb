"""The para 23(j) breakdowns (decision 2/CMA.3, annex)."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting.adjustments import (
    FirstTransferFact,
    UseFact,
    compute_adjustments,
)
from ledger.accounting.btr import (
    NOT_APPLICABLE,
    BreakdownDimension,
    BreakdownRow,
    Paragraph,
    StructuredSummary,
    breakdowns_23j,
    build_structured_summary,
)
from ledger.registry.model import CaMethod, Purpose
from tests.unit.accounting.btr.builders import (
    BUYER,
    HOST,
    cell_values,
    ft,
    host_multi_year,
    make_profile,
    oimp,
    use,
)


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
