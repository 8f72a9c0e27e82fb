"""Joint Committee decisions on the in-memory fakes: what a decision must say, and issuance
citing it staying within it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from ledger.errors import AccountTypeMismatch, InvalidInput, NotFound
from ledger.registry import services
from tests.fakes.uow import FakeUnitOfWork
from tests.registry_world import ADMIN, NOW, at, attributes, build_world

SHARES = (
    services.DecisionShare(services.Recipient.GOVERNMENT, "JPN", "THA01-GOV", 60),
    services.DecisionShare(services.Recipient.PROJECT_PARTICIPANTS, "THA", "THA01-PP", 40),
)
DECISION = services.JcDecision(
    decision_id="JC9-TH002-MP1",
    ca_id="CA0001",
    registry_id="THA01",
    project_id="TH002",
    monitoring_from=date(2022, 1, 1),
    monitoring_to=date(2022, 12, 31),
    decided_on=date(2026, 2, 1),
    total=100,
    shares=SHARES,
)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    world = FakeUnitOfWork(clock=at(NOW))
    build_world(world)
    world.commit()
    return world


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"decision_id": " "}, InvalidInput, "identifier and the project"),
        ({"registry_id": "CHE01"}, InvalidInput, "not a registry hosted here"),
        ({"registry_id": "MNG01"}, InvalidInput, "not a registry hosted here"),
        ({"monitoring_from": date(2023, 1, 1)}, InvalidInput, "ends before it starts"),
        ({"decided_on": date(2022, 6, 1)}, InvalidInput, "after its monitoring period"),
        ({"decided_on": date(2026, 12, 1)}, InvalidInput, "not in the future"),
        ({"shares": ()}, InvalidInput, "splits its total"),
        ({"total": 99}, InvalidInput, "add up to 100, not the total 99"),
        # Only a government's share goes directly to its own registry, and to a holding account.
        (
            {"shares": (SHARES[0], replace(SHARES[1], account_id="JPN01-GOV"))},
            AccountTypeMismatch,
            "holding",
        ),
        (
            {"shares": (replace(SHARES[0], account_id="JPN01-NDC"), SHARES[1])},
            AccountTypeMismatch,
            "holding",
        ),
        (
            {"shares": (replace(SHARES[0], party="THA", account_id="JPN01-GOV"), SHARES[1])},
            AccountTypeMismatch,
            "holding",
        ),
        ({"shares": (replace(SHARES[0], quantity=0),)}, InvalidInput, "positive quantity"),
        ({"shares": (replace(SHARES[0], party="MNG"),)}, InvalidInput, "MNG is not a Party"),
        ({"shares": (SHARES[0], SHARES[0])}, InvalidInput, "one share per account"),
        ({"ca_id": "CA0009"}, NotFound, "CA0009"),
    ],
)
def test_a_decision_says_what_it_decides(
    uow: FakeUnitOfWork, changes: dict[str, Any], error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        services.record_decision(uow, replace(DECISION, **changes), ADMIN)


def test_issuance_stays_within_the_decision(uow: FakeUnitOfWork) -> None:
    services.record_decision(uow, DECISION, ADMIN)
    assert services.find_decision(uow, "JC-other") is None

    def issue(account_id: str, quantity: int, **changes: Any) -> None:
        order = services.Issuance(
            "THA01",
            attributes("THA01", "CA0001", 2022),
            (services.IssuanceShare(account_id, quantity),),
            decision_reference=DECISION.decision_id,
        )
        services.issue(uow, replace(order, **changes), ADMIN)

    issue("THA01-GOV", 60)
    with pytest.raises(services.DecisionQuantityExceeded):
        issue("THA01-GOV", 1)
    with pytest.raises(services.IssuanceOutsideDecision, match="is for CA0001 in THA01"):
        issue("THA01-PP", 1, attributes=attributes("THA01", "CA0003", 2022))
    issue("THA01-PP", 40)
    recorded = services.decision_of(uow, DECISION.decision_id)
    assert recorded.issued == {"THA01-GOV": 60, "THA01-PP": 40}
    # A reference naming no recorded decision stays free text.
    issue("THA01-PP", 5, decision_reference="JC minutes of 2026-02-01")
    with pytest.raises(services.DecisionNotFound):
        services.decision_of(uow, "JC minutes of 2026-02-01")
