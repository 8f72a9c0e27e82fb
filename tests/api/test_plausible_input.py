"""Dates far outside any plausible range and names that do not read as they print are 422
problems; other names are stored in NFC, so look-alike names cannot appear in reports."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.schemas import FIRST_DATE, LAST_DATE
from tests.api.conftest import TokenFactory

NDC = {
    "ndc_type": "single-year",
    "metric": "GHG",
    "period_start": 2021,
    "period_end": 2030,
    "method": "averaging",
    "target_year": 2030,
}


def _problem_fields(response: Any) -> list[list[str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == "urn:a6ledger:problem:request-validation"
    return [error["location"] for error in body["errors"]]


@pytest.mark.parametrize(
    "hidden",
    [
        "\u202e",  # right-to-left override
        "\u2067",  # right-to-left isolate
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u2060",  # word joiner
        "\ufeff",  # byte order mark
        "\u00ad",  # soft hyphen
    ],
)
def test_names_with_invisible_format_characters_are_refused(
    client: TestClient, tokens: TokenFactory, hidden: str
) -> None:
    admin = tokens("admin")
    response = client.post(
        "/v1/parties", json={"code": "JPN", "name": f"Ja{hidden}pan"}, headers=admin
    )
    assert _problem_fields(response) == [["body", "name"]]
    assert f"U+{ord(hidden):04X}" in response.json()["errors"][0]["message"]


def test_names_are_stored_in_nfc(client: TestClient, tokens: TokenFactory) -> None:
    admin = tokens("admin")
    decomposed = "Co\u0302te d\u2019Ivoire"  # o + combining circumflex
    assert unicodedata.normalize("NFC", decomposed) != decomposed
    created = client.post(
        "/v1/parties", json={"code": "CIV", "name": decomposed, "ndc": NDC}, headers=admin
    )
    assert created.status_code == 201, created.text
    stored = client.get("/v1/parties/CIV", headers=admin).json()["name"]
    assert stored == "C\u00f4te d\u2019Ivoire"


@pytest.mark.parametrize("day", ["0001-01-01", "1989-12-31", "2101-01-01", "9999-12-31"])
def test_implausible_dates_are_refused(
    client: TestClient, jcm: dict[str, dict[str, str]], day: str
) -> None:
    body = {
        "authorization_id": "THA-DATES-1",
        "party": "THA",
        "ca_id": "CA0001",
        "authorized_on": day,
        "purposes": "NDC",
        "metric": "GHG",
        "gwp": "AR5",
        "vintage_from": 2021,
        "vintage_to": 2030,
        "quantity": 1000,
        "authorized_parties": ["JPN"],
        "valid_until": day,
    }
    response = client.post("/v1/authorizations", json=body, headers=jcm["THA01"])
    assert _problem_fields(response) == [["body", "authorized_on"], ["body", "valid_until"]]


def test_the_schema_states_the_date_range(client: TestClient) -> None:
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    authorized_on = schemas["AuthorizationCreate"]["properties"]["authorized_on"]
    assert str(FIRST_DATE) in authorized_on["description"]
    assert str(LAST_DATE) in authorized_on["description"]
