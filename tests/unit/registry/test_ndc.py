"""A Party's NDC periods on the in-memory fakes: complete validation when declared, successive
disjoint periods, the old one-declaration entries, and the use rule per period (article6.md
§1-§2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.errors import (
    InvalidNdcDeclaration,
    MethodNotAllowedForNdc,
    NdcAlreadyDeclared,
    NdcPeriodsOverlap,
    UseOutsideNdcPeriod,
)
from ledger.registry import ndc, rules, services
from ledger.registry.codec import to_json
from ledger.registry.model import (
    CaMethod,
    Metric,
    NdcDeclaration,
    NdcPeriod,
    NdcType,
    Party,
)
from ledger.registry.projection import InMemoryProjection, apply_entry
from tests.fakes import FakeUnitOfWork
from tests.registry_world import (
    ADMIN,
    MULTI_YEAR_2021_2030,
    NDC_2021_2030,
    authorization,
    issuance,
    move,
    quantity,
    use,
)
from tests.unit.registry.in_memory import act, assert_refused, entries, kinds_since

NDC_2031_2035 = NdcDeclaration(
    NdcType.SINGLE_YEAR, Metric.GHG, 2031, 2035, CaMethod.AVERAGING, target_year=2035
)
IN_2033 = datetime(2033, 3, 1, 9, 0, tzinfo=UTC)

# Each shape the declaration refuses, with the rule and a phrase of what is allowed.
REFUSED = [
    (
        {"method": CaMethod.ANNUAL},
        MethodNotAllowedForNdc,
        "ca-method-ndc-type",
        "a single-year NDC applies 'trajectory' or 'averaging'",
    ),
    (
        {"target_year": 2028},
        InvalidNdcDeclaration,
        "ndc-declaration",
        "target_year must be 2030",
    ),
    (
        {"ndc_type": NdcType.MULTI_YEAR, "method": CaMethod.TRAJECTORY},
        MethodNotAllowedForNdc,
        "ca-method-ndc-type",
        "a multi-year NDC applies 'annual'",
    ),
    (
        {"ndc_type": NdcType.MULTI_YEAR, "method": CaMethod.AVERAGING},
        MethodNotAllowedForNdc,
        "ca-method-ndc-type",
        "a multi-year NDC applies 'annual'",
    ),
    (
        {"metric": Metric.NON_GHG},
        InvalidNdcDeclaration,
        "ndc-declaration",
        "declares the unit its indicator is tracked in",
    ),
    (
        {"metric": Metric.NON_GHG, "non_ghg_unit": "  "},
        InvalidNdcDeclaration,
        "ndc-declaration",
        "non_ghg_unit must be a non-empty string",
    ),
    (
        {"non_ghg_unit": "MWh"},
        InvalidNdcDeclaration,
        "ndc-declaration",
        "give non_ghg_unit only with the non-GHG metric",
    ),
    (
        {"period_start": 2031},
        InvalidNdcDeclaration,
        "ndc-declaration",
        "is after period_end",
    ),
    (
        {"ndc_type": NdcType.MULTI_YEAR, "method": CaMethod.ANNUAL, "target_year": 2031},
        InvalidNdcDeclaration,
        "ndc-declaration",
        "the NDC year is a year of its period",
    ),
]


@pytest.mark.parametrize(("changes", "error", "rule", "allowed"), REFUSED)
def test_an_incomplete_declaration_is_refused_when_declared(
    uow: FakeUnitOfWork,
    changes: dict[str, object],
    error: type[Exception],
    rule: str,
    allowed: str,
) -> None:
    declaration = replace(NDC_2021_2030, **changes)  # type: ignore[arg-type]
    for action in (
        lambda u: services.declare_ndc(u, "CHE", declaration, ADMIN),
        lambda u: services.register_party(u, Party.with_ndc("KOR", "Korea", declaration), ADMIN),
    ):
        refused = assert_refused(uow, action, error, rule)  # type: ignore[arg-type]
        assert allowed in refused.message


def test_the_method_problem_lists_the_allowed_methods_and_its_source() -> None:
    with pytest.raises(MethodNotAllowedForNdc) as caught:
        ndc.check_declaration(replace(NDC_2021_2030, method=CaMethod.ANNUAL))
    assert caught.value.details["allowed"] == ["trajectory", "averaging"]
    assert caught.value.details["source"] == "article6.md §2.1"
    assert "2/CMA.3 annex para 7(a)" in caught.value.message


def test_accepted_shapes() -> None:
    """A multi-year NDC may name any year of its period; a non-GHG NDC names its unit."""
    for accepted in (
        replace(MULTI_YEAR_2021_2030, target_year=2025),
        replace(NDC_2021_2030, metric=Metric.NON_GHG, non_ghg_unit="MWh"),
        replace(NDC_2021_2030, method=CaMethod.TRAJECTORY),
        replace(NDC_2021_2030, period_start=2030),
    ):
        ndc.check_declaration(accepted)


def test_successive_periods_are_declared_one_by_one(uow: FakeUnitOfWork) -> None:
    start = uow.log.size()
    act(uow, lambda u: services.declare_ndc(u, "JPN", NDC_2031_2035, ADMIN))
    assert kinds_since(uow, start) == ["ndc.declared"]
    japan = uow.projection.get_party("JPN")
    assert japan is not None
    assert japan.ndc_periods == (NdcPeriod(NDC_2021_2030), NdcPeriod(NDC_2031_2035))
    assert japan.ndc_covering(2032) == NDC_2031_2035
    assert japan.ndc_covering(2036) is None
    # The very same declaration again records nothing.
    assert act(uow, lambda u: services.declare_ndc(u, "JPN", NDC_2031_2035, ADMIN)) is None
    assert uow.log.size() == start + 1
    # An earlier period may come later; the list stays in period order.
    act(uow, lambda u: services.declare_ndc(u, "CHE", NDC_2031_2035, ADMIN))
    act(uow, lambda u: services.declare_ndc(u, "CHE", NDC_2021_2030, ADMIN))
    swiss = uow.projection.get_party("CHE")
    assert swiss is not None
    assert swiss.declarations == (NDC_2021_2030, NDC_2031_2035)


def test_a_period_overlapping_a_declared_one_is_refused(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.declare_ndc(u, "JPN", NDC_2031_2035, ADMIN))
    overlap = assert_refused(
        uow,
        lambda u: services.declare_ndc(
            u,
            "JPN",
            replace(NDC_2031_2035, period_start=2030, period_end=2032, target_year=2032),
            ADMIN,
        ),
        NdcPeriodsOverlap,
        "ndc-periods-disjoint",
    )
    assert overlap.details["overlapping"] == ["2021-2030", "2031-2035"]
    # A different declaration for a period starting the same year is an amendment, not a
    # declaration.
    assert_refused(
        uow,
        lambda u: services.declare_ndc(
            u, "JPN", replace(NDC_2031_2035, period_end=2040, target_year=2040), ADMIN
        ),
        NdcAlreadyDeclared,
        "ndc-declared-once",
    )


def test_the_old_one_declaration_entries_read_as_a_one_period_list() -> None:
    """Entries written before successive periods existed: ``party.registered`` with ``ndc``,
    and a repeated identical ``ndc.declared``, which the old rules let through."""
    declared = to_json(NDC_2021_2030)
    repo = InMemoryProjection()
    apply_entry(
        repo, 0, "party.registered", {"party": {"code": "JPN", "name": "Japan", "ndc": None}}
    )
    apply_entry(repo, 1, "ndc.declared", {"party": "JPN", "ndc": declared})
    apply_entry(repo, 2, "ndc.declared", {"party": "JPN", "ndc": declared})
    apply_entry(
        repo, 3, "party.registered", {"party": {"code": "THA", "name": "Thailand", "ndc": declared}}
    )
    for code in ("JPN", "THA"):
        party = repo.get_party(code)
        assert party is not None
        assert party.ndc_periods == (NdcPeriod(NDC_2021_2030, 1),)


def test_registration_still_writes_the_one_declaration_entry(uow: FakeUnitOfWork) -> None:
    start = uow.log.size()
    act(
        uow,
        lambda u: services.register_party(u, Party.with_ndc("KOR", "Korea", NDC_2021_2030), ADMIN),
    )
    (entry,) = entries(uow, start)
    assert entry.payload["party"] == {"code": "KOR", "name": "Korea", "ndc": to_json(NDC_2021_2030)}
    with pytest.raises(Exception, match="at most one NDC period"):
        ndc.registered_party_payload(
            Party("KOR", "Korea", (NdcPeriod(NDC_2021_2030), NdcPeriod(NDC_2031_2035)))
        )


def test_period_for_year() -> None:
    japan = Party("JPN", "Japan", (NdcPeriod(NDC_2021_2030), NdcPeriod(NDC_2031_2035)))
    assert ndc.period_for_year(japan, 2025) == NDC_2021_2030
    assert ndc.period_for_year(japan, 2031) == NDC_2031_2035
    assert ndc.period_for_year(japan, 2040) == NDC_2031_2035
    assert ndc.period_for_year(japan, 2019) == NDC_2021_2030
    assert ndc.period_for_year(Party("CHE", "Switzerland"), 2025) is None
    one = Party.with_ndc("THA", "Thailand", NDC_2021_2030)
    assert {ndc.period_for_year(one, year) for year in (2015, 2025, 2040)} == {NDC_2021_2030}


@pytest.mark.parametrize(
    ("vintage", "use_year", "allowed"),
    [
        (2031, 2032, True),
        (2030, 2032, False),
        (2030, 2030, True),
        (2032, 2030, False),
        (2031, 2036, False),
    ],
)
def test_use_year_and_vintage_in_the_same_period(
    vintage: int, use_year: int, allowed: bool
) -> None:
    japan = Party("JPN", "Japan", (NdcPeriod(NDC_2021_2030), NdcPeriod(NDC_2031_2035)))
    if allowed:
        rules.check_use_within_ndc_periods(japan, vintage, use_year)
        return
    with pytest.raises(UseOutsideNdcPeriod):
        rules.check_use_within_ndc_periods(japan, vintage, use_year)


def japan_holds_thai_itmos_of(uow: FakeUnitOfWork, *vintages: int) -> None:
    """Thailand issues 10 NDC-authorized units of each vintage and first transfers them to
    Japan (in 2033, once the mitigation happened)."""
    act(
        uow,
        lambda u: services.record_authorization(u, authorization("THA-NDC", vintage_to=2035), "T"),
    )
    for vintage in vintages:
        act(
            uow,
            lambda u, v=vintage: services.issue(  # type: ignore[misc]
                u, issuance(("THA01-GOV", 10, "THA-NDC"), vintage=v), "T"
            ),
            when=IN_2033,
        )
        act(
            uow,
            lambda u, v=vintage: services.transfer(  # type: ignore[misc]
                u, move("THA01-GOV", "JPN01-GOV", quantity(10, vintage=v)), "T"
            ),
            when=IN_2033,
        )


def test_japan_uses_units_of_its_second_period(uow: FakeUnitOfWork) -> None:
    act(uow, lambda u: services.declare_ndc(u, "JPN", NDC_2031_2035, ADMIN))
    japan_holds_thai_itmos_of(uow, 2030, 2031)
    start = uow.log.size()
    used = act(
        uow,
        lambda u: services.use_for_ndc(
            u, use("JPN01-GOV", "JPN01-NDC", quantity(4, vintage=2031), use_year=2032), "J"
        ),
        when=IN_2033,
    )
    assert kinds_since(uow, start) == ["itmo.use"]
    assert {b.attributes.vintage for b in used} == {2031}
    refused = assert_refused(
        uow,
        lambda u: services.use_for_ndc(
            u, use("JPN01-GOV", "JPN01-NDC", quantity(4, vintage=2030), use_year=2032), "J"
        ),
        UseOutsideNdcPeriod,
        "use-within-ndc-period",
        when=IN_2033,
    )
    assert (refused.details["period_start"], refused.details["period_end"]) == (2031, 2035)
    # Units of the first period are still used for a year of the first period.
    act(
        uow,
        lambda u: services.use_for_ndc(
            u, use("JPN01-GOV", "JPN01-NDC", quantity(4, vintage=2030), use_year=2030), "J"
        ),
        when=IN_2033,
    )
