"""Reports scoped to the reported year by action date, over HTTP: AEF Tables 2 and 5 hold the
authorization versions and entities in force by 31 December, Table 4 the holdings of that day
whatever order the actions were recorded in, and every report route computes ``as_of`` a tree
size exactly as it was then."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.jcm2025 import (
    SERIAL_KEY,
    Tokens,
    aef_of,
    issuance,
    japanese_use,
    post_jcm_2025,
    to_japan,
    tree_size,
)
from tests.api.scenario import THAI_AUTHORIZATION, post

THAI_OIMP: dict[str, Any] = {
    **THAI_AUTHORIZATION,
    "authorization_id": "THA-CORSIA-2025",
    "authorized_on": "2025-11-20",
    "purposes": "OIMP",
    "oimp_authorized": "CORSIA",
    "first_transfer_definition": "Use or cancellation",
    "authorized_parties": [],
    "authorized_entities": ["THA-E-1"],
}


def entity(entity_id: str, authorized_on: str) -> dict[str, Any]:
    return {
        "entity_id": entity_id,
        "name": f"Airline {entity_id}",
        "country": "THA",
        "identification": f"TH-{entity_id}",
        "ca_id": "CA0001",
        "authorized_on": authorized_on,
    }


def table_2(client: TestClient, year: int, headers: dict[str, str]) -> list[tuple[str, int]]:
    report = aef_of(client, "THA", year, headers)
    return [(a.authorization_id, a.authorization_version) for a in report.authorizations]


def table_5(client: TestClient, year: int, headers: dict[str, str]) -> list[str]:
    return [e.identification_number for e in aef_of(client, "THA", year, headers).entities]


def test_tables_2_and_5_hold_what_was_in_force_by_31_december(
    client: TestClient, jcm2025: Tokens
) -> None:
    """Recorded today, the 2026 authorizations, versions and entities stay out of 2025's AEF."""
    post_jcm_2025(client, jcm2025)
    tha, admin = jcm2025["THA01"], jcm2025["admin"]
    post(client, "/v1/authorized-entities", tha, entity("THA-E-1", "2025-11-15"))
    post(client, "/v1/authorizations", tha, THAI_OIMP)
    post(client, "/v1/authorized-entities", tha, entity("THA-E-2", "2026-01-20"))
    second = THAI_OIMP | {
        "authorized_on": "2026-02-01",
        "authorized_entities": ["THA-E-1", "THA-E-2"],
    }
    post(client, "/v1/authorizations", tha, second)
    later = THAI_AUTHORIZATION | {
        "authorization_id": "THA-JCM-2026-001",
        "authorized_on": "2026-03-05",
    }
    post(client, "/v1/authorizations", tha, later)

    assert table_2(client, 2025, admin) == [("THA-CORSIA-2025", 1), ("THA-JCM-2025-001", 1)]
    assert table_5(client, 2025, admin) == ["TH-THA-E-1"]
    assert table_2(client, 2026, admin) == [
        ("THA-CORSIA-2025", 1),
        ("THA-CORSIA-2025", 2),
        ("THA-JCM-2025-001", 1),
        ("THA-JCM-2026-001", 1),
    ]
    assert table_5(client, 2026, admin) == ["TH-THA-E-1", "TH-THA-E-2"]


def holdings(client: TestClient, year: int, headers: dict[str, str]) -> list[tuple[str, int, int]]:
    report = aef_of(client, "JPN", year, headers)
    return [(h.registry_id, h.first_id, h.last_id) for h in report.holdings]


def test_table_4_holds_31_december_by_action_date_whatever_the_recording_order(
    client: TestClient, jcm2025: Tokens
) -> None:
    post_jcm_2025(client, jcm2025)
    tha, jpn, admin = jcm2025["THA01"], jcm2025["JPN01"], jcm2025["admin"]
    at_end_of_2025 = [("THA01", 601, 1009), ("MDV01", 1, 433)]
    assert holdings(client, 2025, admin) == at_end_of_2025
    # Japan uses 100 more in January 2026; then Thailand records a 2025 first transfer of 50.
    post(client, "/v1/uses", jpn, japanese_use(100, "2026-01-10", use_year=2026))
    post(
        client,
        "/v1/issuances",
        tha,
        issuance("THA01", "CA0001", "THA-JCM-2025-001", 50) | {"action_date": "2025-12-20"},
    )
    moved = to_japan("THA01", 50, "2025-12-28")
    moved["selection"] = {"ranges": [{"first": 1010, "last": 1059}], **SERIAL_KEY}
    post(client, "/v1/transfers", tha, moved)
    assert holdings(client, 2025, admin) == [
        ("THA01", 601, 1009),
        ("THA01", 1010, 1059),
        ("MDV01", 1, 433),
    ]
    assert holdings(client, 2026, admin) == [
        ("THA01", 701, 1009),
        ("THA01", 1010, 1059),
        ("MDV01", 1, 433),
    ]


def test_every_report_route_computes_as_of_a_tree_size_as_it_was(
    client: TestClient, jcm2025: Tokens
) -> None:
    post_jcm_2025(client, jcm2025)
    tha, jpn, admin = jcm2025["THA01"], jcm2025["JPN01"], jcm2025["admin"]
    post(client, "/v1/parties/JPN/emissions", jpn, {"year": 2025, "value": 1_000_000})
    size = tree_size(client)
    routes = (
        "/v1/parties/JPN/aef/2025",
        "/v1/parties/THA/aef/2025",
        "/v1/parties/JPN/btr-summary",
        "/v1/parties/JPN/adjustments",
    )
    then = {route: client.get(route, headers=admin) for route in routes}
    assert all(r.status_code == 200 for r in then.values())
    # The ledger grows: another 2025 first transfer and use, restated emissions.
    post(
        client,
        "/v1/issuances",
        tha,
        issuance("THA01", "CA0001", "THA-JCM-2025-001", 50) | {"action_date": "2025-12-20"},
    )
    moved = to_japan("THA01", 50, "2025-12-28")
    moved["selection"] = {"ranges": [{"first": 1010, "last": 1059}], **SERIAL_KEY}
    post(client, "/v1/transfers", tha, moved)
    post(client, "/v1/uses", jpn, japanese_use(50, "2025-12-30"))
    post(client, "/v1/parties/JPN/emissions", jpn, {"year": 2025, "value": 990_000})
    for route, response in then.items():
        now = client.get(route, headers=admin)
        assert now.content != response.content, route
        as_of = client.get(route, params={"as_of": size}, headers=admin)
        assert as_of.status_code == 200, as_of.text
        assert as_of.content == response.content, route
        assert as_of.headers["etag"] == response.headers["etag"]
    restated = client.get(
        "/v1/parties/JPN/adjustments/restatements",
        params={"since": size, "as_of": size},
        headers=admin,
    )
    assert restated.json()["items"] == []
    beyond = client.get("/v1/parties/JPN/btr-summary", params={"as_of": 10**9}, headers=admin)
    assert beyond.status_code == 422
    assert beyond.json()["rule"] == "tree-size"
