"""NDC periods and the accounting policy over HTTP: declaring a second period, refused shapes and
overlaps as problems that say what is allowed, amendments, reports per period, and the policy
each report states (the deployment's settings, with the Party's choice)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from ledger.accounting.adjustments import AveragingBasis
from tests.api.scenario import post

SECOND_PERIOD: dict[str, Any] = {
    "ndc_type": "single-year",
    "metric": "GHG",
    "period_start": 2031,
    "period_end": 2035,
    "method": "averaging",
    "target_year": 2035,
}


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    """This deployment averages first transfers and uses separately."""
    return app_settings.model_copy(update={"averaging_basis": AveragingBasis.SEPARATE})


def problem(response: Any, status: int, rule: str, problem_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["rule"] == rule
    assert body["type"] == f"urn:a6ledger:problem:{problem_type}"
    return body


def test_successive_periods_and_amendments(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    jpn, admin = jcm["JPN01"], jcm["admin"]
    party = post(client, "/v1/parties/JPN/ndc", jpn, SECOND_PERIOD)
    assert [(p["period_start"], p["period_end"], p["version"]) for p in party["ndc_periods"]] == [
        (2021, 2030, 1),
        (2031, 2035, 1),
    ]
    assert party["ndc"]["period_start"] == 2021
    overlap = client.post(
        "/v1/parties/JPN/ndc",
        headers=jpn,
        json={**SECOND_PERIOD, "period_start": 2035, "period_end": 2040, "target_year": 2040},
    )
    assert problem(overlap, 409, "ndc-periods-disjoint", "ndc-periods-overlap")["overlapping"] == [
        "2031-2035"
    ]
    annual = client.post(
        "/v1/parties/JPN/ndc",
        headers=admin,
        json={**SECOND_PERIOD, "period_start": 2036, "period_end": 2040, "method": "annual"},
    )
    body = problem(annual, 409, "ca-method-ndc-type", "method-not-allowed-for-ndc")
    assert body["allowed"] == ["trajectory", "averaging"]
    assert "article6.md §2.1" in body["detail"]
    early = client.post(
        "/v1/parties/JPN/ndc",
        headers=admin,
        json={**SECOND_PERIOD, "period_start": 2036, "period_end": 2040, "target_year": 2038},
    )
    assert problem(early, 422, "ndc-declaration", "invalid-ndc-declaration")["allowed"] == [2040]
    unitless = client.post(
        "/v1/parties/JPN/ndc",
        headers=admin,
        json={
            **SECOND_PERIOD,
            "period_start": 2036,
            "period_end": 2040,
            "target_year": 2040,
            "metric": "non-GHG",
        },
    )
    problem(unitless, 422, "ndc-declaration", "invalid-ndc-declaration")

    amended = post(
        client,
        "/v1/parties/JPN/ndc/amendments",
        jpn,
        {**SECOND_PERIOD, "method": "trajectory"},
    )
    assert amended["ndc_periods"][1]["version"] == 2
    assert amended["ndc_periods"][1]["method"] == "trajectory"
    missing = client.post(
        "/v1/parties/JPN/ndc/amendments",
        headers=jpn,
        json={**SECOND_PERIOD, "period_end": 2036, "target_year": 2036},
    )
    problem(missing, 404, "ndc-period-declared", "ndc-period-not-declared")
    read = client.get("/v1/parties/JPN", headers=admin).json()
    assert read["ndc_periods"] == amended["ndc_periods"]


def test_reports_per_period_state_their_policy(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    jpn, admin = jcm["JPN01"], jcm["admin"]
    post(client, "/v1/parties/JPN/ndc", jpn, SECOND_PERIOD)
    first = client.get("/v1/parties/JPN/adjustments?period_start=2021", headers=admin).json()
    second = client.get("/v1/parties/JPN/adjustments?period_start=2031", headers=admin).json()
    assert (first["period_start"], first["period_end"]) == (2021, 2030)
    assert (second["period_start"], second["period_end"]) == (2031, 2035)
    assert [row["year"] for row in second["rows"]] == list(range(2031, 2036))
    assert second["policy"] == {
        "averaging_basis": "separate",
        "elapsed_years_inclusive": True,
        "oimp_first_transfers_in_net": True,
        "non_ghg_sign": "first-transfers-subtract",
        "first_transfer_year": "vintage",
        "chosen_by_party": [],
        "party_choice_seq": None,
    }
    missing = client.get("/v1/parties/JPN/adjustments?period_start=2036", headers=admin)
    problem(missing, 404, "ndc-period-declared", "ndc-period-not-declared")

    choice = post(
        client,
        "/v1/parties/JPN/adjustment-policy",
        jpn,
        {"elapsed_years_inclusive": False},
    )
    assert choice == {
        "party": "JPN",
        "seq": choice["seq"],
        "averaging_basis": None,
        "elapsed_years_inclusive": False,
    }
    refused = client.post(
        "/v1/parties/THA/adjustment-policy", headers=jpn, json={"averaging_basis": "net"}
    )
    assert refused.status_code == 403
    report = client.get("/v1/parties/JPN/adjustments?period_start=2031", headers=admin).json()
    assert report["policy"]["elapsed_years_inclusive"] is False
    assert report["policy"]["averaging_basis"] == "separate"
    assert report["policy"]["chosen_by_party"] == ["elapsed_years_inclusive"]
    assert report["policy"]["party_choice_seq"] == choice["seq"]
    summary = client.get("/v1/parties/JPN/btr-summary?period_start=2031", headers=admin).json()
    assert (summary["period_start"], summary["period_end"]) == (2031, 2035)
    assert summary["policy"] == report["policy"]
    thai = client.get("/v1/parties/THA/btr-summary", headers=admin).json()
    assert thai["policy"]["chosen_by_party"] == []

    target = client.post("/v1/parties/JPN/targets", headers=jpn, json={"target_level": 700_000_000})
    problem(target, 422, "invalid-input", "invalid-input")
    post(
        client,
        "/v1/parties/JPN/targets",
        jpn,
        {"period_start": 2031, "target_level": 700_000_000},
    )
    report = client.get("/v1/parties/JPN/adjustments?period_start=2031", headers=admin).json()
    assert report["target_year"] == 2035
