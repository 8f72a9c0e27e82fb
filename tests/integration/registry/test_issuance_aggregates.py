"""What an issuance checks its quantity against, read at a cost that does not grow with history
(issue 15): the ``jc_decision`` projection row of the Joint Committee decision it cites, and
the units under its authorization summed from an index. After many issuances both still refuse
over-issuance; an edited decision row is refused by the next issuance citing it (digest) and
named by ``verify-db`` (replay), even with a recomputed digest; migration 0013 fills the rows
of the decisions already recorded. On both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select

from ledger.adapters.sql.migrations import alembic_config
from ledger.adapters.sql.orm import jc_decision
from ledger.adapters.sql.projection import row_digest
from ledger.adapters.sql.verify import verify_database
from ledger.errors import AuthorizationLimitExceeded, ProjectionMismatch
from ledger.registry import services
from tests.integration.adapters.test_projection_guard import as_writer
from tests.integration.registry.world import assert_nothing_changed, read, write
from tests.registry_world import ADMIN, attributes, authorization
from tests.unit.registry.test_jcm import DECISION

AUTHORIZATION = "THA-NDC"
ROW = f"jc_decision[decision_id={DECISION.decision_id!r}]"


def cited(account_id: str, quantity: int) -> services.Issuance:
    return services.Issuance(
        "THA01",
        attributes("THA01", "CA0001", 2022),
        (services.IssuanceShare(account_id, quantity, AUTHORIZATION),),
        decision_reference=DECISION.decision_id,
    )


def issue(engine: Engine, order: services.Issuance) -> None:
    write(engine, lambda uow: services.issue(uow, order, "THA01"))


def stored_row(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            select(jc_decision).where(jc_decision.c.decision_id == DECISION.decision_id)
        ).mappings()
        return dict(row.one())


@pytest.fixture
def decided(world: Engine) -> Engine:
    """Authorization THA-NDC for 70 units; DECISION: 60 to THA01-GOV, 40 to THA01-PP."""
    write(
        world,
        lambda uow: services.record_authorization(
            uow, authorization(AUTHORIZATION, quantity=70), "THA01"
        ),
    )
    write(world, lambda uow: services.record_decision(uow, DECISION, ADMIN))
    return world


def test_over_issuance_is_refused_after_many_issuances(decided: Engine) -> None:
    for _ in range(12):
        issue(decided, cited("THA01-GOV", 5))
    assert_nothing_changed(
        decided,
        lambda uow: services.issue(uow, cited("THA01-GOV", 1), "THA01"),
        services.DecisionQuantityExceeded,
        "issuance-within-jc-decision",
    )
    # 40 left for THA01-PP under the decision, 10 under the authorization.
    assert_nothing_changed(
        decided,
        lambda uow: services.issue(uow, cited("THA01-PP", 11), "THA01"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    issue(decided, cited("THA01-PP", 10))
    assert_nothing_changed(
        decided,
        lambda uow: services.issue(uow, cited("THA01-PP", 1), "THA01"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    recorded = read(decided, lambda uow: services.find_decision(uow, DECISION.decision_id))
    assert recorded is not None
    assert recorded.issued == {"THA01-GOV": 60, "THA01-PP": 10}
    assert read(decided, lambda uow: uow.projection.authorized_quantity(AUTHORIZATION)) == 70
    assert verify_database(decided).ok


def test_a_reference_to_no_recorded_decision_stays_free_text(decided: Engine) -> None:
    free = services.Issuance(
        "THA01",
        attributes("THA01", "CA0001", 2022),
        (services.IssuanceShare("THA01-PP", 50, None),),
        decision_reference="JC minutes of 3 May",
    )
    issue(decided, free)
    recorded = read(decided, lambda uow: services.find_decision(uow, DECISION.decision_id))
    assert recorded is not None
    assert recorded.issued == {}
    assert read(decided, lambda uow: services.find_decision(uow, "JC minutes of 3 May")) is None
    assert verify_database(decided).ok


def edited(row: dict[str, Any], issued: dict[str, int]) -> dict[str, Any]:
    body = json.loads(row["body"])
    body["issued"] = issued
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {**row, "body": text}


def test_an_edited_decision_row_is_refused_and_named_by_verify_db(decided: Engine) -> None:
    issue(decided, cited("THA01-PP", 30))
    row = edited(stored_row(decided), {"THA01-PP": 0})  # 40 more would pass
    body = row["body"].replace("'", "''")
    as_writer(decided, f"UPDATE jc_decision SET body = '{body}'")
    with pytest.raises(ProjectionMismatch):
        write(decided, lambda uow: services.issue(uow, cited("THA01-PP", 40), "THA01"))
    report = verify_database(decided)
    assert report.bad_row == ROW


def test_verify_db_names_a_decision_row_rewritten_with_its_digest(decided: Engine) -> None:
    """Whoever rewrites a row and its digest consistently is caught by the replay."""
    issue(decided, cited("THA01-PP", 30))
    row = edited(stored_row(decided), {"THA01-PP": 3})
    digest = row_digest("jc_decision", row).hex()
    body = row["body"].replace("'", "''")
    digest_sql = f"X'{digest}'" if decided.dialect.name == "sqlite" else f"'\\x{digest}'::bytea"
    as_writer(decided, f"UPDATE jc_decision SET body = '{body}', digest = {digest_sql}")
    recorded = read(decided, lambda uow: services.find_decision(uow, DECISION.decision_id))
    assert recorded is not None
    assert recorded.issued == {"THA01-PP": 3}
    report = verify_database(decided)
    assert not report.ok
    assert report.bad_row == ROW
    assert "body is" in (report.reason or "")


def test_migration_0013_fills_the_rows_of_the_decisions_already_recorded(decided: Engine) -> None:
    issue(decided, cited("THA01-GOV", 20))
    issue(decided, cited("THA01-PP", 15))
    before = stored_row(decided)
    url = decided.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0012")
    command.upgrade(alembic_config(url), "head")
    assert stored_row(decided) == before
    assert verify_database(decided).ok
    assert_nothing_changed(
        decided,
        lambda uow: services.issue(uow, cited("THA01-PP", 26), "THA01"),
        services.DecisionQuantityExceeded,
        "issuance-within-jc-decision",
    )
