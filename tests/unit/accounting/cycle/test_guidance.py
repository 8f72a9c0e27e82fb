"""Each check against the guidance catches a planted fault and passes the clean report: the demo
world's AEFs for 2025 on the in-memory fakes (Thailand's Table 3: row 1 the Authorization, row
2 the First transfer of serials 1-1009 to Japan; Japan's: row 1 the Acquisition, row 2 the Use
of 1-600 for 2025)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.accounting import reporting
from ledger.accounting.aef import AefReport, AefTable
from ledger.accounting.consistency import FindingKind, Notation, RowRef
from ledger.accounting.cycle import check_guidance, pre_check
from ledger.demo import load_demo
from tests.fakes.uow import FakeUnitOfWork

DEMO_DAY = datetime(2025, 11, 11, 3, 0, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    world = FakeUnitOfWork(clock=lambda: DEMO_DAY)
    load_demo(world)
    world.commit()
    return world


def report(uow: FakeUnitOfWork, party: str, year: int = 2025) -> AefReport:
    return reporting.aef_report_for(uow, party, year)


def edit_row(report: AefReport, number: int, **changes: Any) -> AefReport:
    rows = list(report.actions)
    rows[number - 1] = replace(rows[number - 1], **changes)
    return replace(report, actions=tuple(rows))


def edit_authorization(report: AefReport, **changes: Any) -> AefReport:
    first, *rest = report.authorizations
    return replace(report, authorizations=(replace(first, **changes), *rest))


def rules(uow: FakeUnitOfWork, checked: AefReport) -> list[tuple[str, tuple[int, ...]]]:
    found = check_guidance(uow, checked)
    assert all(f.kind is FindingKind.GUIDANCE and f.rule in f.reason for f in found)
    return [(f.rule, tuple(ref.row for ref in f.rows)) for f in found]


@pytest.mark.parametrize("party", ["THA", "JPN", "MNG"])
def test_the_clean_reports_have_no_findings(uow: FakeUnitOfWork, party: str) -> None:
    assert check_guidance(uow, report(uow, party)) == ()
    check = pre_check(uow, party, 2025)
    assert check.notation is Notation.NO_INCONSISTENCIES
    assert check.findings == ()


def test_vintage_before_2021(uow: FakeUnitOfWork) -> None:
    planted = edit_row(report(uow, "JPN"), 2, vintage=2020)
    holdings = replace(planted, holdings=tuple(replace(h, vintage=2019) for h in planted.holdings))
    assert rules(uow, planted) == [
        ("vintage-from-2021", (2,)),
        ("use-within-ndc-period", (2,)),
        # the Use no longer comes out of the holdings of vintage 2021
        ("stock-flow-reconciliation", (1, 1)),
    ]
    found = check_guidance(uow, holdings)
    assert [f.rows for f in found if f.rule == "vintage-from-2021" and f.column == "Vintage"][
        1:
    ] == [(RowRef("JPN", AefTable.HOLDINGS, n),) for n in range(1, len(planted.holdings) + 1)]
    assert {f.rule for f in found} == {
        "vintage-from-2021",
        "use-within-ndc-period",
        "stock-flow-reconciliation",
    }


def test_use_outside_the_ndc_period(uow: FakeUnitOfWork) -> None:
    planted = edit_row(report(uow, "JPN"), 2, ndc_use_year=2031)
    [finding] = check_guidance(uow, planted)
    assert finding.rule == "use-within-ndc-period"
    assert finding.reason.startswith("JPN Table 3: Actions, row 2: use year 2031 outside the NDC")


def test_first_transfer_before_its_authorization(uow: FakeUnitOfWork) -> None:
    planted = edit_row(report(uow, "THA"), 2, action_date=date(2025, 10, 1))
    assert rules(uow, planted) == [("first-transfer-after-authorization", (2,))]


def test_quantity_beyond_the_authorization(uow: FakeUnitOfWork) -> None:
    planted = edit_authorization(report(uow, "THA"), authorized_quantity=1000)
    [finding] = check_guidance(uow, planted)
    assert finding.rule == "within-authorized-quantity"
    assert "1009 ITMOs first transferred under authorization THA-JCM-2025-001" in finding.reason


def test_party_outside_the_authorization(uow: FakeUnitOfWork) -> None:
    planted = edit_authorization(report(uow, "THA"), authorized_party_ids=("MNG",))
    assert rules(uow, planted) == [("within-authorized-parties", (2,))]


def test_serials_first_transferred_or_used_twice_in_a_year(uow: FakeUnitOfWork) -> None:
    thai = report(uow, "THA")
    twice = replace(thai, actions=(*thai.actions, replace(thai.actions[1], first_id=1000)))
    assert rules(uow, twice) == [("first-transferred-once", (2, 3))]
    japan = report(uow, "JPN")
    used = replace(japan, actions=(*japan.actions, replace(japan.actions[1], first_id=600)))
    finding, unbalanced = check_guidance(uow, used)
    assert finding.rule == "used-once"
    assert finding.reason.startswith("serials 600-600 of CA0001 vintage 2021 are used or")
    assert unbalanced.rule == "stock-flow-reconciliation"  # used twice, held once


def test_serials_first_transferred_again_in_a_later_year(uow: FakeUnitOfWork) -> None:
    uow.clock = lambda: datetime(2026, 3, 1, tzinfo=UTC)
    reporting.record_submission(uow, "THA", 2025, "registry:THA")
    uow.commit()
    later = report(uow, "THA", 2026)
    assert check_guidance(uow, later) == ()
    again = replace(thai_first := report(uow, "THA").actions[1], action_date=date(2026, 2, 1))
    assert thai_first.first_id == 1
    planted = replace(later, actions=(*later.actions, again))
    [finding] = check_guidance(uow, planted)
    assert finding.rule == "first-transferred-once"
    assert finding.rows == (RowRef("THA", AefTable.ACTIONS, len(planted.actions)),)
    assert "THA Table 3: Actions, row 2 of its AEF for 2025 (version 1.0)" in finding.reason


def test_holdings_that_do_not_reconcile_with_the_flows(uow: FakeUnitOfWork) -> None:
    japan = report(uow, "JPN")
    [held] = japan.holdings
    short = replace(japan, holdings=(replace(held, last_id=held.last_id - 1, quantity=408),))
    [finding] = check_guidance(uow, short)
    assert finding.rule == "stock-flow-reconciliation"
    assert finding.rows == (
        RowRef("JPN", AefTable.HOLDINGS, 1),
        RowRef("JPN", AefTable.ACTIONS, 1),
        RowRef("JPN", AefTable.ACTIONS, 2),
    )
    assert finding.reason == (
        "JPN Table 4: Holdings: CA0001 THA01 THA vintage 2021: 0 held at 31/12/2024 (the ledger "
        "at 31/12/2024) + 1009 in - 600 out (Table 3 rows 1, 2) = 409, but Table 4 of 2025 "
        "holds 408 (rule stock-flow-reconciliation)"
    )
    unreported_use = replace(japan, actions=japan.actions[:1])
    assert rules(uow, unreported_use) == [("stock-flow-reconciliation", (1, 1))]


def test_holdings_reconcile_with_the_year_before_as_submitted(uow: FakeUnitOfWork) -> None:
    uow.clock = lambda: datetime(2026, 3, 1, tzinfo=UTC)
    reporting.record_submission(uow, "JPN", 2025, "registry:JPN")
    uow.commit()
    later = report(uow, "JPN", 2026)
    assert later.actions == ()
    assert later.holdings == report(uow, "JPN").holdings
    assert check_guidance(uow, later) == ()
    emptied = replace(later, holdings=())
    [finding] = check_guidance(uow, emptied)
    assert finding.rows == (RowRef("JPN", AefTable.HOLDINGS, 0),)
    assert "409 held at 31/12/2025 (its AEF for 2025 (version 1.0)) + 0 in - 0 out" in (
        finding.reason
    )
