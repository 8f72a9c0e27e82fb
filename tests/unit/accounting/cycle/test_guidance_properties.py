"""A clean history never produces a finding: random registry histories (the generator of
``tests/integration/registry/test_properties.py``, on the in-memory fakes), each action refused
by the registry's rules or recorded, then every hosted Party's pre-check of the year finds no
inconsistency against the guidance or between the Parties' tables."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.accounting import cycle
from ledger.accounting.consistency import FindingKind
from ledger.errors import LedgerError
from tests.fakes.uow import FakeUnitOfWork
from tests.integration.registry.test_properties import draw_action_on, held, setup

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@settings(
    max_examples=int(os.environ.get("CYCLE_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_clean_histories_have_no_findings(data: st.DataObject) -> None:
    uow = FakeUnitOfWork(clock=lambda: NOW)
    setup(uow)
    uow.commit()
    for _ in range(data.draw(st.integers(3, 25), label="steps")):
        kind, action = draw_action_on(data, held(uow))
        try:
            with uow:
                action(uow)
                uow.commit()
        except LedgerError:
            event(f"{kind} refused")
        else:
            event(f"{kind} recorded")
    for party in ("THA", "JPN", "MNG"):
        check = cycle.pre_check(uow, party, NOW.year)
        relevant = [f for f in check.findings if f.kind is not FindingKind.MANDATORY_INFORMATION]
        assert relevant == [], [f.reason for f in relevant]
