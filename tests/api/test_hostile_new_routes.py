"""Hostile requests to the routes and fields added with issue 12 and its companions
(revocations, non-GHG conversions, filtered exports), on both databases: each refusal is a
problem document naming the rule, with a 4xx status, and changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.scenario import THAI_AUTHORIZATION, post

AUTH = THAI_AUTHORIZATION["authorization_id"]


def tree_head(client: TestClient) -> list[str]:
    """The size and root hash of the current signed checkpoint."""
    text: str = client.get("/v1/log/checkpoint").text
    return text.splitlines()[1:3]


def refused(
    client: TestClient, url: str, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    head = tree_head(client)
    response = client.post(url, json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert tree_head(client) == head, f"{url} {body}: refused but appended"
    problem: dict[str, Any] = response.json()
    return problem


def test_a_revocation_reason_holds_no_control_or_invisible_characters(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    tha = jcm["THA01"]
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    url = f"/v1/authorizations/{AUTH}/revocations"
    for reason in ("project\u0000deregistered", "project\u202ederegistered", "a\u0007b", " \n\t "):
        problem = refused(client, url, tha, {"revoked_on": "2026-01-15", "reason": reason})
        assert problem["rule"] == "request-schema", problem
    revoked = post(client, url, tha, {"revoked_on": "2026-01-15", "reason": "line one\nline two"})
    assert revoked["revocation_reason"] == "line one\nline two"


def test_a_metric_with_surrounding_spaces_is_not_a_second_metric(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
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
    post(client, "/v1/non-ghg-conversions", jcm["THA01"], conversion)
    for metric in ("MWh ", " MWh", "MWh\u00a0", "\tMWh"):
        body = conversion | {"conversion_id": "CONV-2", "non_ghg_metric": metric}
        problem = refused(client, "/v1/non-ghg-conversions", jcm["THA01"], body)
        assert problem["rule"] == "request-schema", problem
        account = {
            "account_id": "THA01-MWH",
            "registry_id": "THA01",
            "account_type": "holding",
            "name": "Thailand MWh",
            "metric": "non-GHG",
            "non_ghg_metric": metric,
        }
        problem = refused(client, "/v1/accounts", jcm["admin"], account)
        assert problem["rule"] == "request-schema", problem


def test_party_entries_and_filtered_exports_refuse_what_is_not_a_registered_party_or_year(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    auditor = jcm["reconciler"]
    size = tree_head(client)[0]
    unknown = client.get(f"/v1/log/entries/party?party=XXX&tree_size={size}", headers=auditor)
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["rule"] == "party-registered"
    known = client.get(f"/v1/log/entries/party?party=THA&tree_size={size}", headers=auditor)
    assert known.status_code == 200, known.text
    admin = jcm["admin"]
    for query in ("party=JPN&year=1989", "party=JPN&year=2101", "party=jpn&year=2030"):
        response = client.get(f"/v1/exports?{query}", headers=admin)
        assert response.status_code == 422, (query, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["rule"] == "request-schema", response.text
    assert tree_head(client)[0] == size
