"""A clean history never produces a finding: random registry histories (the generator of
``tests/integration/registry/test_properties.py``, on the in-memory fakes) over two years, each
action refused by the registry's rules or recorded, the first year's AEFs submitted when they
validate, then every hosted Party's pre-check of each year finds no inconsistency against the
guidance (the stock-flow reconciliation across the two years, of Table 4 and per account type
and vintage in the ledger, included) or between the Parties' tables."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.accounting import cycle, reporting
from ledger.accounting.consistency import FindingKind
from ledger.errors import LedgerError
from tests.fakes.uow import FakeUnitOfWork
from tests.integration.registry.test_properties import draw_action_on, held, setup

FIRST_YEAR = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PARTIES = ("THA", "JPN", "MNG")


def steps(uow: FakeUnitOfWork, data: st.DataObject, most: int) -> None:
    for _ in range(data.draw(st.integers(1, most), label="steps")):
        kind, action = draw_action_on(data, held(uow))
        try:
            with uow:
                action(uow)
                uow.commit()
        except LedgerError:
            event(f"{kind} refused")
        else:
            event(f"{kind} recorded")


@settings(
    max_examples=int(os.environ.get("CYCLE_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_clean_histories_have_no_findings(data: st.DataObject) -> None:
    clock = [FIRST_YEAR]
    uow = FakeUnitOfWork(clock=lambda: clock[0])
    setup(uow)
    uow.commit()
    steps(uow, data, 12)
    clock[0] = NOW
    for party in PARTIES:
        try:
            with uow:
                reporting.record_submission(uow, party, 2025, f"registry:{party}")
                uow.commit()
        except LedgerError:
            event(f"{party} 2025 not submittable")
    steps(uow, data, 12)
    for party in PARTIES:
        for year in (2025, 2026):
            check = cycle.pre_check(uow, party, year)
            relevant = [
                f for f in check.findings if f.kind is not FindingKind.MANDATORY_INFORMATION
            ]
            assert relevant == [], [f.reason for f in relevant]
