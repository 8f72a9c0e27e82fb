"""Property: over the whole space of NDC declarations, every declaration the ledger accepts gives
a reportable Party, and every other one is refused when it is declared.

"Reportable": once the budget or trajectory its method needs is recorded (para 7(a)(i), 7(b); the
averaging method takes none), the corresponding adjustments and the BTR structured summary of
the period compute without error, with a row for every year of the period, under any policy.
The expected verdict is written out here from article6.md §2.1-§2.2, independently of the code.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.accounting import reporting
from ledger.accounting.adjustments import AdjustmentPolicy, AveragingBasis
from ledger.errors import InvalidNdcDeclaration, MethodNotAllowedForNdc
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import CaMethod, Metric, NdcDeclaration, NdcType, Party
from tests.fakes import FakeUnitOfWork
from tests.registry_world import ADMIN, NOW, at
from tests.unit.registry.in_memory import act


@st.composite
def declarations(draw: st.DrawFn) -> NdcDeclaration:
    """Any declaration, with the NDC year often at the end of the period or inside it and the
    unit often fitting the metric, so that both verdicts are drawn often."""
    start = draw(st.integers(2016, 2040))
    end = start + draw(st.integers(-3, 14))
    target = draw(
        st.one_of(
            st.just(end), st.integers(min(start, end), max(start, end)), st.integers(2014, 2056)
        )
    )
    metric = draw(st.sampled_from(Metric))
    fitting_unit = None if metric is Metric.GHG else "MWh"
    return NdcDeclaration(
        ndc_type=draw(st.sampled_from(NdcType)),
        metric=metric,
        period_start=start,
        period_end=end,
        method=draw(st.sampled_from(CaMethod)),
        target_year=target,
        non_ghg_unit=draw(
            st.one_of(
                st.just(fitting_unit),
                st.sampled_from([None, "MWh", "", "  ", "t renewable heat"]),
            )
        ),
    )


policies = st.builds(
    AdjustmentPolicy,
    averaging_basis=st.sampled_from(AveragingBasis),
    elapsed_years_inclusive=st.booleans(),
    oimp_first_transfers_in_net=st.booleans(),
)


def allowed(ndc: NdcDeclaration) -> bool:
    """article6.md §2.1: a single-year NDC applies the trajectory or averaging option and its NDC
    year ends the period (§2.2); a multi-year NDC applies CAs annually; a non-GHG NDC is tracked
    in its own unit, a GHG NDC in t CO2 eq."""
    unit = ndc.non_ghg_unit
    if ndc.metric is Metric.NON_GHG:
        unit_ok = unit is not None and unit.strip() != ""
    else:
        unit_ok = unit is None
    if ndc.ndc_type is NdcType.SINGLE_YEAR:
        shape_ok = (
            ndc.method in (CaMethod.TRAJECTORY, CaMethod.AVERAGING)
            and ndc.target_year == ndc.period_end
        )
    else:
        shape_ok = ndc.method is CaMethod.ANNUAL
    return (
        ndc.period_start <= ndc.target_year <= ndc.period_end
        and ndc.period_start <= ndc.period_end
        and shape_ok
        and unit_ok
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ndc=declarations(), policy=policies, at_registration=st.booleans())
def test_every_declaration_is_reportable_or_refused_when_declared(
    ndc: NdcDeclaration, policy: AdjustmentPolicy, at_registration: bool
) -> None:
    uow = FakeUnitOfWork(at(NOW))
    if not at_registration:
        act(uow, lambda u: services.register_party(u, Party("KOR", "Korea"), ADMIN))
    before = uow.log.size()

    def declare(u: UnitOfWork) -> object:
        if at_registration:
            return services.register_party(u, Party.with_ndc("KOR", "Korea", ndc), ADMIN)
        return services.declare_ndc(u, "KOR", ndc, ADMIN)

    if not allowed(ndc):
        event("refused")
        with pytest.raises((InvalidNdcDeclaration, MethodNotAllowedForNdc)):
            act(uow, declare)
        assert uow.log.size() == before
        korea = uow.projection.get_party("KOR")
        assert korea is None or korea.ndc_periods == ()
        return
    event("accepted")
    act(uow, declare)
    if ndc.method is not CaMethod.AVERAGING:
        act(
            uow,
            lambda u: reporting.record_ndc_target(
                u, "KOR", "K", trajectory={ndc.target_year: 1_000}, target_level=900
            ),
        )
    for year in (ndc.period_start, ndc.target_year):
        act(uow, lambda u, y=year: reporting.record_emissions(u, "KOR", y, 1_200, "K"))  # type: ignore[misc]
    years = list(range(ndc.period_start, ndc.period_end + 1))
    report = reporting.adjustments_for(uow, "KOR", policy)
    assert [row.year for row in report.rows] == years
    assert report.policy == policy
    summary = reporting.structured_summary_for(uow, "KOR", policy)
    assert (summary.period_start, summary.period_end) == (ndc.period_start, ndc.period_end)
    for row in summary.rows:
        assert row.cells == () or [cell.year for cell in row.cells] == years
    assert reporting.breakdowns_for(uow, "KOR") == ()
