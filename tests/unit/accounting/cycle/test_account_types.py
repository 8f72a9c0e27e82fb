"""Stock-flow per account type and vintage at ledger level catches a planted fault and passes
the clean reports: the demo world's AEFs for 2025 on the in-memory fakes (Japan's Table 3: row
1 the Acquisition of serials 1-1009 from Thailand, row 2 the Use of 1-600 for 2025)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.accounting import reporting
from ledger.accounting.aef import ActionSubtype, ActionType, AefTable
from ledger.accounting.consistency import FindingKind, RowRef
from ledger.accounting.cycle import check_account_types, pre_check
from ledger.demo import load_demo
from tests.fakes.uow import FakeUnitOfWork

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    world = FakeUnitOfWork(clock=lambda: DEMO_DAY)
    load_demo(world)
    world.commit()
    return world


@pytest.mark.parametrize("party", ["THA", "JPN", "MNG"])
def test_the_clean_ledger_reconciles(uow: FakeUnitOfWork, party: str) -> None:
    assert check_account_types(uow, reporting.aef_report_for(uow, party, 2025)) == ()


def test_an_unreported_use_leaves_both_account_types_unreconciled(uow: FakeUnitOfWork) -> None:
    japan = reporting.aef_report_for(uow, "JPN", 2025)
    holding, ndc_use = check_account_types(uow, replace(japan, actions=japan.actions[:1]))
    assert {holding.kind, ndc_use.kind} == {FindingKind.GUIDANCE}
    assert holding.rule == ndc_use.rule == "account-type-stock-flow"
    assert holding.reason == (
        "JPN holding accounts, vintage 2021: 0 held at 31/12/2024 + 1009 in - 0 out (Table 3 "
        "rows 1) = 1009, but the ledger holds 409 at 31/12/2025 (rule account-type-stock-flow)"
    )
    assert holding.rows == (RowRef("JPN", AefTable.ACTIONS, 1),)
    assert ndc_use.reason == (
        "JPN ndc-use accounts, vintage 2021: 0 held at 31/12/2024 + 0 in - 0 out (Table 3 rows "
        "none) = 0, but the ledger holds 600 at 31/12/2025 (rule account-type-stock-flow)"
    )
    assert ndc_use.rows == (RowRef("JPN", AefTable.ACTIONS, 0),)


def test_a_use_reported_as_a_cancellation_is_found_in_both_terminal_types(
    uow: FakeUnitOfWork,
) -> None:
    japan = reporting.aef_report_for(uow, "JPN", 2025)
    use = japan.actions[1]
    cancelled = replace(
        use,
        action_type=ActionType.CANCELLATION,
        action_subtype=ActionSubtype.OTHER_CANCELLATIONS,
        ndc_use_year=None,
    )
    found = check_account_types(uow, replace(japan, actions=(japan.actions[0], cancelled)))
    assert [(f.reason.split(",")[0], f.rows) for f in found] == [
        ("JPN ndc-use accounts", (RowRef("JPN", AefTable.ACTIONS, 0),)),
        ("JPN cancellation accounts", (RowRef("JPN", AefTable.ACTIONS, 2),)),
    ]


def test_the_year_after_reconciles_from_the_ledger_and_the_pre_check_runs_it(
    uow: FakeUnitOfWork,
) -> None:
    uow.clock = lambda: datetime(2026, 3, 1, tzinfo=UTC)
    reporting.record_submission(uow, "JPN", 2025, "registry:JPN")
    uow.commit()
    submitted = reporting.aef_report_for(uow, "JPN", 2025, "1.0")
    assert check_account_types(uow, submitted) == ()
    assert check_account_types(uow, reporting.aef_report_for(uow, "JPN", 2026)) == ()
    assert pre_check(uow, "JPN", 2026).findings == ()
