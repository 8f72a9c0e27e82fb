"""Dated actions over HTTP: the JCM's first ITMOs of 2025 posted today with their own dates
(Thailand -> Japan on 2025-11-11, Maldives -> Japan on 2025-12-16, Japan's use in 2025), the
AEF of each Party by reported year, every guard rail refused with its rule and the ledger
unchanged, and who may date an action."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from ledger.accounting import aef
from tests.api.jcm2025 import (
    JAPANESE_USE,
    SERIAL_KEY,
    Tokens,
    aef_of,
    dated_actions,
    issuance,
    japanese_use,
    post_jcm_2025,
    record_initial_reports,
    refused,
    to_japan,
    tree_size,
)
from tests.api.scenario import THAI_AUTHORIZATION, post


def test_the_2025_jcm_flows_posted_today_keep_their_dates(
    client: TestClient, jcm2025: Tokens
) -> None:
    post_jcm_2025(client, jcm2025)
    admin = jcm2025["admin"]
    thailand, maldives_2025, japan = (aef_of(client, p, 2025, admin) for p in ("THA", "MDV", "JPN"))
    assert dated_actions(thailand) == [
        (date(2025, 10, 30), "Authorization", "THA01", 1009),
        (date(2025, 11, 11), "First transfer", "THA01", 1009),
    ]
    assert dated_actions(maldives_2025) == [
        (date(2025, 12, 16), "Authorization", "MDV01", 433),
        (date(2025, 12, 16), "First transfer", "MDV01", 433),
    ]
    assert dated_actions(japan) == [
        (date(2025, 11, 11), "Acquisition", "THA01", 1009),
        (date(2025, 12, 16), "Acquisition", "MDV01", 433),
        (date(2025, 12, 26), "Use", "THA01", 600),
    ]
    assert {row.ndc_use_year for row in japan.actions if row.action_type.value == "Use"} == {2025}
    for report in (thailand, maldives_2025, japan):
        aef.validate_report(report)
    for party in ("THA", "MDV", "JPN"):
        assert aef_of(client, party, 2026, admin).actions == ()
    # The entries keep both dates: the action date in the payload, the recording time outside.
    lines = client.get("/v1/log/entries", params={"start": 0}, headers=admin).text.splitlines()
    use = json.loads(lines[-1])
    assert (use["kind"], use["payload"]["action_date"]) == ("itmo.use", JAPANESE_USE)
    recorded = datetime.strptime(use["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert datetime.now(UTC) - recorded < timedelta(minutes=10)


def test_every_guard_rail_is_refused_with_its_rule_and_the_ledger_unchanged(
    client: TestClient, jcm2025: Tokens
) -> None:
    post_jcm_2025(client, jcm2025)
    tha, jpn = jcm2025["THA01"], jcm2025["JPN01"]
    thai_units = issuance("THA01", "CA0001", "THA-JCM-2025-001", 100)
    post(client, "/v1/issuances", tha, thai_units | {"action_date": "2025-11-20"})
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()

    refused(
        client,
        "/v1/transfers",
        tha,
        to_japan("THA01", 10, tomorrow),
        "action-date-not-in-future",
    )
    # Issuance before the transfer of those units.
    refused(
        client,
        "/v1/transfers",
        tha,
        to_japan("THA01", 10, "2025-11-19"),
        "action-date-after-previous-action",
    )
    # A unit's previous action: Japan cannot use units before it acquired them.
    refused(
        client,
        "/v1/uses",
        jpn,
        japanese_use(10, "2025-11-10"),
        "action-date-after-previous-action",
    )
    # Authorization before the units it covers: an issuance under it dated before it.
    refused(
        client,
        "/v1/issuances",
        tha,
        thai_units | {"action_date": "2025-10-29"},
        "authorization-before-action",
    )
    # Vintage after the action date.
    future_vintage = issuance("THA01", "CA0001", "THA-JCM-2025-001", 10)
    future_vintage["attributes"]["vintage"] = 2026
    refused(
        client,
        "/v1/issuances",
        tha,
        future_vintage | {"action_date": "2025-12-31"},
        "vintage-not-after-action-date",
    )
    # Use year before the vintage (Maldivian units of 2021 are fine for 2021, Thai 2024 not).
    vintage_2024 = issuance("THA01", "CA0001", "THA-JCM-2025-001", 10)
    vintage_2024["attributes"]["vintage"] = 2024
    post(client, "/v1/issuances", tha, vintage_2024)
    post(
        client,
        "/v1/transfers",
        tha,
        {
            "from_account": "THA01-GOV",
            "to_account": "JPN01-GOV",
            "selection": {"quantity": 10, "vintage": 2024},
        },
    )
    refused(
        client,
        "/v1/uses",
        jpn,
        {
            "from_account": "JPN01-GOV",
            "to_account": "JPN01-NDC",
            "selection": {"quantity": 10, "vintage": 2024},
            "use_year": 2023,
        },
        "use-year-not-before-vintage",
    )
    # An authorization dated in the future.
    refused(
        client,
        "/v1/authorizations",
        tha,
        THAI_AUTHORIZATION | {"authorization_id": "THA-LATER", "authorized_on": tomorrow},
        "action-date-not-in-future",
    )


def test_back_dating_into_a_submitted_year_needs_restates(
    client: TestClient, jcm2025: Tokens
) -> None:
    post_jcm_2025(client, jcm2025)
    tha, admin = jcm2025["THA01"], jcm2025["admin"]
    post(client, "/v1/issuances", tha, issuance("THA01", "CA0001", "THA-JCM-2025-001", 100))
    record_initial_reports(client, "THA", tha, "CA0001")
    post(client, "/v1/parties/THA/aef/2025/submissions", tha, {"reported_year": 2025})
    submitted = tree_size(client)
    late_2025 = to_japan("THA01", 100, "2025-12-30")
    refused(
        client,
        "/v1/issuances",
        tha,
        issuance("THA01", "CA0001", "THA-JCM-2025-001", 50) | {"action_date": "2025-12-20"},
        "restates-submitted-year",
    )
    refused(
        client,
        "/v1/authorizations",
        tha,
        THAI_AUTHORIZATION | {"quantity": 200000, "authorized_on": "2025-12-01"},
        "restates-submitted-year",
    )
    restating = issuance("THA01", "CA0001", "THA-JCM-2025-001", 50) | {
        "action_date": "2025-12-20",
        "restates": True,
    }
    post(client, "/v1/issuances", tha, restating)
    moved = post(
        client,
        "/v1/transfers",
        tha,
        late_2025
        | {
            "selection": {"ranges": [{"first": 1110, "last": 1159}], **SERIAL_KEY},
            "restates": True,
        },
    )
    assert moved["quantity"] == 50
    # The next version of 2025 shows the restating actions; the submitted one does not.
    next_version = aef_of(client, "THA", 2025, admin)
    as_submitted = client.get("/v1/parties/THA/aef/2025", params={"version": "1.0"}, headers=admin)
    assert next_version.submission.version == "1.1"
    assert len(next_version.actions) == len(aef.from_json(as_submitted.json()).actions) + 2
    assert dated_actions(next_version)[-1] == (date(2025, 12, 30), "First transfer", "THA01", 50)
    note = next_version.actions[-1].additional_information or ""
    assert note.endswith("; recorded after the AEF of 2025 was submitted (restatement)")
    # restated_since explains it: Thailand's first transfers of vintage 2021 grew, and the
    # figure names the restating entries.
    restated = client.get(
        "/v1/parties/THA/adjustments/restatements", params={"since": submitted}, headers=admin
    ).json()["items"]
    (first_transferred,) = [
        r for r in restated if (r["year"], r["field"]) == (2021, "first_transferred")
    ]
    assert first_transferred["reported_before"]["value"] == "1009"
    assert first_transferred["restated"]["value"] == "1059"
    assert max(first_transferred["restated"]["entries"]) >= submitted


def test_only_admin_and_the_acting_registry_date_an_action(
    client: TestClient, jcm2025: Tokens
) -> None:
    post_jcm_2025(client, jcm2025)
    admin, tha, jpn = jcm2025["admin"], jcm2025["THA01"], jcm2025["JPN01"]
    post(client, "/v1/issuances", tha, issuance("THA01", "CA0001", "THA-JCM-2025-001", 10))
    today = datetime.now(UTC).date().isoformat()
    problem = refused(
        client,
        "/v1/transfers",
        jpn,
        to_japan("THA01", 10, "2025-12-01"),
        "action-date-by-acting-registry",
    )
    assert problem["status"] == 403
    assert problem["type"] == "urn:a6ledger:problem:forbidden"
    refused(
        client,
        "/v1/parties/THA/emissions",
        jpn,
        {"year": 2025, "value": 1000, "action_date": "2025-12-31"},
        "action-date-by-acting-registry",
    )
    # Dated today, the same request by the wrong registry meets the ownership rule instead.
    wrong_owner = client.post("/v1/transfers", json=to_japan("THA01", 10, today), headers=jpn)
    assert wrong_owner.status_code == 403
    # Admin and the Party's own registry may date their actions; the entry names the token.
    for headers, party in ((admin, "JPN"), (jpn, "JPN")):
        response = client.post(
            f"/v1/parties/{party}/emissions",
            json={"year": 2024, "value": 1000, "action_date": "2025-04-01"},
            headers=headers,
        )
        assert response.status_code == 201, response.text
    seq = int(response.headers["a6-ledger-seq"])
    line = client.get("/v1/log/entries", params={"start": seq, "end": seq + 1}, headers=admin)
    entry = json.loads(line.text)
    assert entry["payload"]["action_date"] == "2025-04-01"
    assert entry["actor"].startswith("token:")
