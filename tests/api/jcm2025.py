"""The JCM's first ITMOs of 2025 posted over HTTP with their own dates, shared by the tests of
action dates and of year-scoped reports: the ``jcm2025`` fixture (the ``jcm`` world plus the
Maldives) and helpers that post dated actions, expect refusals and read AEFs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.accounting import aef
from tests.api.conftest import TokenFactory
from tests.api.scenario import THAI_AUTHORIZATION, post, solar

Tokens = dict[str, dict[str, str]]

THAI_FIRST_TRANSFER = "2025-11-11"
MALDIVIAN_FIRST_TRANSFER = "2025-12-16"
JAPANESE_USE = "2025-12-26"

SERIAL_KEY = {
    "ca_id": "CA0001",
    "originating_registry": "THA01",
    "first_transferring_party": "THA",
    "vintage": 2021,
}
"""The block key of Thai serials of vintage 2021, for selections by serial range."""

MALDIVIAN_AUTHORIZATION: dict[str, Any] = {
    **THAI_AUTHORIZATION,
    "authorization_id": "MDV-JCM-2025-001",
    "party": "MDV",
    "ca_id": "CA0002",
    "authorized_on": "2025-12-16",
    "quantity": 10000,
}


def tree_size(client: TestClient) -> int:
    return int(client.get("/v1/log/checkpoint").text.splitlines()[1])


def refused(
    client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any], rule: str
) -> dict[str, Any]:
    """POST ``body``: refused with ``rule`` as an RFC 9457 problem, the ledger unchanged."""
    before = tree_size(client)
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (403, 409, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["rule"] == rule, problem
    assert tree_size(client) == before
    return problem


def issuance(registry_id: str, ca_id: str, authorization_id: str, quantity: int) -> dict[str, Any]:
    party = registry_id[:3]
    return {
        "registry_id": registry_id,
        "attributes": solar(registry_id, party, ca_id, 2021),
        "shares": [
            {
                "account_id": f"{registry_id}-GOV",
                "quantity": quantity,
                "authorization_id": authorization_id,
                "underlying_first": 1,
            }
        ],
    }


def to_japan(source: str, quantity: int, action_date: str, **rest: Any) -> dict[str, Any]:
    return {
        "from_account": f"{source}-GOV",
        "to_account": "JPN01-GOV",
        "selection": {"quantity": quantity, "originating_registry": source},
        "action_date": action_date,
        **rest,
    }


def japanese_use(quantity: int, action_date: str, use_year: int = 2025) -> dict[str, Any]:
    return {
        "from_account": "JPN01-GOV",
        "to_account": "JPN01-NDC",
        "selection": {"quantity": quantity},
        "use_year": use_year,
        "action_date": action_date,
    }


@pytest.fixture
def jcm2025(client: TestClient, jcm: Tokens, tokens: TokenFactory) -> Tokens:
    """The ``jcm`` world plus the Maldives (MDV01, with its token) and the Japan-Maldives
    approach CA0002."""
    admin = jcm["admin"]
    ndc = {
        "ndc_type": "single-year",
        "metric": "GHG",
        "period_start": 2021,
        "period_end": 2030,
        "method": "averaging",
        "target_year": 2030,
    }
    post(client, "/v1/parties", admin, {"code": "MDV", "name": "Maldives", "ndc": ndc})
    post(
        client,
        "/v1/registries",
        admin,
        {"registry_id": "MDV01", "party": "MDV", "name": "Maldives registry"},
    )
    post(
        client,
        "/v1/accounts",
        admin,
        {
            "account_id": "MDV01-GOV",
            "registry_id": "MDV01",
            "account_type": "holding",
            "name": "Maldives government",
        },
    )
    post(
        client,
        "/v1/cooperative-approaches",
        admin,
        {"ca_id": "CA0002", "name": "JCM Japan-Maldives", "parties": ["JPN", "MDV"]},
    )
    return jcm | {"MDV01": tokens("registry", "MDV01")}


def post_jcm_2025(client: TestClient, tokens: Tokens) -> None:
    """The 2025 JCM flows, each action with its own date."""
    tha, jpn, mdv = tokens["THA01"], tokens["JPN01"], tokens["MDV01"]
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    thai = issuance("THA01", "CA0001", "THA-JCM-2025-001", 1009) | {"action_date": "2025-10-30"}
    post(client, "/v1/issuances", tha, thai)
    post(client, "/v1/transfers", tha, to_japan("THA01", 1009, THAI_FIRST_TRANSFER))
    post(client, "/v1/authorizations", mdv, MALDIVIAN_AUTHORIZATION)
    maldivian = issuance("MDV01", "CA0002", "MDV-JCM-2025-001", 433) | {
        "action_date": MALDIVIAN_FIRST_TRANSFER
    }
    post(client, "/v1/issuances", mdv, maldivian)
    post(client, "/v1/transfers", mdv, to_japan("MDV01", 433, MALDIVIAN_FIRST_TRANSFER))
    post(client, "/v1/uses", jpn, japanese_use(600, JAPANESE_USE))


def aef_of(client: TestClient, party: str, year: int, headers: dict[str, str]) -> aef.AefReport:
    response = client.get(f"/v1/parties/{party}/aef/{year}", headers=headers)
    assert response.status_code == 200, response.text
    return aef.from_json(response.json())


def dated_actions(report: aef.AefReport) -> list[tuple[date, str, str, int | None]]:
    return [
        (row.action_date, row.action_type.value, row.registry_id, row.quantity)
        for row in report.actions
    ]


def initial_report(ca_id: str, **changes: Any) -> dict[str, Any]:
    """The body of an initial report for ``ca_id`` (2/CMA.3 annex para 18)."""
    return {
        "ca_id": ca_id,
        "elements": {
            "participation": "Party to the Paris Agreement; NDC communicated; registry JPN01",
            "metrics_and_method": "t CO2 eq; averaging over the NDC period",
            "ndc_quantification": "All sectors and gases; 2030 target level 760 Mt CO2 eq",
            "approach_description": f"Joint Crediting Mechanism ({ca_id})",
            "environmental_integrity": "Conservative reference emissions; no net increase",
            "sustainable_development": "Safeguards of the Joint Committee rules",
        },
        "duration_from": 2021,
        "duration_to": 2030,
        "expected_mitigation": {"2025": 1009, "2026": 2000},
        **changes,
    }


def record_initial_reports(
    client: TestClient, party: str, headers: dict[str, str], *ca_ids: str
) -> None:
    """The Party's initial reports for ``ca_ids``, which submitting its AEF requires (4/CMA.6
    paras 26-27)."""
    for ca_id in ca_ids:
        post(client, f"/v1/parties/{party}/initial-reports", headers, initial_report(ca_id))
