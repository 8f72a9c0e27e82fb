"""The JCM scenario over HTTP, shared by the API tests: helpers and the ``jcm`` fixture
(parties, registries, accounts and tokens of Japan and Thailand)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import TokenFactory


def post(client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert int(response.headers["a6-ledger-seq"]) < int(response.headers["a6-tree-size"])
    return response.json()


def solar(registry_id: str, party: str, ca_id: str, vintage: int) -> dict[str, Any]:
    return {
        "ca_id": ca_id,
        "registry_id": registry_id,
        "first_transferring_party": party,
        "vintage": vintage,
        "metric": "GHG",
        "gwp": "AR5",
        "mitigation_type": "Emission reductions",
        "sector": "Energy generation",
        "activity_type": "Solar",
        "underlying_registry": "JCM",
    }


@pytest.fixture
def jcm(client: TestClient, tokens: TokenFactory) -> dict[str, dict[str, str]]:
    admin = tokens("admin")
    ndc = {
        "ndc_type": "single-year",
        "metric": "GHG",
        "period_start": 2021,
        "period_end": 2030,
        "method": "averaging",
        "target_year": 2030,
    }
    for code, name in (("JPN", "Japan"), ("THA", "Thailand")):
        post(client, "/v1/parties", admin, {"code": code, "name": name, "ndc": ndc})
        post(
            client,
            "/v1/registries",
            admin,
            {"registry_id": f"{code}01", "party": code, "name": f"{name} registry"},
        )
        for suffix, kind in (("GOV", "holding"), ("NDC", "ndc-use")):
            post(
                client,
                "/v1/accounts",
                admin,
                {
                    "account_id": f"{code}01-{suffix}",
                    "registry_id": f"{code}01",
                    "account_type": kind,
                    "name": f"{name} {suffix}",
                },
            )
    post(
        client,
        "/v1/cooperative-approaches",
        admin,
        {"ca_id": "CA0001", "name": "JCM Japan-Thailand", "parties": ["JPN", "THA"]},
    )
    return {
        "admin": admin,
        "THA01": tokens("registry", "THA01"),
        "JPN01": tokens("registry", "JPN01"),
        "reconciler": tokens("reconciler"),
    }


THAI_AUTHORIZATION: dict[str, Any] = {
    "authorization_id": "THA-JCM-2025-001",
    "party": "THA",
    "ca_id": "CA0001",
    "authorized_on": "2025-10-30",
    "purposes": "NDC",
    "metric": "GHG",
    "gwp": "AR5",
    "sectors": ["Energy generation"],
    "activity_types": ["Solar"],
    "vintage_from": 2021,
    "vintage_to": 2030,
    "quantity": 100000,
    "authorized_parties": ["JPN"],
}


def thai_issuance(quantity: int, vintage: int = 2021) -> dict[str, Any]:
    """Japan's share of a JCM issuance in Thailand, authorized for NDC use."""
    return {
        "registry_id": "THA01",
        "attributes": solar("THA01", "THA", "CA0001", vintage),
        "shares": [
            {
                "account_id": "THA01-GOV",
                "quantity": quantity,
                "authorization_id": "THA-JCM-2025-001",
                "underlying_first": 1,
            }
        ],
    }


def run_jcm_flow(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    """Thailand authorizes and issues 1,009 t, first transfers them to Japan; Japan uses 600
    towards its NDC for 2025."""
    tha, jpn = jcm["THA01"], jcm["JPN01"]
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    post(client, "/v1/issuances", tha, thai_issuance(1009))
    post(
        client,
        "/v1/transfers",
        tha,
        {"from_account": "THA01-GOV", "to_account": "JPN01-GOV", "selection": {"quantity": 1009}},
    )
    post(
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


def collect(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[Any]:
    """Follow next_cursor with limit=1 until the end: pages must neither skip nor repeat."""
    items: list[Any] = []
    cursor = None
    while True:
        query = {"limit": 1, **params} | ({"cursor": cursor} if cursor else {})
        page = client.get(path, params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 1
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
