"""Joint Committee decisions as ledger entries: the decision is recorded, issuance follows its
split between the governments and the project participants and never exceeds it, and the
Japanese government's share is first transferred to Japan; on both databases, over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.jcm2025 import Tokens, refused, tree_size
from tests.api.scenario import THAI_AUTHORIZATION, post, solar

DECISION: dict[str, Any] = {
    "decision_id": "JC7-TH001-MP1",
    "ca_id": "CA0001",
    "registry_id": "THA01",
    "project_id": "TH001 Solar power on factory rooftops",
    "monitoring_from": "2021-01-01",
    "monitoring_to": "2021-12-31",
    "decided_on": "2025-10-30",
    "total": 1000,
    "shares": [
        {"recipient": "government", "party": "JPN", "account_id": "THA01-JPNGOV", "quantity": 500},
        {"recipient": "government", "party": "THA", "account_id": "THA01-GOV", "quantity": 100},
        {
            "recipient": "project participants",
            "party": "THA",
            "account_id": "THA01-PP",
            "quantity": 400,
        },
    ],
}


def issuance(shares: list[tuple[str, int]], **changes: Any) -> dict[str, Any]:
    return {
        "registry_id": "THA01",
        "attributes": solar("THA01", "THA", "CA0001", 2021),
        "shares": [
            {"account_id": a, "quantity": q, "authorization_id": "THA-JCM-2025-001"}
            for a, q in shares
        ],
        "decision_reference": DECISION["decision_id"],
        **changes,
    }


def test_issuance_follows_the_joint_committee_decision(client: TestClient, jcm: Tokens) -> None:
    tha, admin = jcm["THA01"], jcm["admin"]
    for suffix in ("JPNGOV", "PP"):
        post(
            client,
            "/v1/accounts",
            admin,
            {
                "account_id": f"THA01-{suffix}",
                "registry_id": "THA01",
                "account_type": "holding",
                "name": suffix,
            },
        )
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    recorded = post(client, "/v1/jcm-decisions", tha, DECISION)
    assert (recorded["total"], recorded["issued"]) == (1000, 0)
    assert client.post("/v1/jcm-decisions", json=DECISION, headers=jcm["JPN01"]).status_code == 403
    refused(client, "/v1/jcm-decisions", tha, DECISION, "unique-identifier")
    refused(
        client,
        "/v1/jcm-decisions",
        tha,
        {**DECISION, "decision_id": "JC7-bad", "total": 999},
        "invalid-input",
    )

    first = post(client, "/v1/issuances", tha, issuance([("THA01-JPNGOV", 500), ("THA01-PP", 300)]))
    assert first["quantity"] == 800
    shares = client.get(f"/v1/jcm-decisions/{DECISION['decision_id']}", headers=admin).json()
    assert [(s["account_id"], s["issued"], s["remaining"]) for s in shares["shares"]] == [
        ("THA01-JPNGOV", 500, 0),
        ("THA01-GOV", 0, 100),
        ("THA01-PP", 300, 100),
    ]
    beyond = refused(
        client,
        "/v1/issuances",
        tha,
        issuance([("THA01-PP", 101)]),
        "issuance-within-jc-decision",
    )
    assert beyond["decided"] == 400
    assert beyond["issued"] == 300
    refused(
        client,
        "/v1/issuances",
        tha,
        issuance([("THA01-NDC", 1)]),
        "issuance-follows-jc-decision",
    )
    later = issuance([("THA01-GOV", 1)])
    later["attributes"] = solar("THA01", "THA", "CA0001", 2022)
    refused(client, "/v1/issuances", tha, later, "issuance-follows-jc-decision")
    post(client, "/v1/issuances", tha, issuance([("THA01-GOV", 100), ("THA01-PP", 100)]))
    done = client.get(f"/v1/jcm-decisions/{DECISION['decision_id']}", headers=admin).json()
    assert (done["issued"], [s["remaining"] for s in done["shares"]]) == (1000, [0, 0, 0])
    before = tree_size(client)
    refused(
        client, "/v1/issuances", tha, issuance([("THA01-GOV", 1)]), "issuance-within-jc-decision"
    )
    assert tree_size(client) == before

    # Japan's share, held for it in Thailand's registry, is first transferred to Japan.
    moved = post(
        client,
        "/v1/transfers",
        tha,
        {
            "from_account": "THA01-JPNGOV",
            "to_account": "JPN01-GOV",
            "selection": {"quantity": 500},
        },
    )
    assert moved["quantity"] == 500
    missing = client.get("/v1/jcm-decisions/JC-none", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["rule"] == "jc-decision-exists"
