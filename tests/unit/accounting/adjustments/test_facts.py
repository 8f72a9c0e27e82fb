"""Ledger facts that cannot be counted (decision 2/CMA.3, annex, para 8)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.accounting.adjustments import (
    DuplicateSeq,
    EmissionsFact,
    EmissionsNotReported,
    FactNotOfParty,
    InvalidFact,
    OutsideNdcPeriod,
    compute_adjustments,
)
from ledger.errors import InvalidInput, UseOutsideNdcPeriod, VintageBefore2021
from ledger.registry.model import CaMethod, Purpose
from tests.unit.accounting.adjustments.builders import (
    BUYER,
    HOST,
    emissions,
    ft,
    profile,
    t3_report,
    use,
)


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
