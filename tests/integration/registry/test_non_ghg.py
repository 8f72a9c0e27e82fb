"""Non-GHG ITMOs from issuance to the AEF export: metric-specific accounts, a recorded conversion
to t CO2 eq before any use towards a t CO2 eq NDC, and the AEF's non-GHG columns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine

from ledger.accounting import aef, reporting
from ledger.adapters.aef_files import AefFormat, export_aef, import_aef
from ledger.errors import AccountMetricMismatch, InvalidInput, NonGhgConversionMissing
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import Account, AccountType, Metric, NonGhgConversion
from tests.integration.registry.test_jcm_scenario import assert_projection_is_a_replay
from tests.integration.registry.world import assert_nothing_changed, blocks_in, read, write
from tests.registry_world import authorization, issuance, move, quantity, use

MWH = "MWh"
AUTH = "THA-RE"
CONVERSION = NonGhgConversion(
    conversion_id="JC-RE-1",
    ca_id="CA0001",
    non_ghg_metric=MWH,
    factor="0.4571",
    vintage_from=2021,
    vintage_to=2030,
    authorized_by="Japan-Thailand Joint Committee, decision JC-12",
    authorized_on=date(2026, 2, 1),
)


def renewable_world(uow: UnitOfWork) -> None:
    """MWh accounts in Thailand and Japan; Thailand authorizes and issues 1,000 MWh of
    vintage 2025 and first transfers them to Japan."""
    for account_id, kind in (
        ("THA01-MWH", AccountType.HOLDING),
        ("JPN01-MWH", AccountType.HOLDING),
        ("JPN01-NDC-MWH", AccountType.NDC_USE),
    ):
        account = Account(account_id, account_id[:5], kind, account_id, Metric.NON_GHG, MWH)
        services.open_account(uow, account, "admin")
    services.record_authorization(
        uow,
        authorization(AUTH, metric=Metric.NON_GHG, non_ghg_metric=MWH, gwp=""),
        "THA01",
    )
    services.issue(uow, mwh_issuance(1000), "THA01", dating=Dating(date(2025, 11, 3)))
    services.transfer(
        uow,
        move("THA01-MWH", "JPN01-MWH", quantity(1000)),
        "THA01",
        dating=Dating(date(2026, 1, 5)),
    )


def mwh_issuance(n: int, account: str = "THA01-MWH") -> services.Issuance:
    plain = issuance((account, n, AUTH), vintage=2025)
    attributes = replace(plain.attributes, metric=Metric.NON_GHG, non_ghg_metric=MWH, gwp="")
    return replace(plain, attributes=attributes)


def japan_aef(engine: Engine) -> aef.AefReport:
    return read(engine, lambda uow: reporting.aef_report_for(uow, "JPN", 2026))


def thai_first_transfers(engine: Engine) -> list[int]:
    facts = read(engine, lambda uow: reporting.party_facts(uow, "THA"))
    return [f.quantity for f in facts.first_transfers]


def test_non_ghg_units_stay_in_accounts_of_their_metric(world: Engine) -> None:
    write(world, renewable_world)
    for action in (
        # GHG units into a MWh account, MWh units into a t CO2 eq account.
        lambda uow: services.issue(uow, issuance(("THA01-MWH", 5, None)), "THA01"),
        lambda uow: services.transfer(uow, move("JPN01-MWH", "JPN01-GOV", quantity(5)), "J"),
    ):
        assert_nothing_changed(world, action, AccountMetricMismatch, "metric-specific-account")
    gigawatts = Account("THA01-GWH", "THA01", AccountType.HOLDING, "GWh", Metric.NON_GHG, "GWh")
    write(world, lambda uow: services.open_account(uow, gigawatts, "admin"))
    assert_nothing_changed(
        world,
        lambda uow: services.transfer(uow, move("JPN01-MWH", "THA01-GWH", quantity(5)), "J"),
        AccountMetricMismatch,
        "metric-specific-account",
    )
    unnamed = Account("THA01-X", "THA01", AccountType.HOLDING, "x", Metric.NON_GHG, None)
    assert_nothing_changed(
        world,
        lambda uow: services.open_account(uow, unnamed, "admin"),
        InvalidInput,
        "invalid-input",
    )
    assert_projection_is_a_replay(world)


def test_non_ghg_flow_to_the_aef_without_then_with_a_conversion(world: Engine) -> None:
    write(world, renewable_world)
    ndc_use = use("JPN01-MWH", "JPN01-NDC-MWH", quantity(600), use_year=2026)

    # Without a recorded conversion: no use towards Japan's t CO2 eq NDC...
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, ndc_use, "JPN01"),
        NonGhgConversionMissing,
        "non-ghg-conversion-recorded",
    )
    # ...and the AEF is built with the MWh filled in and the t CO2 eq left blank: the checks
    # and the export name exactly those cells.
    report = japan_aef(world)
    (held,) = report.holdings
    assert (held.metric, held.non_ghg_metric, held.quantity_non_ghg, held.quantity) == (
        aef.Metric.NON_GHG,
        MWH,
        1000,
        None,
    )
    acquisition = next(r for r in report.actions if r.action_type is aef.ActionType.ACQUISITION)
    assert (acquisition.quantity_non_ghg, acquisition.quantity) == (1000, None)
    problems = aef.check_report(report)
    assert {(p.table, p.column) for p in problems} == {
        (aef.AefTable.ACTIONS, "Quantity (t CO2 eq)"),
        (aef.AefTable.HOLDINGS, "Quantity (t CO2 eq)"),
    }
    with pytest.raises(aef.AefValidationError):
        export_aef(report, AefFormat.JSON)
    # Thailand's t CO2 eq NDC counts its first transfer in units until a conversion exists.
    assert thai_first_transfers(world) == [1000]

    # A conversion recorded, checked and replayed: the use goes through, and the AEF converts.
    bad = replace(CONVERSION, conversion_id="JC-RE-0", factor="0.45.1")
    assert_nothing_changed(
        world,
        lambda uow: services.record_conversion(uow, bad, "THA01"),
        InvalidInput,
        "invalid-input",
    )
    write(world, lambda uow: services.record_conversion(uow, CONVERSION, "THA01"))
    overlapping = replace(CONVERSION, conversion_id="JC-RE-2", vintage_from=2025, vintage_to=2025)
    assert_nothing_changed(
        world,
        lambda uow: services.record_conversion(uow, overlapping, "THA01"),
        InvalidInput,
        "invalid-input",
    )
    assert_nothing_changed(
        world,
        lambda uow: services.use_for_ndc(uow, replace(ndc_use, to_account="JPN01-NDC"), "J"),
        AccountMetricMismatch,
        "metric-specific-account",
    )
    write(world, lambda uow: services.use_for_ndc(uow, ndc_use, "JPN01"))
    assert [b.quantity for b in blocks_in(world, "JPN01-NDC-MWH")] == [600]

    report = japan_aef(world)
    (held,) = report.holdings
    # 400 MWh x 0.4571 t/MWh = 182.84 t: whole tonnes, rounded down.
    assert (held.quantity_non_ghg, held.quantity) == (400, 182)
    used = next(r for r in report.actions if r.action_type is aef.ActionType.USE)
    assert (used.quantity_non_ghg, used.quantity, used.non_ghg_metric) == (600, 274, MWH)
    assert aef.check_report(report) == []
    for fmt in (AefFormat.JSON, AefFormat.XLSX):
        assert import_aef(export_aef(report, fmt), fmt) == report
    # Thailand's first transfer, recorded before the conversion, is now counted converted too.
    assert thai_first_transfers(world) == [457]
    # Japan's t CO2 eq NDC counts the use in converted tonnes.
    facts = read(world, lambda uow: reporting.party_facts(uow, "JPN"))
    assert [(u.use_year, u.quantity) for u in facts.uses] == [(2026, 274)]
    assert_projection_is_a_replay(world)
