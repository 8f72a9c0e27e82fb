"""Authorization elements of 4/CMA.6 para 5 and revocation over HTTP (both databases)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.scenario import THAI_AUTHORIZATION, post, thai_issuance

AUTH = THAI_AUTHORIZATION["authorization_id"]
PROBLEM = "urn:a6ledger:problem:"


def test_revocation_over_http(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    tha, jpn = jcm["THA01"], jcm["JPN01"]
    elements = {
        "standards": ["JCM Rules of Implementation"],
        "methodologies": ["TH_AM015"],
        "tracking_registry": "THA01",
        "underlying_registries": ["JCM"],
        "gases": ["CO2"],
        "change_process": "by Joint Committee decision",
    }
    created = post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION | elements)
    assert {k: created[k] for k in elements} == elements
    assert created["revoked_on"] is None
    bad_gas = client.post(
        "/v1/authorizations",
        json=THAI_AUTHORIZATION | {"gases": ["H2O"]},
        headers=tha,
    )
    assert bad_gas.status_code == 422
    post(client, "/v1/issuances", tha, thai_issuance(100) | {"action_date": "2025-11-03"})
    post(
        client,
        "/v1/transfers",
        tha,
        {
            "from_account": "THA01-GOV",
            "to_account": "JPN01-GOV",
            "selection": {"quantity": 60},
            "action_date": "2025-12-01",
        },
    )
    revocation = {"revoked_on": "2026-01-15", "reason": "project deregistered"}
    by_japan = client.post(f"/v1/authorizations/{AUTH}/revocations", json=revocation, headers=jpn)
    assert by_japan.status_code == 403
    revoked = post(client, f"/v1/authorizations/{AUTH}/revocations", tha, revocation)
    assert (revoked["version"], revoked["revoked_on"], revoked["revocation_reason"]) == (
        2,
        "2026-01-15",
        "project deregistered",
    )
    again = client.post(f"/v1/authorizations/{AUTH}/revocations", json=revocation, headers=tha)
    assert again.json()["type"] == PROBLEM + "authorization-revoked"
    refused = client.post(
        "/v1/transfers",
        json={"from_account": "THA01-GOV", "to_account": "JPN01-GOV", "selection": {"quantity": 1}},
        headers=tha,
    )
    assert refused.json()["type"] == PROBLEM + "authorization-revoked", refused.text
    post(
        client,
        "/v1/uses",
        jpn,
        {
            "from_account": "JPN01-GOV",
            "to_account": "JPN01-NDC",
            "selection": {"quantity": 60},
            "use_year": 2025,
        },
    )
