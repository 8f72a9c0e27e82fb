"""The reporting cycle over HTTP: a pre-check finds a planted inconsistency, the secretariat's
result of the submission flags Japan's ITMOs (NDC use refused), the corrected resubmission's
result resolves the flag (NDC use allowed); every step a ledger entry with its reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from ledger.accounting import aef
from tests.api.jcm2025 import Tokens, aef_of, japanese_use, post_jcm_2025, refused, tree_size
from tests.api.scenario import post

INCONSISTENT = "Checked, inconsistencies identified"
CONSISTENT = "Checked, no inconsistencies identified"


def acquisition_from_thailand(report: aef.AefReport) -> int:
    """The 1-based Table 3 row of Japan's Acquisition of the Thai ITMOs."""
    return next(
        n
        for n, row in enumerate(report.actions, start=1)
        if row.action_type is aef.ActionType.ACQUISITION and row.registry_id == "THA01"
    )


def short_first_transfer(report: aef.AefReport) -> dict[str, Any]:
    """Thailand's AEF with its First transfer to Japan misreported 9 units short."""
    rows = [
        replace(
            row, last_id=row.last_id - 9, last_unit_id=row.last_id - 9, quantity=row.quantity - 9
        )
        if row.action_type is aef.ActionType.FIRST_TRANSFER and row.acquiring_party_id == "JPN"
        else row
        for row in report.actions
    ]
    return aef.to_json(replace(report, actions=tuple(rows)))


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_review_results_raise_and_resolve_flags(client: TestClient, jcm2025: Tokens) -> None:
    post_jcm_2025(client, jcm2025)
    jpn, admin = jcm2025["JPN01"], jcm2025["admin"]
    thai = short_first_transfer(aef_of(client, "THA", 2025, admin))
    pre_check = client.post(
        "/v1/consistency-checks",
        headers=jpn,
        json={"party": "JPN", "reported_year": 2025, "counterpart": thai},
    ).json()
    assert pre_check["own"]["notation"] == INCONSISTENT
    assert pre_check["recorded_seq"] is None
    assert client.get("/v1/parties/JPN/inconsistency-flags", headers=admin).json() == []

    assert (
        post(client, "/v1/parties/JPN/aef/2025/submissions", jpn, {"reported_year": 2025})[
            "version"
        ]
        == "1.0"
    )
    row = acquisition_from_thailand(aef_of(client, "JPN", 2025, admin))
    reason = "Acquisition of 1009 ITMOs; THA reports a First transfer of 1000"
    raised = post(
        client,
        "/v1/parties/JPN/aef/2025/review-results",
        jpn,
        {
            "version": "1.0",
            "notation": INCONSISTENT,
            "rows": [{"row": row, "notation": INCONSISTENT, "reason": reason}],
        },
    )
    assert sorted((b["itmo_first"], b["quantity"]) for b in raised["flagged"]) == [
        ("CA0001-THA01-THA-1-2021", 600),  # already used
        ("CA0001-THA01-THA-601-2021", 409),
    ]
    assert raised["resolved"] == []
    flags = client.get("/v1/parties/JPN/inconsistency-flags", headers=admin).json()
    assert [(f["itmo_first"], f["raised_seq"], f["raised_by"], f["reasons"]) for f in flags] == [
        ("CA0001-THA01-THA-601-2021", raised["seq"], "consistency.reviewed", [reason])
    ]
    refused(
        client,
        "/v1/uses",
        jpn,
        japanese_use(10, today(), use_year=2026),
        "no-ndc-use-of-inconsistent-units",
    )

    assert (
        post(client, "/v1/parties/JPN/aef/2025/submissions", jpn, {"reported_year": 2025})[
            "version"
        ]
        == "1.1"
    )
    resolved = post(
        client,
        "/v1/parties/JPN/aef/2025/review-results",
        jpn,
        {
            "version": "1.1",
            "notation": CONSISTENT,
            "rows": [{"row": row, "notation": CONSISTENT}],
        },
    )
    assert sorted(b["itmo_first"] for b in resolved["resolved"]) == [
        "CA0001-THA01-THA-1-2021",
        "CA0001-THA01-THA-601-2021",
    ]
    assert client.get("/v1/parties/JPN/inconsistency-flags", headers=admin).json() == []
    used = post(client, "/v1/uses", jpn, japanese_use(10, today(), use_year=2026))
    assert used["quantity"] == 10


def test_bad_review_results_are_problems(client: TestClient, jcm2025: Tokens) -> None:
    post_jcm_2025(client, jcm2025)
    jpn, tha = jcm2025["JPN01"], jcm2025["THA01"]
    post(client, "/v1/parties/JPN/aef/2025/submissions", jpn, {"reported_year": 2025})
    path = "/v1/parties/JPN/aef/2025/review-results"
    missing = client.post(
        path, json={"version": "1.3", "notation": CONSISTENT, "rows": []}, headers=jpn
    )
    assert missing.status_code == 404
    assert missing.json()["rule"] == "review-of-a-recorded-submission"
    refused(
        client,
        path,
        jpn,
        {"version": "1.0", "notation": CONSISTENT, "rows": [{"row": 99, "notation": CONSISTENT}]},
        "invalid-input",
    )
    before = tree_size(client)
    for body in (
        {"version": "1.0", "notation": "Checked, all fine", "rows": []},
        {"version": "1.0", "notation": CONSISTENT, "rows": [{"row": 0, "notation": CONSISTENT}]},
    ):
        response = client.post(path, json=body, headers=jpn)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    forbidden = client.post(
        path, json={"version": "1.0", "notation": CONSISTENT, "rows": []}, headers=tha
    )
    assert forbidden.status_code == 403
    assert tree_size(client) == before
