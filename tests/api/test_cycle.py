"""The reporting cycle over HTTP: a pre-check finds a planted inconsistency, the secretariat's
result of the submission flags Japan's ITMOs (NDC use refused), the corrected resubmission's
result resolves the flag (NDC use allowed); every step a ledger entry with its reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.settings import Settings, get_settings
from ledger.accounting import aef
from ledger.adapters import aef_files
from tests.api.jcm2025 import (
    Tokens,
    aef_of,
    initial_report,
    japanese_use,
    post_jcm_2025,
    record_initial_reports,
    refused,
    tree_size,
)
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
            row,
            last_id=row.last_id - 9,
            last_unit_id=row.last_id - 9,
            quantity=None if row.quantity is None else row.quantity - 9,
        )
        if row.action_type is aef.ActionType.FIRST_TRANSFER and row.acquiring_party_id == "JPN"
        else row
        for row in report.actions
    ]
    return aef.to_json(replace(report, actions=tuple(rows)))


SUBMISSION_RESULT = "Result of the consistency check of this AEF submission"
ROW_RESULT = "Result of the consistency checks"


def exported_results(
    client: TestClient, headers: dict[str, str], version: str
) -> tuple[str, dict[int, str]]:
    """The secretariat's results as the exports of Japan's submitted ``version`` show them: the
    JSON and the workbook must agree (Table 1 result, Table 3 results by row)."""
    path = "/v1/parties/JPN/aef/2025"
    shown = client.get(path, params={"version": version}, headers=headers).json()
    rows = {
        n: r[ROW_RESULT] for n, r in enumerate(shown["Table 3: Actions"], start=1) if r[ROW_RESULT]
    }
    workbook = client.get(path, params={"version": version, "format": "xlsx"}, headers=headers)
    assert workbook.status_code == 200, workbook.text
    read = aef_files.import_aef(workbook.content, aef_files.AefFormat.XLSX)
    assert (
        read.submission.consistency_check_result
        == shown["Table 1: Submission"][0][SUBMISSION_RESULT]
    )
    assert {
        n: r.consistency_check_result
        for n, r in enumerate(read.actions, start=1)
        if r.consistency_check_result
    } == rows
    return shown["Table 1: Submission"][0][SUBMISSION_RESULT], rows


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_review_results_raise_and_resolve_flags(client: TestClient, jcm2025: Tokens) -> None:
    post_jcm_2025(client, jcm2025)
    jpn, admin = jcm2025["JPN01"], jcm2025["admin"]
    record_initial_reports(client, "JPN", jpn, "CA0001", "CA0002")
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
    assert exported_results(client, admin, "1.0") == (INCONSISTENT, {row: INCONSISTENT})
    draft = client.get("/v1/parties/JPN/aef/2025", headers=admin).json()
    assert draft["Table 1: Submission"][0][SUBMISSION_RESULT] is None
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
    assert exported_results(client, admin, "1.1") == (CONSISTENT, {row: CONSISTENT})
    assert exported_results(client, admin, "1.0") == (INCONSISTENT, {row: INCONSISTENT})
    used = post(client, "/v1/uses", jpn, japanese_use(10, today(), use_year=2026))
    assert used["quantity"] == 10


def test_bad_review_results_are_problems(client: TestClient, jcm2025: Tokens) -> None:
    post_jcm_2025(client, jcm2025)
    jpn, tha = jcm2025["JPN01"], jcm2025["THA01"]
    record_initial_reports(client, "JPN", jpn, "CA0001", "CA0002")
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


def status(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/v1/parties/JPN/aef/2025/status", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def cli_submit(capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    return main(["aef-submit", "--party", "JPN", "--year", "2025"])


@pytest.fixture
def cli_database(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI commands run on the test's database."""
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", app_settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_database")
def test_a_jcm_year_from_initial_reports_to_a_corrected_resubmission(
    client: TestClient, jcm2025: Tokens, capsys: pytest.CaptureFixture[str]
) -> None:
    """The acceptance test of the cycle: initial reports, the year's actions, a pre-check with a
    planted inconsistency, submission, the secretariat's result flagging it, correction,
    resubmission, the flag resolved and NDC use allowed again. The clock is real: the AEF for
    2025 was due on 15 April 2026, so every submission is marked late."""
    post_jcm_2025(client, jcm2025)
    jpn, tha, admin = jcm2025["JPN01"], jcm2025["THA01"], jcm2025["admin"]
    start = tree_size(client)
    pre = "/v1/parties/JPN/aef/2025/pre-checks"
    blocked = client.post(pre, json={}, headers=jpn).json()
    assert blocked["submittable"] is False
    assert [b.split(" (")[0] for b in blocked["blockers"]] == [
        "JPN has recorded no initial report for CA0001",
        "JPN has recorded no initial report for CA0002",
    ]
    assert blocked["due_date"] == "2026-04-15"
    assert blocked["recorded_seq"] is None
    refused_submission = client.post(
        "/v1/parties/JPN/aef/2025/submissions", json={"reported_year": 2025}, headers=jpn
    )
    assert refused_submission.status_code == 409
    assert refused_submission.headers["content-type"] == "application/problem+json"
    problem = refused_submission.json()
    assert problem["rule"] == "initial-report-before-annual-information"
    assert problem["cooperative_approaches"] == ["CA0001", "CA0002"]
    assert "4/CMA.6 paras 26-27" in problem["detail"]
    assert "JPN has recorded no initial report for CA0001 (Table 3 rows" in problem["detail"]
    assert cli_submit(capsys) == 1
    err = capsys.readouterr().err  # after the line naming the database
    cli_problem = json.loads(err[err.index("{") :])
    assert (cli_problem["rule"], cli_problem["cooperative_approaches"]) == (
        "initial-report-before-annual-information",
        ["CA0001", "CA0002"],
    )
    assert client.get("/v1/parties/JPN/aef-submissions", headers=admin).json()["items"] == []
    assert tree_size(client) == start

    first = post(client, "/v1/parties/JPN/initial-reports", jpn, initial_report("CA0001"))
    post(client, "/v1/parties/JPN/initial-reports", jpn, initial_report("CA0002"))
    update = post(
        client,
        "/v1/parties/JPN/initial-reports",
        jpn,
        initial_report("CA0001", duration_to=2035),
    )
    assert (first["version"], first["kind"]) == (1, "initial report")
    assert (update["version"], update["kind"]) == (2, "updated initial report")
    document = client.get("/v1/parties/JPN/initial-reports/CA0001", headers=admin).json()
    assert document["version"] == 2
    assert document["duration"] == {"from": 2021, "to": 2035}
    assert document["recorded"]["first_transfer_definition"] is None
    assert [a["authorization_id"] for a in document["recorded"]["authorizations"]] == []
    thai_view = client.get("/v1/parties/THA/initial-reports/CA0001", headers=admin)
    assert thai_view.status_code == 404
    assert thai_view.json()["rule"] == "initial-report-exists"
    workbook = client.get(
        "/v1/parties/JPN/initial-reports/CA0001",
        params={"format": "xlsx", "version": 1},
        headers=admin,
    )
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "initial-report-JPN-CA0001-v1.xlsx" in workbook.headers["content-disposition"]

    thai = short_first_transfer(aef_of(client, "THA", 2025, admin))
    planted = client.post(pre, json={"counterparts": [thai], "record": True}, headers=jpn).json()
    assert planted["submittable"] is True
    assert planted["notation"] == INCONSISTENT
    assert {f["column"] for f in planted["findings"]} == {"Last ID", "Quantity (t CO2 eq)"}
    assert "THA v1.0" in planted["counterparts"]
    assert planted["late"] is True
    assert status(client, admin)["stage"] == "pre-checked"

    submitted = post(client, "/v1/parties/JPN/aef/2025/submissions", jpn, {"reported_year": 2025})
    at_submission = status(client, admin)
    assert at_submission["stage"] == "submitted"
    assert [(s["version"], s["late"]) for s in at_submission["submissions"]] == [("1.0", True)]
    assert at_submission["submissions"][0]["seq"] == submitted["seq"]

    row = acquisition_from_thailand(aef_of(client, "JPN", 2025, admin))
    reason = "Acquisition of 1009 ITMOs; THA reports a First transfer of 1000"
    post(
        client,
        "/v1/parties/JPN/aef/2025/review-results",
        jpn,
        {
            "version": "1.0",
            "notation": INCONSISTENT,
            "rows": [{"row": row, "notation": INCONSISTENT, "reason": reason}],
        },
    )
    flagged = status(client, admin)
    assert (flagged["stage"], flagged["open_flags"]) == ("inconsistencies identified", 1)
    assert flagged["submissions"][0]["review_notation"] == INCONSISTENT
    refused(
        client, "/v1/uses", jpn, japanese_use(10, today(), 2026), "no-ndc-use-of-inconsistent-units"
    )

    corrected = client.post(pre, json={"record": True}, headers=jpn).json()
    assert (corrected["notation"], corrected["findings"]) == (CONSISTENT, [])
    assert status(client, admin)["stage"] == "correcting"
    assert cli_submit(capsys) == 0  # the corrected resubmission, from the CLI
    assert "JPN 2025: submitted version 1.1" in capsys.readouterr().out
    post(
        client,
        "/v1/parties/JPN/aef/2025/review-results",
        jpn,
        {"version": "1.1", "notation": CONSISTENT, "rows": [{"row": row, "notation": CONSISTENT}]},
    )
    done = status(client, admin)
    assert (done["stage"], done["open_flags"]) == ("consistent", 0)
    assert [(s["version"], s["review_notation"]) for s in done["submissions"]] == [
        ("1.0", INCONSISTENT),
        ("1.1", CONSISTENT),
    ]
    assert post(client, "/v1/uses", jpn, japanese_use(10, today(), 2026))["quantity"] == 10
    assert client.post(pre, json={}, headers=tha).status_code == 403
