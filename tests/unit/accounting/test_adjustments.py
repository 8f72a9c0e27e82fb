"""Corresponding adjustments: golden cases T1-T6 of article6.md §2.3 as exact values, the policy
variants of §2.2, restatement, explain-seqs and the errors (decision 2/CMA.3, annex, paras 7-9)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting.adjustments import (
    AdjustmentPolicy,
    AdjustmentReport,
    AverageNotDefined,
    AveragingBasis,
    CaKind,
    DuplicateSeq,
    EmissionsFact,
    EmissionsNotReported,
    FactNotOfParty,
    Figure,
    FirstTransferFact,
    IncomparableReports,
    InvalidFact,
    InvalidNdcProfile,
    MethodNotAllowedForNdc,
    NdcProfile,
    OutsideNdcPeriod,
    Restatement,
    RowField,
    UseFact,
    compute_adjustments,
    render_decimal,
    restate,
)
from ledger.errors import InvalidInput, RuleViolation, UseOutsideNdcPeriod, VintageBefore2021
from ledger.registry.model import CaMethod, Metric, NdcType, Purpose

HOST, BUYER = "THA", "JPN"


def profile(
    party: str = BUYER,
    method: CaMethod = CaMethod.AVERAGING,
    period: tuple[int, int] = (2021, 2030),
    *,
    metric: Metric = Metric.GHG,
    budget: int | None = None,
    trajectory: Mapping[int, int] | None = None,
    target_level: int | None = None,
    non_ghg_unit: str | None = None,
) -> NdcProfile:
    ndc_type = NdcType.MULTI_YEAR if method is CaMethod.ANNUAL else NdcType.SINGLE_YEAR
    return NdcProfile(
        party=party,
        ndc_type=ndc_type,
        metric=metric,
        period_start=period[0],
        period_end=period[1],
        method=method,
        target_year=period[1],
        budget=budget,
        trajectory=trajectory or {},
        target_level=target_level,
        non_ghg_unit=non_ghg_unit,
    )


def ft(
    seq: int,
    vintage: int,
    quantity: int,
    purpose: Purpose = Purpose.NDC,
    *,
    party: str = HOST,
    to: str | None = BUYER,
    approach: str = "CA0001",
    sector: str = "Energy generation",
) -> FirstTransferFact:
    return FirstTransferFact(seq, vintage, quantity, purpose, approach, sector, party, to)


def use(
    seq: int,
    use_year: int,
    quantity: int,
    vintage: int = 2021,
    *,
    party: str = BUYER,
    source: str = HOST,
    approach: str = "CA0001",
    sector: str = "Energy generation",
) -> UseFact:
    return UseFact(seq, use_year, vintage, quantity, approach, sector, source, party)


def emissions(values: Mapping[int, int], first_seq: int = 1000) -> list[EmissionsFact]:
    return [
        EmissionsFact(first_seq + i, year, value) for i, (year, value) in enumerate(values.items())
    ]


def by_year(report: AdjustmentReport, field: RowField) -> dict[int, Fraction | None]:
    return {
        row.year: (None if (fig := row.figures()[field]) is None else fig.value)
        for row in report.rows
    }


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


T3_USES = {2025: 1_009, 2026: 5_000, 2027: 10_000, 2028: 20_000, 2029: 30_000, 2030: 33_991}
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


DEFAULT = AdjustmentPolicy()


def t3_report(policy: AdjustmentPolicy = DEFAULT) -> AdjustmentReport:
    uses = [use(i, year, qty) for i, (year, qty) in enumerate(T3_USES.items(), start=1)]
    return compute_adjustments(profile(), emissions({2030: 1_000_000}), [], uses, policy)


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


def t4_transfers(oimp_purpose: Purpose = Purpose.OIMP) -> list[FirstTransferFact]:
    return [
        ft(1, 2021, 1_009),
        ft(2, 2023, 4_000),
        ft(3, 2025, 6_000),
        # authorized for CORSIA, OIMP first-transfer definition "Authorization"
        ft(4, 2026, 3_000, oimp_purpose, to=None),
    ]


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
# Emissions restatement and report restatement
# --------------------------------------------------------------------------------------------


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
# Errors
# --------------------------------------------------------------------------------------------


class TestProfileErrors:
    def test_averaging_on_a_multi_year_ndc(self) -> None:
        with pytest.raises(MethodNotAllowedForNdc) as caught:
            NdcProfile(BUYER, NdcType.MULTI_YEAR, Metric.GHG, 2021, 2030, CaMethod.AVERAGING, 2030)
        assert isinstance(caught.value, RuleViolation)
        assert caught.value.rule == "ca-method-ndc-type"
        assert caught.value.details["allowed"] == ["annual"]

    def test_annual_on_a_single_year_ndc(self) -> None:
        with pytest.raises(MethodNotAllowedForNdc):
            NdcProfile(
                BUYER,
                NdcType.SINGLE_YEAR,
                Metric.GHG,
                2021,
                2030,
                CaMethod.ANNUAL,
                2030,
                budget=1,
            )

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"party": "jpn"}, "alpha-3"),
            ({"party": "JAPAN"}, "alpha-3"),
            ({"period_start": 2031}, "after period_end"),
            ({"target_year": 2029}, "last year of its period"),
            ({"target_year": 2035}, "outside the NDC period"),
            ({"metric": "CO2"}, "metric must be one of"),
            ({"method": "average"}, "method must be one of"),
            ({"period_end": 2030.0}, "must be an int"),
            ({"trajectory": {2030: 1}}, "takes no trajectory"),
            ({"method": "trajectory"}, "needs a trajectory or a budget"),
            ({"method": "trajectory", "trajectory": {2031: 5}}, "trajectory year outside"),
            ({"method": "trajectory", "trajectory": {2030: 5.5}}, "must be an int"),
            ({"metric": "non-GHG"}, "non_ghg_unit must be a non-empty string"),
            ({"non_ghg_unit": "MWh"}, "a GHG NDC has no non-GHG unit"),
            (
                {"metric": "non-GHG", "non_ghg_unit": "MWh", "method": "trajectory", "budget": 9},
                "needs the GHG metric",
            ),
        ],
    )
    def test_invalid_profile(self, changes: dict[str, object], message: str) -> None:
        fields: dict[str, object] = {
            "party": BUYER,
            "ndc_type": "single-year",
            "metric": "GHG",
            "period_start": 2021,
            "period_end": 2030,
            "method": "averaging",
            "target_year": 2030,
        }
        fields.update(changes)
        with pytest.raises(InvalidNdcProfile, match=message):
            NdcProfile(**fields)  # type: ignore[arg-type]

    def test_profile_is_immutable_and_hashable(self) -> None:
        party = profile(BUYER, CaMethod.TRAJECTORY, trajectory={2030: 5, 2025: 9})
        assert list(party.trajectory) == [2025, 2030]
        with pytest.raises(TypeError):
            party.trajectory[2026] = 1  # type: ignore[index]
        assert hash(party) == hash(profile(BUYER, CaMethod.TRAJECTORY, trajectory={2030: 6}))
        assert party.period_label == "2021-2030"
        assert profile(period=(2030, 2030)).period_label == "2030"


class TestFactErrors:
    def test_use_of_a_vintage_before_2021(self) -> None:
        with pytest.raises(VintageBefore2021):
            compute_adjustments(profile(), [], [], [use(1, 2025, 10, vintage=2020)])

    def test_use_for_a_year_after_the_period(self) -> None:
        with pytest.raises(UseOutsideNdcPeriod) as caught:
            compute_adjustments(profile(), [], [], [use(1, 2031, 10, vintage=2030)])
        assert caught.value.details["field"] == "use_year"
        assert caught.value.details["seq"] == 1

    def test_use_of_a_vintage_of_another_period(self) -> None:
        with pytest.raises(UseOutsideNdcPeriod) as caught:
            compute_adjustments(profile(), [], [], [use(1, 2030, 10, vintage=2031)])
        assert caught.value.details["field"] == "vintage"

    def test_first_transfer_of_another_period(self) -> None:
        with pytest.raises(OutsideNdcPeriod):
            compute_adjustments(profile(HOST), [], [ft(1, 2031, 10)], [])

    def test_emissions_of_another_period(self) -> None:
        with pytest.raises(OutsideNdcPeriod):
            compute_adjustments(profile(), [EmissionsFact(1, 2019, 5)], [], [])

    def test_first_transfer_by_another_party(self) -> None:
        with pytest.raises(FactNotOfParty) as caught:
            compute_adjustments(profile(BUYER), [], [ft(1, 2025, 10, party=HOST)], [])
        assert caught.value.details["party"] == HOST

    def test_use_by_another_party(self) -> None:
        with pytest.raises(FactNotOfParty):
            compute_adjustments(profile(HOST), [], [], [use(1, 2025, 10, party=BUYER)])

    def test_duplicate_seq(self) -> None:
        with pytest.raises(DuplicateSeq):
            compute_adjustments(profile(), [], [], [use(1, 2025, 10), use(1, 2026, 10)])
        with pytest.raises(DuplicateSeq):
            compute_adjustments(profile(), [], [], [use(1, 2025, 10)] * 2)
        with pytest.raises(DuplicateSeq):
            compute_adjustments(profile(), [EmissionsFact(1, 2025, 1)] * 2, [], [])
        with pytest.raises(DuplicateSeq):
            compute_adjustments(profile(HOST), [], [ft(1, 2025, 10)] * 2, [])

    def test_one_entry_may_carry_several_vintages(self) -> None:
        """A first transfer entry acting on blocks of two vintages books each to its vintage."""
        report = compute_adjustments(profile(HOST), [], [ft(1, 2023, 10), ft(1, 2024, 7)], [])
        assert report.row(2023).first_transferred.value == 10
        assert report.row(2024).first_transferred.value == 7
        assert report.row(2024).first_transferred.seqs == (1,)

    @pytest.mark.parametrize("quantity", [0, -5, 1.5, True, Fraction(3)])
    def test_quantity_must_be_a_positive_int(self, quantity: object) -> None:
        with pytest.raises(InvalidFact):
            use(1, 2025, quantity)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "build",
        [
            lambda: ft(-1, 2025, 10),
            lambda: ft(1, 2025, 10, purpose="CORSIA"),  # type: ignore[arg-type]
            lambda: ft(1, 2025, 10, to="jp"),
            lambda: ft(1, 2025, 10, approach=" "),
            lambda: use(1, 2025, 10, sector=""),
            lambda: use(1, "2025", 10),  # type: ignore[arg-type]
            lambda: EmissionsFact(1, 2025, 1.0),  # type: ignore[arg-type]
            lambda: EmissionsFact(-1, 2025, 1),
        ],
    )
    def test_malformed_facts(self, build: object) -> None:
        assert callable(build)
        with pytest.raises(InvalidFact):
            build()

    def test_purpose_accepts_the_aef_spelling(self) -> None:
        fact = ft(1, 2025, 10, "NDC and OIMP")  # type: ignore[arg-type]
        assert fact.purpose is Purpose.NDC_AND_OIMP

    def test_missing_emissions_when_the_balance_is_asked(self) -> None:
        report = t3_report()
        assert report.row(2029).emissions_balance is None
        with pytest.raises(EmissionsNotReported) as caught:
            report.emissions_balance(2029)
        assert caught.value.details == {"year": 2029}
        assert isinstance(caught.value, InvalidInput)

    def test_budget_waits_for_every_year(self) -> None:
        party = profile(HOST, CaMethod.ANNUAL, (2021, 2023), budget=10)
        report = compute_adjustments(party, emissions({2021: 1, 2023: 1}), [], [])
        assert report.budget_assessment is None
        assert report.missing_emissions_years == (2022,)

    def test_row_outside_the_period(self) -> None:
        with pytest.raises(OutsideNdcPeriod):
            t3_report().row(2031)


class TestFigureAndRendering:
    def test_figure_normalizes(self) -> None:
        figure = Figure(3, (5, 2, 5))  # type: ignore[arg-type]
        assert figure.value == Fraction(3)
        assert isinstance(figure.value, Fraction)
        assert figure.seqs == (2, 5)
        assert figure.is_integral
        assert not Figure(Fraction(1, 3)).is_integral

    @pytest.mark.parametrize("value", [1.5, Decimal("1.5"), "1", True])
    def test_figure_rejects_inexact_values(self, value: object) -> None:
        with pytest.raises(InvalidInput):
            Figure(value)  # type: ignore[arg-type]

    def test_figure_arithmetic_unions_seqs(self) -> None:
        a, b = Figure(Fraction(10), (1,)), Figure(Fraction(4), (2,))
        assert a + b == Figure(Fraction(14), (1, 2))
        assert a - b == Figure(Fraction(6), (1, 2))
        assert -a == Figure(Fraction(-10), (1,))
        assert a / 4 == Figure(Fraction(5, 2), (1,))

    @pytest.mark.parametrize(
        ("value", "places", "text"),
        [
            (Fraction(5, 2), 0, "2"),
            (Fraction(7, 2), 0, "4"),
            (Fraction(-5, 2), 0, "-2"),
            (Fraction(14009, 10), 1, "1400.9"),
            (Fraction(14009, 10), 0, "1401"),
            (Fraction(-22003, 3), 3, "-7334.333"),
            (Fraction(2, 3), 2, "0.67"),
            (Fraction(-1, 1000), 2, "0.00"),
            (Fraction(1, 8), 2, "0.12"),
            (Fraction(3, 8), 2, "0.38"),
            (Fraction(5), 2, "5.00"),
        ],
    )
    def test_render_rounds_half_to_even(self, value: Fraction, places: int, text: str) -> None:
        assert render_decimal(value, places) == text

    @pytest.mark.parametrize("places", [-1, 1.0])
    def test_render_rejects_bad_places(self, places: object) -> None:
        with pytest.raises(InvalidInput):
            render_decimal(Fraction(1), places)  # type: ignore[arg-type]


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


@given(
    numerator=st.integers(-(10**12), 10**12),
    scale=st.integers(0, 6),
    places=st.integers(0, 6),
)
def test_render_matches_decimal_half_even(numerator: int, scale: int, places: int) -> None:
    exact = Decimal(numerator).scaleb(-scale)
    expected = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if expected == 0:
        expected = abs(expected)  # no negative zero on display
    assert render_decimal(Fraction(numerator, 10**scale), places) == f"{expected:f}"
