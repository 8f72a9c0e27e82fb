"""The JCM scenario driven only through HTTP, with the rules' problems checked on the way."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import TokenFactory
from tests.api.jcm2025 import record_initial_reports
from tests.api.scenario import (
    THAI_AUTHORIZATION,
    collect,
    post,
    run_jcm_flow,
    solar,
    thai_issuance,
)


def test_jcm_flow_through_http(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    tha, jpn = jcm["THA01"], jcm["JPN01"]
    authorization = post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    assert authorization["version"] == 1
    issued = post(client, "/v1/issuances", tha, thai_issuance(1009))
    assert issued["quantity"] == 1009
    assert issued["blocks"][0]["itmo_first_id"] == "CA0001-THA01-THA-1-2021"

    # Japan's token cannot move Thailand's units.
    forbidden = client.post(
        "/v1/transfers",
        headers=jpn,
        json={"from_account": "THA01-GOV", "to_account": "JPN01-GOV", "selection": {"quantity": 1}},
    )
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"

    moved = post(
        client,
        "/v1/transfers",
        tha,
        {"from_account": "THA01-GOV", "to_account": "JPN01-GOV", "selection": {"quantity": 1009}},
    )
    assert moved["blocks"][0]["first_transfer_seq"] is not None
    used = post(
        client,
        "/v1/uses",
        jpn,
        {
            "from_account": "JPN01-GOV",
            "to_account": "JPN01-NDC",
            "selection": {"quantity": 600},
            "use_year": 2025,
        },
    )
    assert used["quantity"] == 600
    holdings = client.get("/v1/accounts/JPN01-GOV/holdings", headers=jpn).json()
    assert holdings["quantity"] == 409

    history = client.get("/v1/itmos/CA0001-THA01-THA-5-2021/history", headers=jcm["admin"])
    assert [e["kind"] for e in history.json()["events"]] == [
        "mo.issued",
        "itmo.first_transfer",
        "itmo.acquisition",
        "itmo.use",
    ]

    # One-time use: the used serials cannot be used again; nothing is recorded.
    size = int(client.get("/v1/log/checkpoint").text.splitlines()[1])
    again = client.post(
        "/v1/uses",
        headers=jpn,
        json={
            "from_account": "JPN01-GOV",
            "to_account": "JPN01-NDC",
            "selection": {"quantity": 500},
            "use_year": 2026,
        },
    )
    assert again.status_code == 409
    problem = again.json()
    assert problem["type"] == "urn:a6ledger:problem:insufficient-holdings"
    assert problem["rule"] == "holdings-non-negative"
    assert problem["available"] == 409
    assert int(client.get("/v1/log/checkpoint").text.splitlines()[1]) == size


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "JPN", "name": "Japan", "extra": 1}, "extra"),
        ({"code": "JPN", "name": 5}, "name"),
        ({"code": "jp", "name": "Japan"}, "code"),
        (
            {
                "code": "JPN",
                "name": "Japan",
                "ndc": {
                    "ndc_type": "single-year",
                    "metric": "GHG",
                    "period_start": 2**64,
                    "period_end": 2030,
                    "method": "averaging",
                    "target_year": 2030,
                },
            },
            "period_start",
        ),
    ],
)
def test_bad_bodies_are_clean_problems(
    client: TestClient, tokens: TokenFactory, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/parties", json=body, headers=tokens("admin"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["detail"]


def test_malformed_json_and_oversized_bodies(client: TestClient, tokens: TokenFactory) -> None:
    headers = tokens("admin") | {"content-type": "application/json"}
    malformed = client.post("/v1/parties", content=b'{"code": "JPN",', headers=headers)
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    huge = client.post("/v1/parties", content=b"x" * 2_000_000, headers=headers)
    assert huge.status_code == 413
    assert huge.json()["type"] == "urn:a6ledger:problem:payload-too-large"


def test_jcm_reports_through_http(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    run_jcm_flow(client, jcm)
    jpn, tha, admin = jcm["JPN01"], jcm["THA01"], jcm["admin"]
    recorded = post(client, "/v1/parties/JPN/emissions", jpn, {"year": 2025, "value": 1_000_000})
    assert recorded["value"] == 1_000_000
    forbidden = client.post(
        "/v1/parties/JPN/emissions", json={"year": 2025, "value": 1}, headers=tha
    )
    assert forbidden.status_code == 403

    japan = client.get("/v1/parties/JPN/adjustments", headers=admin)
    assert japan.status_code == 200
    rows = {row["year"]: row for row in japan.json()["rows"]}
    assert rows[2025]["used"]["value"] == "600"
    assert rows[2025]["average"]["value"] == "-120"  # averaging: -600 over 5 elapsed years
    assert rows[2025]["emissions_balance"]["value"] == "999880"
    assert rows[2025]["used"]["entries"], "every figure names its ledger entries"
    etag = japan.headers["etag"]
    assert (
        client.get(
            "/v1/parties/JPN/adjustments", headers=admin | {"If-None-Match": etag}
        ).status_code
        == 304
    )

    thailand = client.get("/v1/parties/THA/adjustments", headers=admin).json()
    assert {r["year"]: r for r in thailand["rows"]}[2021]["first_transferred"]["value"] == "1009"

    summary = client.get("/v1/parties/JPN/btr-summary", headers=admin)
    assert summary.status_code == 200
    assert any(row["paragraph"] == "23(e)" for row in summary.json()["rows"])

    first_entry = client.get("/v1/log/entries", params={"start": 0, "end": 1}, headers=admin)
    year = int(first_entry.json()["timestamp"][:4])
    aef_tha = client.get(f"/v1/parties/THA/aef/{year}", headers=admin)
    assert aef_tha.status_code == 200, aef_tha.text
    actions = aef_tha.json()["Table 3: Actions"]
    first_transfer = next(a for a in actions if a["Action type"] == "First transfer")
    assert first_transfer["Acquiring participating Party ID"] == "JPN"
    assert (first_transfer["First ID"], first_transfer["Last ID"]) == (1, 1009)
    xlsx = client.get(f"/v1/parties/THA/aef/{year}", params={"format": "xlsx"}, headers=admin)
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    aef_jpn = client.get(f"/v1/parties/JPN/aef/{year}", headers=admin).json()

    reconciler_token = jcm["reconciler"]
    check = client.post(
        "/v1/consistency-checks",
        headers=reconciler_token,
        json={"party": "THA", "reported_year": year, "counterpart": aef_jpn},
    )
    assert check.status_code == 200, check.text
    assert check.json()["notation"] == "Checked, no inconsistencies identified"


def test_listings_after_the_jcm_flow(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    run_jcm_flow(client, jcm)
    auditor = jcm["reconciler"]
    assert [p["code"] for p in collect(client, "/v1/parties", auditor)] == ["JPN", "THA"]
    assert [r["registry_id"] for r in collect(client, "/v1/registries", auditor)] == [
        "JPN01",
        "THA01",
    ]
    assert [a["ca_id"] for a in collect(client, "/v1/cooperative-approaches", auditor)] == [
        "CA0001"
    ]
    accounts = collect(client, "/v1/accounts", auditor, registry_id="JPN01")
    assert [a["account_id"] for a in accounts] == ["JPN01-GOV", "JPN01-NDC"]
    authorizations = collect(client, "/v1/authorizations", auditor, party="THA")
    assert [(a["authorization_id"], a["version"]) for a in authorizations] == [
        ("THA-JCM-2025-001", 1)
    ]
    blocks = collect(client, "/v1/blocks", auditor)
    assert sorted((b["account_id"], b["first"], b["last"]) for b in blocks) == [
        ("JPN01-GOV", 601, 1009),
        ("JPN01-NDC", 1, 600),
    ]
    lineage = collect(client, "/v1/blocks", auditor, include_superseded="true")
    parent = next(b for b in lineage if b["first"] == 1 and b["last"] == 1009)
    children = [b for b in lineage if b["parent_id"] == parent["block_id"]]
    assert sum(b["quantity"] for b in children) == parent["quantity"]
    one = client.get(f"/v1/blocks/{children[0]['block_id']}", headers=auditor).json()
    assert one == children[0]
    assert client.get("/v1/blocks/999999", headers=auditor).status_code == 404
    assert client.get("/v1/authorizations/THA-JCM-2025-001", headers=auditor).json()["version"] == 1
    assert client.get("/v1/parties/JPN", headers=auditor).json()["name"] == "Japan"
    assert client.get("/v1/parties/XYZ", headers=auditor).status_code == 404
    bad_cursor = client.get("/v1/parties", params={"cursor": "nope"}, headers=auditor)
    assert bad_cursor.status_code == 422
    entries = client.get("/v1/log/entries", params={"start": 0}, headers=auditor).text
    actions = [line for line in entries.splitlines() if '"kind":"token.' not in line]
    assert actions
    assert all('"actor":"token:tok_' in line for line in actions)


def test_restatements_and_submissions_through_http(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    run_jcm_flow(client, jcm)
    tha, admin = jcm["THA01"], jcm["admin"]
    before = int(client.get("/v1/log/checkpoint").text.splitlines()[1])
    post(
        client,
        "/v1/issuances",
        tha,
        {
            "registry_id": "THA01",
            "attributes": solar("THA01", "THA", "CA0001", 2021),
            "shares": [
                {"account_id": "THA01-GOV", "quantity": 100, "authorization_id": "THA-JCM-2025-001"}
            ],
        },
    )
    post(
        client,
        "/v1/transfers",
        tha,
        {"from_account": "THA01-GOV", "to_account": "JPN01-GOV", "selection": {"quantity": 100}},
    )
    restated = client.get(
        "/v1/parties/THA/adjustments/restatements", params={"since": before}, headers=admin
    )
    assert restated.status_code == 200
    first_transferred = [
        r
        for r in restated.json()["items"]
        if (r["year"], r["field"]) == (2021, "first_transferred")
    ]
    assert first_transferred
    assert first_transferred[0]["reported_before"]["value"] == "1009"
    assert first_transferred[0]["restated"]["value"] == "1109"
    as_of = client.get("/v1/parties/THA/adjustments", params={"as_of": before}, headers=admin)
    assert {r["year"]: r for r in as_of.json()["rows"]}[2021]["first_transferred"]["value"] == (
        "1009"
    )

    record_initial_reports(client, "THA", tha, "CA0001")
    first = post(client, "/v1/parties/THA/aef/2025/submissions", tha, {"reported_year": 2025})
    second = post(client, "/v1/parties/THA/aef/2025/submissions", tha, {"reported_year": 2025})
    assert (first["version"], second["version"]) == ("1.0", "1.1")
    listed = collect(client, "/v1/parties/THA/aef-submissions", admin)
    assert [s["version"] for s in listed] == ["1.0", "1.1"]
    exact = client.get("/v1/parties/THA/aef/2025", params={"version": "1.0"}, headers=admin).json()
    assert exact["Table 1: Submission"][0]["Version"] == "1.0"
    not_over = client.post(
        "/v1/parties/THA/aef/2099/submissions", json={"reported_year": 2099}, headers=tha
    )
    assert not_over.status_code == 422
    assert not_over.headers["content-type"] == "application/problem+json"


def test_only_a_registry_of_a_party_in_the_approach_records_its_entities_and_conversions(
    client: TestClient, jcm2025: dict[str, dict[str, str]]
) -> None:
    """Authorized entities and non-GHG conversions of CA0001 (Japan-Thailand): the Maldives'
    registry is refused (403, nothing recorded), Thailand's records them."""
    entity = {
        "entity_id": "THA-E-1",
        "name": "Airline THA-E-1",
        "country": "THA",
        "identification": "TH-THA-E-1",
        "ca_id": "CA0001",
        "authorized_on": "2025-11-15",
    }
    conversion = {
        "conversion_id": "CONV-1",
        "ca_id": "CA0001",
        "non_ghg_metric": "MWh",
        "factor": "0.5",
        "vintage_from": 2021,
        "vintage_to": 2030,
        "authorized_by": "Joint Committee",
        "authorized_on": "2025-11-15",
    }
    for path, body in (
        ("/v1/authorized-entities", entity),
        ("/v1/non-ghg-conversions", conversion),
    ):
        size = client.get("/v1/log/checkpoint").text.splitlines()[1]
        refused = client.post(path, json=body, headers=jcm2025["MDV01"])
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "a registry of a Party in CA0001" in refused.text
        assert client.get("/v1/log/checkpoint").text.splitlines()[1] == size
        post(client, path, jcm2025["THA01"], body)
