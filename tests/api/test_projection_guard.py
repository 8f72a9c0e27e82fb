"""Over HTTP: a tampered projection gets 503 problems and an unready service, and a selection
of a thousand serial ranges is answered alike on both databases (issue 9)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ledger.adapters.sql import guard
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database
from tests.api.scenario import THAI_AUTHORIZATION, post, run_jcm_flow, thai_issuance

# After run_jcm_flow: block 2 holds the used serials 1-600 (JPN01-NDC), block 3 601-1009.
USED = 2

JAPAN_USES_ALL = {
    "from_account": "JPN01-GOV",
    "to_account": "JPN01-NDC",
    "selection": {"quantity": 1009},
    "use_year": 2026,
}


def log_size(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return uow.log.size()


def test_used_units_put_back_are_not_used_again(
    client: TestClient, jcm: dict[str, dict[str, str]], engine: Engine
) -> None:
    """The issue's probe: used units edited back into Japan's holding account."""
    run_jcm_flow(client, jcm)
    assert client.get("/readyz").status_code == 200
    with engine.begin() as conn:
        guard.mark_writer(conn)  # past the triggers, as someone who knows the flag
        conn.exec_driver_sql(
            "UPDATE unit_block SET account_id = 'JPN01-GOV', retired = false, "
            "body = replace(replace(body, '\"retired\":true', '\"retired\":false'), "
            '\'"account_id":"JPN01-NDC"\', \'"account_id":"JPN01-GOV"\') '
            f"WHERE block_id = {USED}"
        )
    size = log_size(engine)

    again = client.post("/v1/uses", json=JAPAN_USES_ALL, headers=jcm["JPN01"])
    assert again.status_code == 503, again.text
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["type"] == "urn:a6ledger:problem:projection-mismatch"
    assert problem["rule"] == "projection-matches-ledger"
    assert problem["row"] == f"unit_block[block_id={USED}]"
    assert log_size(engine) == size

    holdings = client.get("/v1/accounts/JPN01-GOV/holdings", headers=jcm["JPN01"])
    assert holdings.status_code == 503
    assert holdings.json()["rule"] == "projection-matches-ledger"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not-ready"
    assert f"unit_block[block_id={USED}]" in ready.json()["detail"]
    report = verify_database(engine)
    assert report.bad_row == f"unit_block[block_id={USED}]"


def every_other_serial(count: int, start: int = 1) -> dict[str, Any]:
    return {
        "ca_id": "CA0001",
        "originating_registry": "THA01",
        "first_transferring_party": "THA",
        "vintage": 2021,
        "ranges": [{"first": start + 2 * i, "last": start + 2 * i} for i in range(count)],
    }


def test_a_thousand_serial_ranges_are_answered_not_500(
    client: TestClient, jcm: dict[str, dict[str, str]], engine: Engine
) -> None:
    tha, jpn = jcm["THA01"], jcm["JPN01"]
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    post(client, "/v1/issuances", tha, thai_issuance(2000))
    transfer = {"from_account": "THA01-GOV", "to_account": "JPN01-GOV"}
    post(client, "/v1/transfers", tha, {**transfer, "selection": {"quantity": 2000}})
    use = {"from_account": "JPN01-GOV", "to_account": "JPN01-NDC", "use_year": 2026}

    odd = {**use, "selection": every_other_serial(1000)}
    used = client.post("/v1/uses", json=odd, headers=jpn)
    assert used.status_code == 201, used.text
    assert used.json()["quantity"] == 1000

    size = log_size(engine)
    again = client.post("/v1/uses", json=odd, headers=jpn)
    assert again.status_code == 409, again.text
    assert again.json()["rule"] == "one-time-use"
    # Serials that were never issued: not held, also a 409.
    beyond = client.post(
        "/v1/uses", json={**use, "selection": every_other_serial(1000, start=2000)}, headers=jpn
    )
    assert beyond.status_code == 409, beyond.text
    assert beyond.json()["rule"] == "serial-held-by-account"
    assert log_size(engine) == size
    assert verify_database(engine).ok
