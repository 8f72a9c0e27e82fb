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
