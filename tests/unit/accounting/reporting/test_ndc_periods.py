"""Reports per NDC period on the in-memory fakes: Japan with 2021-2030 and 2031-2035, adjustments
and BTR summaries per period, targets per period, the AEF naming the period of its year, and
amendments until an AEF covering the period has been submitted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from ledger.accounting import reporting
from ledger.accounting.adjustments import CaKind, InvalidNdcProfile
from ledger.errors import InvalidInput, NdcPeriodNotDeclared, NdcPeriodReported
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.model import CaMethod, Metric, NdcDeclaration, NdcPeriod, NdcType
from ledger.registry.projection import replay
from tests.fakes import FakeUnitOfWork
from tests.registry_world import (
    ADMIN,
    NDC_2021_2030,
    authorization,
    issuance,
    move,
    quantity,
    use,
)
from tests.unit.registry.in_memory import act, assert_refused, kinds_since

JAPAN_2031_2035 = NdcDeclaration(
    NdcType.SINGLE_YEAR, Metric.GHG, 2031, 2035, CaMethod.AVERAGING, target_year=2035
)
THAILAND_2031_2035 = NdcDeclaration(
    NdcType.MULTI_YEAR, Metric.GHG, 2031, 2035, CaMethod.ANNUAL, target_year=2035
)
IN_2033 = datetime(2033, 3, 1, 9, 0, tzinfo=UTC)


def past_2030(uow: FakeUnitOfWork) -> None:
    """Japan and Thailand declare their 2031-2035 periods (Thailand's with a trajectory); Thailand
    first transfers 10 units of
    vintage 2030 and 10 of vintage 2031 to Japan, which uses 4 of each: vintage 2030 for 2030,
    vintage 2031 for 2032 (in 2033)."""
    act(uow, lambda u: services.declare_ndc(u, "JPN", JAPAN_2031_2035, ADMIN))
    act(uow, lambda u: services.declare_ndc(u, "THA", THAILAND_2031_2035, ADMIN))
    act(
        uow,
        lambda u: reporting.record_ndc_target(
            u, "THA", "T", trajectory={2035: 1_000}, period_start=2031
        ),
    )
    act(
        uow,
        lambda u: services.record_authorization(u, authorization("THA-NDC", vintage_to=2035), "T"),
    )

    def flows(u: UnitOfWork) -> None:
        for vintage, use_year in ((2030, 2030), (2031, 2032)):
            services.issue(u, issuance(("THA01-GOV", 10, "THA-NDC"), vintage=vintage), "T")
            services.transfer(u, move("THA01-GOV", "JPN01-GOV", quantity(10, vintage=vintage)), "T")
            services.use_for_ndc(
                u,
                use("JPN01-GOV", "JPN01-NDC", quantity(4, vintage=vintage), use_year=use_year),
                "J",
            )

    act(uow, flows, when=IN_2033)


def test_adjustments_are_computed_per_period(uow: FakeUnitOfWork) -> None:
    past_2030(uow)
    first = reporting.adjustments_for(uow, "JPN", period_start=2021)
    second = reporting.adjustments_for(uow, "JPN", period_start=2031)
    assert (first.profile.period_start, first.profile.period_end) == (2021, 2030)
    assert (second.profile.period_start, second.profile.period_end) == (2031, 2035)
    assert first.row(2030).used.value == 4
    assert sum(row.used.value for row in first.rows) == 4
    assert second.row(2032).used.value == 4
    assert sum(row.used.value for row in second.rows) == 4
    # Averaging in each period: the final CA averages that period's uses over its own years.
    assert first.final_ca is not None
    assert first.final_ca.value == Fraction(-4, 10)
    assert second.final_ca is not None
    assert second.final_ca.value == Fraction(-4, 5)
    # Thailand: a single-year averaging NDC until 2030, a multi-year annual one from 2031.
    thai_first = reporting.adjustments_for(uow, "THA", period_start=2021)
    thai_second = reporting.adjustments_for(uow, "THA", period_start=2031)
    assert thai_first.row(2030).first_transferred.value == 10
    assert thai_second.row(2031).first_transferred.value == 10
    assert thai_second.row(2031).ca is not None
    assert thai_second.row(2031).ca_kind is CaKind.ANNUAL
    assert thai_second.row(2031).ca.value == 10  # type: ignore[union-attr]
    # Without a period: the period of the current year (2033 here).
    uow.clock = lambda: IN_2033
    assert reporting.adjustments_for(uow, "JPN").profile.period_start == 2031
    # The BTR summary of each period names it.
    summary = reporting.structured_summary_for(uow, "JPN", period_start=2031)
    assert (summary.period_start, summary.period_end) == (2031, 2035)
    assert "period 2031-2035" in summary.row("MPG 77(d)(iii)").note
    with pytest.raises(NdcPeriodNotDeclared):
        reporting.adjustments_for(uow, "JPN", period_start=2036)


def test_targets_belong_to_a_period(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.declare_ndc(u, "THA", THAILAND_2031_2035, ADMIN))
    with pytest.raises(InvalidInput, match="name the period"):
        act(uow, lambda u: reporting.record_ndc_target(u, "THA", "T", budget=1))
    start = uow.log.size()
    act(uow, lambda u: reporting.record_ndc_target(u, "THA", "T", budget=9, period_start=2031))
    assert kinds_since(uow, start) == [reporting.NDC_TARGET_RECORDED]
    second = reporting.adjustments_for(uow, "THA", period_start=2031)
    assert second.profile.budget == 9
    assert reporting.adjustments_for(uow, "THA", period_start=2021).profile.budget is None
    # Japan's 2021-2030 period takes no budget (averaging).
    with pytest.raises(InvalidNdcProfile, match="averaging"):
        act(uow, lambda u: reporting.record_ndc_target(u, "JPN", "J", budget=1))


def test_a_target_without_a_period_belongs_to_the_one_period_of_its_time(
    uow: FakeUnitOfWork,
) -> None:
    """``ndc.target_recorded`` entries written before successive periods existed name none."""
    act(
        uow,
        lambda u: record_entry(
            u,
            reporting.NDC_TARGET_RECORDED,
            {"party": "MNG", "budget": 7, "trajectory": [], "target_level": None},
            "M",
        ),
    )
    later = replace(THAILAND_2031_2035)
    act(uow, lambda u: services.declare_ndc(u, "MNG", later, ADMIN))
    assert reporting.adjustments_for(uow, "MNG", period_start=2021).profile.budget == 7
    with pytest.raises(InvalidNdcProfile, match="trajectory or a budget"):
        reporting.adjustments_for(uow, "MNG", period_start=2031)


def test_the_aef_names_the_period_of_its_year(uow: FakeUnitOfWork) -> None:
    past_2030(uow)
    uow.clock = lambda: IN_2033
    for year, period in ((2030, (2021, 2030)), (2032, (2031, 2035))):
        report = reporting.aef_report_for(uow, "JPN", year)
        submission = report.submission
        assert (submission.ndc_first_year, submission.ndc_last_year) == period


def test_emissions_are_recorded_in_the_unit_of_their_period(uow: FakeUnitOfWork) -> None:
    indicator = replace(THAILAND_2031_2035, metric=Metric.NON_GHG, non_ghg_unit="MWh")
    act(uow, lambda u: services.declare_ndc(u, "THA", indicator, ADMIN))
    with pytest.raises(reporting.EmissionsUnitMismatch):
        act(
            uow,
            lambda u: reporting.record_emissions(u, "THA", 2032, 5, "T", metric_unit="t CO2 eq"),
        )
    act(uow, lambda u: reporting.record_emissions(u, "THA", 2032, 5, "T", metric_unit="MWh"))
    act(
        uow,
        lambda u: reporting.record_ndc_target(
            u, "THA", "T", trajectory={2035: 9}, period_start=2031
        ),
    )
    act(uow, lambda u: reporting.record_emissions(u, "THA", 2025, 6, "T", metric_unit="t CO2 eq"))
    assert reporting.adjustments_for(uow, "THA", period_start=2031).row(2032).emissions is not None
    assert reporting.adjustments_for(uow, "THA", period_start=2021).row(2025).emissions is not None


# --- amendments ---------------------------------------------------------------------------------


def test_an_amendment_is_a_new_version_of_the_period(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.declare_ndc(u, "THA", THAILAND_2031_2035, ADMIN))
    amended = replace(THAILAND_2031_2035, target_year=2033)
    start = uow.log.size()
    act(uow, lambda u: reporting.amend_ndc(u, "THA", amended, ADMIN))
    assert kinds_since(uow, start) == [reporting.NDC_AMENDED]
    thailand = uow.projection.get_party("THA")
    assert thailand is not None
    assert thailand.ndc_periods == (NdcPeriod(NDC_2021_2030), NdcPeriod(amended, 2))
    assert act(uow, lambda u: reporting.amend_ndc(u, "THA", amended, ADMIN)) is None
    assert uow.log.size() == start + 1
    again = replace(
        amended, ndc_type=NdcType.SINGLE_YEAR, method=CaMethod.AVERAGING, target_year=2035
    )
    act(uow, lambda u: reporting.amend_ndc(u, "THA", again, ADMIN))
    thailand = uow.projection.get_party("THA")
    assert thailand is not None
    assert thailand.ndc_periods[1] == NdcPeriod(again, 3)
    report = reporting.adjustments_for(uow, "THA", period_start=2031)
    assert report.profile.method is CaMethod.AVERAGING
    # An amendment keeps the years of its period and is validated as a declaration is.
    assert_refused(
        uow,
        lambda u: reporting.amend_ndc(
            u, "THA", replace(again, period_end=2036, target_year=2036), ADMIN
        ),
        NdcPeriodNotDeclared,
        "ndc-period-declared",
    )


def test_a_target_of_an_earlier_version_keeps_its_level_under_averaging(
    uow: FakeUnitOfWork,
) -> None:
    trajectory = replace(JAPAN_2031_2035, method=CaMethod.TRAJECTORY)
    act(uow, lambda u: services.declare_ndc(u, "JPN", trajectory, ADMIN))
    act(
        uow,
        lambda u: reporting.record_ndc_target(
            u, "JPN", "J", trajectory={2035: 900}, target_level=800, period_start=2031
        ),
    )
    act(uow, lambda u: reporting.amend_ndc(u, "JPN", JAPAN_2031_2035, ADMIN))
    profile = reporting.adjustments_for(uow, "JPN", period_start=2031).profile
    assert (profile.method, dict(profile.trajectory), profile.target_level) == (
        CaMethod.AVERAGING,
        {},
        800,
    )


def test_no_amendment_once_an_aef_covering_the_period_was_submitted(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.declare_ndc(u, "JPN", JAPAN_2031_2035, ADMIN))
    act(uow, lambda u: reporting.record_submission(u, "JPN", 2025, "J"))
    refused = assert_refused(
        uow,
        lambda u: reporting.amend_ndc(
            u, "JPN", replace(NDC_2021_2030, method=CaMethod.TRAJECTORY), ADMIN
        ),
        NdcPeriodReported,
        "ndc-amendment-before-report",
    )
    assert refused.details["reported_years"] == [2025]
    # The next period has no report yet.
    act(
        uow,
        lambda u: reporting.amend_ndc(
            u, "JPN", replace(JAPAN_2031_2035, method=CaMethod.TRAJECTORY), ADMIN
        ),
    )


def test_successive_periods_and_amendments_replay_through_the_rule_checking_audit(
    uow: FakeUnitOfWork,
) -> None:
    """What the services record with several periods and amendments is exactly what the
    rule-checking replay (``verify-db``) re-derives: the same Parties, periods and holdings."""
    past_2030(uow)
    act(
        uow,
        lambda u: reporting.amend_ndc(
            u, "THA", replace(THAILAND_2031_2035, target_year=2033), ADMIN
        ),
    )
    replayed = replay(uow.log.read_entries(0, uow.log.size()))
    for code in ("JPN", "THA"):
        assert replayed.get_party(code) == uow.projection.get_party(code)
    assert sorted(replayed.active_blocks(), key=lambda b: b.block_id) == sorted(
        uow.projection.active_blocks(), key=lambda b: b.block_id
    )
