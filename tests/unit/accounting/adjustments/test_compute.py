"""Corresponding adjustments: golden cases T1-T6 of article6.md §2.3 as exact values, the policy
variants of §2.2, explain-seqs and properties (decision 2/CMA.3, annex, paras 7-9).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    AverageNotDefined,
    AveragingBasis,
    CaKind,
    Figure,
    FirstTransferFact,
    NonGhgSign,
    RowField,
    UseFact,
    compute_adjustments,
    restate,
)
from ledger.registry.model import CaMethod, Metric, Purpose
from tests.unit.accounting.adjustments.builders import (
    BUYER,
    HOST,
    T3_USES,
    by_year,
    emissions,
    ft,
    profile,
    t3_report,
    t4_transfers,
    use,
)

# --------------------------------------------------------------------------------------------
# Golden cases, article6.md §2.3
# --------------------------------------------------------------------------------------------


class TestT1MultiYearHost:
    """T1: multi-year host, vintage-year attribution, budget met, earlier-year restatement."""

    PROFILE = profile(HOST, CaMethod.ANNUAL, (2021, 2023), budget=2_960_000)
    EMISSIONS = emissions({2021: 1_000_000, 2022: 980_000, 2023: 960_000}, first_seq=1)
    TRANSFERS = (ft(10, 2021, 5_000), ft(11, 2022, 8_000))  # booked in 2022 and 2023

    def test_cas_and_balances_by_vintage(self) -> None:
        report = compute_adjustments(self.PROFILE, self.EMISSIONS, self.TRANSFERS, [])
        assert by_year(report, RowField.CA) == {2021: 5_000, 2022: 8_000, 2023: 0}
        assert by_year(report, RowField.EMISSIONS_BALANCE) == {
            2021: 1_005_000,
            2022: 988_000,
            2023: 960_000,
        }
        assert {row.ca_kind for row in report.rows} == {CaKind.ANNUAL}

    def test_cumulative_balance_meets_budget(self) -> None:
        report = compute_adjustments(self.PROFILE, self.EMISSIONS, self.TRANSFERS, [])
        assessment = report.budget_assessment
        assert assessment is not None
        assert assessment.cumulative_balance.value == 2_953_000
        assert assessment.difference.value == -7_000
        assert assessment.met is True
        assert assessment.cumulative_balance.seqs == (1, 2, 3, 10, 11)
        assert report.cumulative_net.value == 13_000

    def test_budget_not_met(self) -> None:
        tight = profile(HOST, CaMethod.ANNUAL, (2021, 2023), budget=2_950_000)
        report = compute_adjustments(tight, self.EMISSIONS, self.TRANSFERS, [])
        assert report.budget_assessment is not None
        assert report.budget_assessment.met is False
        assert report.budget_assessment.difference.value == 3_000

    def test_booking_the_2022_transfer_restates_2021(self) -> None:
        before = compute_adjustments(self.PROFILE, self.EMISSIONS, [], [])
        after = compute_adjustments(self.PROFILE, self.EMISSIONS, self.TRANSFERS[:1], [])
        restated = restate(before, after)
        assert [(r.year, r.field) for r in restated] == [
            (2021, RowField.FIRST_TRANSFERRED),
            (2021, RowField.NET),
            (2021, RowField.CUMULATIVE_NET),
            (2021, RowField.CA),
            (2021, RowField.EMISSIONS_BALANCE),
            (2022, RowField.CUMULATIVE_NET),
            (2023, RowField.CUMULATIVE_NET),
        ]
        balance = restated[4]
        assert balance.reported_before == Figure(Fraction(1_000_000), (1,))
        assert balance.restated == Figure(Fraction(1_005_000), (1, 10))
        assert balance.change == 5_000


class TestT2TrajectoryAcquirer:
    """T2: single-year acquirer, trajectory option (para 7(a)(i))."""

    PROFILE = profile(BUYER, CaMethod.TRAJECTORY, trajectory={2030: 470_000})
    EMISSIONS = emissions({2029: 500_000, 2030: 480_000})
    USES = (use(1, 2029, 2_000, vintage=2021), use(2, 2030, 6_000, vintage=2028))

    def test_annual_cas_and_trajectory_gap(self) -> None:
        report = compute_adjustments(self.PROFILE, self.EMISSIONS, [], self.USES)
        assert report.row(2029).ca == Figure(Fraction(-2_000), (1,))
        assert report.emissions_balance(2029).value == 498_000
        assert report.row(2030).ca == Figure(Fraction(-6_000), (2,))
        assert report.emissions_balance(2030).value == 474_000
        last = report.row(2030)
        assert last.trajectory_point == 470_000
        assert last.trajectory_difference == Figure(Fraction(4_000), (2, 1001))
        assert report.row(2029).trajectory_difference is None  # no trajectory point for 2029

    def test_acquisition_without_use_gives_zero_ca(self) -> None:
        report = compute_adjustments(self.PROFILE, self.EMISSIONS, [], [])
        assert set(by_year(report, RowField.CA).values()) == {0}
        assert report.emissions_balance(2030).value == 480_000


T3_AVERAGES = {
    2021: Fraction(0),
    2022: Fraction(0),
    2023: Fraction(0),
    2024: Fraction(0),
    2025: Fraction(-2018, 10),
    2026: Fraction(-10015, 10),
    2027: Fraction(-2287),
    2028: Fraction(-4501125, 1000),
    2029: Fraction(-22003, 3),  # -7,334.333...
    2030: Fraction(-10_000),
}


class TestT3AveragingAcquirer:
    """T3: Japan-like single-year acquirer, averaging over 2021-2030 (para 7(a)(ii))."""

    def test_indicative_averages_are_exact(self) -> None:
        report = t3_report()
        assert by_year(report, RowField.AVERAGE) == T3_AVERAGES
        assert by_year(report, RowField.CA) == T3_AVERAGES
        assert report.row(2029).ca == Figure(Fraction(-22003, 3), (1, 2, 3, 4, 5))

    def test_final_ca_and_balance_in_the_ndc_year(self) -> None:
        report = t3_report()
        assert report.final_ca == Figure(Fraction(-10_000), (1, 2, 3, 4, 5, 6))
        assert report.row(2030).ca_kind is CaKind.FINAL
        assert {report.row(y).ca_kind for y in range(2021, 2030)} == {CaKind.INDICATIVE}
        assert report.emissions_balance(2030).value == 990_000
        assert report.row(2030).used.value == 33_991  # only a tenth of 100,000 counts

    def test_fractions_are_not_truncated(self) -> None:
        average = t3_report().row(2029).average
        assert average is not None
        assert average.value * 9 == -66_009
        assert average.render(3) == "-7334.333"


class TestT4AveragingHost:
    """T4: single-year host, averaging, NDC and OIMP first transfers."""

    PROFILE = profile(HOST)
    AVERAGES = {
        2021: Fraction(1_009),
        2022: Fraction(1_009, 2),
        2023: Fraction(5_009, 3),
        2024: Fraction(5_009, 4),
        2025: Fraction(11_009, 5),
        2026: Fraction(14_009, 6),
        2027: Fraction(14_009, 7),
        2028: Fraction(14_009, 8),
        2029: Fraction(14_009, 9),
        2030: Fraction(14_009, 10),
    }

    def test_averages_are_exact(self) -> None:
        report = compute_adjustments(self.PROFILE, emissions({2030: 300_000}), t4_transfers(), [])
        assert by_year(report, RowField.AVERAGE) == self.AVERAGES
        assert report.cumulative_net.value == 14_009
        assert report.final_ca == Figure(Fraction(14009, 10), (1, 2, 3, 4))
        assert report.emissions_balance(2030).value == 300_000 + Fraction(14009, 10)
        assert report.emissions_balance(2030).render(1) == "301400.9"

    def test_oimp_first_transfer_reported_in_23c(self) -> None:
        report = compute_adjustments(self.PROFILE, [], t4_transfers(), [])
        row = report.row(2026)
        assert row.first_transferred == Figure(Fraction(3_000), (4,))
        assert row.first_transferred_oimp == Figure(Fraction(3_000), (4,))
        assert row.net == Figure(Fraction(3_000), (4,))


class TestT5SellerAndBuyer:
    """T5: a Party that both first transfers and uses nets the two (annual method)."""

    def test_nets_first_transfers_and_uses(self) -> None:
        party = profile(HOST, CaMethod.ANNUAL, (2024, 2024), budget=210_000)
        report = compute_adjustments(
            party,
            emissions({2024: 200_000}),
            [ft(1, 2024, 3_000)],
            [use(2, 2024, 1_000, vintage=2024, party=HOST, source="CHE")],
        )
        row = report.row(2024)
        assert row.first_transferred.value == 3_000
        assert row.used.value == 1_000
        assert row.ca == Figure(Fraction(2_000), (1, 2))
        assert report.emissions_balance(2024) == Figure(Fraction(202_000), (1, 2, 1000))


class TestT6NonGhgIndicator:
    """T6: non-GHG indicator, signs reversed (para 9)."""

    PROFILE = profile(
        HOST,
        CaMethod.ANNUAL,
        (2021, 2030),
        metric=Metric.NON_GHG,
        trajectory={2030: 80_000},
        non_ghg_unit="MWh",
    )

    def test_first_transfers_are_subtracted(self) -> None:
        report = compute_adjustments(
            self.PROFILE, emissions({2025: 50_000}), [ft(1, 2025, 1_200)], []
        )
        assert report.emissions_balance(2025).value == 48_800
        assert report.row(2025).ca == Figure(Fraction(1_200), (1,))
        assert self.PROFILE.unit == "MWh"

    def test_uses_are_added(self) -> None:
        buyer = profile(
            BUYER, CaMethod.ANNUAL, metric=Metric.NON_GHG, trajectory={2030: 1}, non_ghg_unit="MWh"
        )
        report = compute_adjustments(buyer, emissions({2025: 50_000}), [], [use(1, 2025, 700)])
        assert report.emissions_balance(2025).value == 50_700

    def test_the_sign_is_a_setting(self) -> None:
        """``non_ghg_sign``: the GHG sign for an indicator where less is better."""
        ghg_sign = AdjustmentPolicy(non_ghg_sign=NonGhgSign.FIRST_TRANSFERS_ADD)
        report = compute_adjustments(
            self.PROFILE, emissions({2025: 50_000}), [ft(1, 2025, 1_200)], [], ghg_sign
        )
        assert report.emissions_balance(2025).value == 51_200
        assert report.row(2025).ca == Figure(Fraction(1_200), (1,))
        assert report.policy.settings()["non_ghg_sign"] == "first-transfers-add"


# --------------------------------------------------------------------------------------------
# Policy variants (article6.md §2.2 open points)
# --------------------------------------------------------------------------------------------


class TestAveragingBasis:
    def test_separate_basis_reports_both_averages(self) -> None:
        transfers = [ft(1, 2021, 900), ft(2, 2022, 300)]
        uses = [use(3, 2022, 200, party=HOST, source="CHE")]
        separate = AdjustmentPolicy(averaging_basis=AveragingBasis.SEPARATE)
        report = compute_adjustments(profile(HOST), [], transfers, uses, separate)
        row = report.row(2022)
        assert row.average_first_transferred == Figure(Fraction(600), (1, 2))
        assert row.average_used == Figure(Fraction(100), (3,))
        assert row.average == Figure(Fraction(500), (1, 2, 3))
        assert report.final_ca == Figure(Fraction(1_000, 10), (1, 2, 3))

    def test_net_basis_leaves_the_parts_empty(self) -> None:
        row = t3_report().row(2026)
        assert row.average_first_transferred is None
        assert row.average_used is None

    def test_accepts_the_string_value(self) -> None:
        assert AdjustmentPolicy(averaging_basis="separate").averaging_basis is (  # type: ignore[arg-type]
            AveragingBasis.SEPARATE
        )


class TestElapsedYears:
    EXCLUSIVE = AdjustmentPolicy(elapsed_years_inclusive=False)

    def test_exclusive_counts_completed_years_only(self) -> None:
        report = t3_report(self.EXCLUSIVE)
        assert report.row(2021).average is None
        assert report.row(2021).ca is None
        # 2026: years 2021-2025 completed, sum -1,009 over 5
        assert report.row(2026).average == Figure(Fraction(-1009, 5), (1,))
        # 2030 indicative: 2021-2029, -66,009 over 9; the actual CA averages the whole period
        assert report.row(2030).average == Figure(Fraction(-22003, 3), (1, 2, 3, 4, 5))
        assert report.row(2030).ca == Figure(Fraction(-10_000), (1, 2, 3, 4, 5, 6))
        assert report.final_ca == report.row(2030).ca

    def test_first_year_balance_is_not_defined(self) -> None:
        uses = [use(1, 2021, 10)]
        report = compute_adjustments(profile(), emissions({2021: 5}), [], uses, self.EXCLUSIVE)
        assert report.row(2021).emissions_balance is None
        with pytest.raises(AverageNotDefined):
            report.emissions_balance(2021)


class TestOimpFirstTransfersInNet:
    OUT = AdjustmentPolicy(oimp_first_transfers_in_net=False)

    def test_excluded_from_net_but_still_first_transferred(self) -> None:
        report = compute_adjustments(profile(HOST), [], t4_transfers(), [], self.OUT)
        row = report.row(2026)
        assert row.first_transferred == Figure(Fraction(3_000), (4,))
        assert row.net == Figure(Fraction(0))
        assert report.final_ca == Figure(Fraction(11_009, 10), (1, 2, 3))
        assert 4 not in report.cumulative_net.seqs

    @pytest.mark.parametrize("purpose", [Purpose.NDC_AND_OIMP, Purpose.NDC_AND_IMP])
    def test_dual_authorization_still_counts(self, purpose: Purpose) -> None:
        report = compute_adjustments(profile(HOST), [], t4_transfers(purpose), [], self.OUT)
        assert report.row(2026).net.value == 3_000
        assert report.row(2026).first_transferred_oimp.value == 0

    @pytest.mark.parametrize("purpose", [Purpose.OIMP, Purpose.IMP, Purpose.OP])
    def test_every_oimp_only_purpose_is_excluded(self, purpose: Purpose) -> None:
        report = compute_adjustments(profile(HOST), [], t4_transfers(purpose), [], self.OUT)
        assert report.row(2026).net.value == 0


# --------------------------------------------------------------------------------------------
# Every figure explains itself
# --------------------------------------------------------------------------------------------


class TestExplainSeqs:
    def test_each_figure_names_the_entries_behind_it(self) -> None:
        party = profile(HOST, CaMethod.ANNUAL, (2021, 2023), budget=10**7)
        transfers = [ft(5, 2021, 10), ft(6, 2022, 20), ft(8, 2022, 30)]
        uses = [use(7, 2022, 5, party=HOST, source="CHE")]
        report = compute_adjustments(party, emissions({2022: 1_000}, 40), transfers, uses)
        row = report.row(2022)
        assert row.first_transferred.seqs == (6, 8)
        assert row.used.seqs == (7,)
        assert row.net.seqs == (6, 7, 8)
        assert row.cumulative_net.seqs == (5, 6, 7, 8)
        assert row.emissions is not None
        assert row.emissions.seqs == (40,)
        assert row.emissions_balance is not None
        assert row.emissions_balance.seqs == (6, 7, 8, 40)
        assert report.row(2023).net.seqs == ()

    def test_average_names_every_entry_of_its_window(self) -> None:
        report = t3_report()
        assert report.row(2024).average == Figure(Fraction(0))
        average = report.row(2027).average
        assert average is not None
        assert average.seqs == (1, 2, 3)

    def test_facts_are_order_independent(self) -> None:
        uses = [use(i, y, q) for i, (y, q) in enumerate(T3_USES.items(), start=1)]
        shuffled = compute_adjustments(profile(), emissions({2030: 1_000_000}), [], uses[::-1])
        assert shuffled == t3_report()


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

YEARS = st.integers(min_value=2021, max_value=2030)
QUANTITIES = st.integers(min_value=1, max_value=10**9)


@st.composite
def seller_and_buyer_facts(
    draw: st.DrawFn,
) -> tuple[list[FirstTransferFact], list[UseFact]]:
    transfers = draw(
        st.lists(st.tuples(YEARS, QUANTITIES, st.sampled_from(list(Purpose))), max_size=12)
    )
    uses = draw(st.lists(st.tuples(YEARS, YEARS, QUANTITIES), max_size=12))
    fts = [ft(i, v, q, p, party=HOST) for i, (v, q, p) in enumerate(transfers)]
    offset = len(fts)
    us = [
        use(offset + i, year, q, vintage=v, party=HOST, source="CHE")
        for i, (year, v, q) in enumerate(uses)
    ]
    return fts, us


def _total(facts: Iterable[FirstTransferFact | UseFact]) -> int:
    return sum(fact.quantity for fact in facts)


@given(facts=seller_and_buyer_facts(), inclusive=st.booleans(), in_net=st.booleans())
def test_final_average_times_n_is_the_sum_of_net(
    facts: tuple[list[FirstTransferFact], list[UseFact]], inclusive: bool, in_net: bool
) -> None:
    transfers, uses = facts
    policy = AdjustmentPolicy(elapsed_years_inclusive=inclusive, oimp_first_transfers_in_net=in_net)
    report = compute_adjustments(profile(HOST), [], transfers, uses, policy)
    assert report.final_ca is not None
    assert report.final_ca.value * 10 == sum(row.net.value for row in report.rows)
    assert report.final_ca.seqs == report.cumulative_net.seqs


@given(facts=seller_and_buyer_facts())
def test_annual_cas_sum_to_first_transfers_minus_uses(
    facts: tuple[list[FirstTransferFact], list[UseFact]],
) -> None:
    transfers, uses = facts
    party = profile(HOST, CaMethod.ANNUAL, budget=1)
    report = compute_adjustments(party, [], transfers, uses)
    cas = [row.ca for row in report.rows]
    assert all(ca is not None for ca in cas)
    assert sum(ca.value for ca in cas if ca is not None) == _total(transfers) - _total(uses)
    assert report.cumulative_net.value == _total(transfers) - _total(uses)
    assert report.cumulative_net.seqs == tuple(range(len(transfers) + len(uses)))


@given(facts=seller_and_buyer_facts(), inclusive=st.booleans())
def test_net_and_separate_bases_give_the_same_ca(
    facts: tuple[list[FirstTransferFact], list[UseFact]], inclusive: bool
) -> None:
    transfers, uses = facts
    results = [
        compute_adjustments(
            profile(HOST),
            [],
            transfers,
            uses,
            AdjustmentPolicy(averaging_basis=basis, elapsed_years_inclusive=inclusive),
        )
        for basis in AveragingBasis
    ]
    net, separate = results
    assert [row.ca for row in net.rows] == [row.ca for row in separate.rows]
    for row in separate.rows:
        if row.average is not None:
            assert row.average_first_transferred is not None
            assert row.average_used is not None
            assert row.average.value == (
                row.average_first_transferred.value - row.average_used.value
            )


@given(facts=seller_and_buyer_facts(), level=st.integers(-(10**9), 10**9))
def test_balance_is_emissions_plus_ca(
    facts: tuple[list[FirstTransferFact], list[UseFact]], level: int
) -> None:
    transfers, uses = facts
    values = dict.fromkeys(range(2021, 2031), level)
    ghg = compute_adjustments(profile(HOST), emissions(values), transfers, uses)
    non_ghg_profile = profile(
        HOST, CaMethod.TRAJECTORY, metric=Metric.NON_GHG, trajectory={2030: 0}, non_ghg_unit="MWh"
    )
    indicator = compute_adjustments(non_ghg_profile, emissions(values), transfers, uses)
    for row in ghg.rows:
        assert row.ca is not None
        assert row.emissions_balance is not None
        assert row.emissions_balance.value == level + row.ca.value
    for row in indicator.rows:
        assert row.emissions_balance is not None
        assert row.emissions_balance.value == level - row.first_transferred.value + row.used.value
