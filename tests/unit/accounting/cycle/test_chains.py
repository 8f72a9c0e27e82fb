"""An onward chain A -> B -> C: Thailand first transfers CA0001 ITMOs to Japan, which transfers
part of them on to Mongolia (not a Party of CA0001). Each step is checked against the next
Party's AEF: the clean chain has no finding, a misreported last step is found by Japan's and by
Mongolia's pre-checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.accounting import reporting
from ledger.accounting.aef import ActionType, AefReport
from ledger.accounting.consistency import FindingKind
from ledger.accounting.cycle import pre_check
from ledger.registry import services
from ledger.registry.model import UnitSelection
from tests.fakes.uow import FakeUnitOfWork
from tests.integration.registry.test_properties import setup

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def chain() -> FakeUnitOfWork:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    setup(uow)  # Thailand first transfers 15 CA0001 ITMOs to Japan
    onward = services.TransferOrder("JPN01-GOV", "MNG01-GOV", UnitSelection(quantity=5))
    services.transfer(uow, onward, "registry:JPN")
    uow.commit()
    return uow


def relevant(uow: FakeUnitOfWork, party: str, *counterparts: AefReport) -> list[tuple[str, str]]:
    check = pre_check(uow, party, 2026, list(counterparts))
    return [
        (f.kind.value, f.column)
        for f in check.findings
        if f.kind is not FindingKind.MANDATORY_INFORMATION
    ]


def test_a_clean_onward_chain_has_no_finding(chain: FakeUnitOfWork) -> None:
    japan = reporting.aef_report_for(chain, "JPN", 2026)
    assert [(r.action_type, r.cooperative_approach_id) for r in japan.actions] == [
        (ActionType.ACQUISITION, "CA0001"),
        (ActionType.TRANSFER, "CA0001"),
    ]
    for party in ("THA", "JPN", "MNG"):
        assert relevant(chain, party) == []
    assert ("MNG", "1.0") in pre_check(chain, "JPN", 2026).counterparts


def test_a_misreported_onward_step_is_found(chain: FakeUnitOfWork) -> None:
    mongolia = reporting.aef_report_for(chain, "MNG", 2026)
    short = replace(
        mongolia,
        actions=tuple(
            replace(r, last_id=r.last_id - 1, quantity=4)
            if r.action_type is ActionType.ACQUISITION
            else r
            for r in mongolia.actions
        ),
    )
    assert relevant(chain, "JPN", short) == [
        ("mismatch", "Last ID"),
        ("mismatch", "Quantity (t CO2 eq)"),
    ]
    japan = reporting.aef_report_for(chain, "JPN", 2026)
    dropped = replace(
        japan, actions=tuple(r for r in japan.actions if r.action_type is not ActionType.TRANSFER)
    )
    assert ("missing-counterpart", "") in relevant(chain, "MNG", dropped)
