"""``verify-db`` re-checks the Joint Committee decisions while it replays the log: an issuance
written beyond (or outside) the decision it cites, as a defect or a forger with database access
would write it, is named with the rule it breaks; the service's own history verifies. On both
databases."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from ledger.adapters.sql.verify import verify_database
from ledger.registry import services
from ledger.registry.services import issuance
from tests.integration.registry.world import size, write
from tests.registry_world import ADMIN, attributes
from tests.unit.registry.test_jcm import DECISION


def issue(account_id: str, quantity: int, vintage: int = 2022) -> services.Issuance:
    return services.Issuance(
        "THA01",
        attributes("THA01", "CA0001", vintage),
        (services.IssuanceShare(account_id, quantity),),
        decision_reference=DECISION.decision_id,
    )


@pytest.fixture
def decided(world: Engine) -> Engine:
    write(world, lambda uow: services.record_decision(uow, DECISION, ADMIN))
    write(world, lambda uow: services.issue(uow, issue("THA01-GOV", 60), ADMIN))
    write(world, lambda uow: services.issue(uow, issue("THA01-PP", 30), ADMIN))
    return world


def test_issuance_within_the_decision_verifies(decided: Engine) -> None:
    assert verify_database(decided).ok


@pytest.mark.parametrize(
    ("order", "rule"),
    [
        (issue("THA01-PP", 11), "issuance-within-jc-decision"),  # 30 + 11 > 40
        (issue("THA01-GOV", 1), "issuance-within-jc-decision"),  # 60 already issued
        (issue("THA01-PP", 5, vintage=2023), "issuance-follows-jc-decision"),
    ],
)
def test_an_issuance_beyond_its_decision_is_caught_by_the_replay(
    decided: Engine, monkeypatch: pytest.MonkeyPatch, order: services.Issuance, rule: str
) -> None:
    # The service would refuse it: a defective service that skips the check writes it.
    monkeypatch.setattr(issuance, "check_follows_decision", lambda *args, **kwargs: None)
    forged = size(decided)
    write(decided, lambda uow: services.issue(uow, order, ADMIN))
    report = verify_database(decided)
    assert not report.ok
    assert report.first_bad_seq == forged
    assert f"breaks the rule {rule}" in (report.reason or "")
    assert DECISION.decision_id in (report.reason or "")


def test_a_decision_recorded_twice_is_caught_by_the_replay(
    world: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(world, lambda uow: services.record_decision(uow, DECISION, ADMIN))
    monkeypatch.setattr(services.jcm, "find_decision", lambda *args: None)
    again = size(world)
    write(world, lambda uow: services.record_decision(uow, replace(DECISION, total=100), ADMIN))
    report = verify_database(world)
    assert report.first_bad_seq == again
    assert "jcm.decision.recorded" in (report.reason or "")
