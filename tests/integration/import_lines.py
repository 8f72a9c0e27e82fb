"""JSON Lines lines for the import tests: rows the ledger refuses, and one line of every action
a file may name (on top of ``examples/jcm-2025.jsonl``)."""

from __future__ import annotations

BAD_LINES = (
    # 20: the Thai units all went to Japan on 11 November
    {
        "action": "transfer",
        "body": {
            "from_account": "THA01-GOV",
            "to_account": "JPN01-GOV",
            "selection": {"quantity": 1},
            "action_date": "2025-11-12",
        },
    },
    # 21: accepted: Japan uses the Maldivian ITMOs...
    {
        "action": "use",
        "body": {
            "from_account": "JPN01-GOV",
            "to_account": "JPN01-NDC",
            "selection": {"quantity": 433, "originating_registry": "MDV01"},
            "use_year": 2025,
            "action_date": "2025-12-20",
        },
    },
    # 22: ...so none are left for this use
    {
        "action": "use",
        "body": {
            "from_account": "JPN01-GOV",
            "to_account": "JPN01-NDC",
            "selection": {"quantity": 1, "originating_registry": "MDV01"},
            "use_year": 2025,
            "action_date": "2025-12-30",
        },
    },
    # 23: dated in the future
    {
        "action": "emissions",
        "party": "JPN",
        "body": {"year": 2024, "value": 1, "action_date": "2099-01-01"},
    },
    "not JSON",  # 24
    {"action": "transfer", "body": {"from_account": "THA01-GOV"}},  # 25: not the API's shape
    {"action": "launch", "body": {}},  # 26
    {"action": "emissions", "body": {"year": 2025, "value": 1}},  # 27: no `party`
)
BAD_ROWS = [
    (20, "transfer", "holdings-non-negative"),
    (22, "use", "holdings-non-negative"),
    (23, "emissions", "action-date-not-in-future"),
    (24, "?", "request-body-parsable"),
    (25, "transfer", "request-schema"),
    (26, "launch", "invalid-input"),
    (27, "emissions", "invalid-input"),
]


SWISS_ATTRIBUTES = {
    "ca_id": "CA0009",
    "registry_id": "CHE01",
    "first_transferring_party": "CHE",
    "vintage": 2023,
    "metric": "GHG",
    "gwp": "AR5",
    "mitigation_type": "Emission reductions",
    "sector": "Energy generation",
    "activity_type": "Wind",
}
PERIOD_2031 = {
    "ndc_type": "single-year",
    "metric": "GHG",
    "period_start": 2031,
    "period_end": 2035,
    "method": "averaging",
    "target_year": 2035,
}
EVERY_ACTION = (
    {"action": "party", "body": {"code": "CHE", "name": "Switzerland"}},
    {
        "action": "registry",
        "body": {"registry_id": "CHE01", "party": "CHE", "name": "Swiss", "hosted": False},
    },
    {
        "action": "cooperative_approach",
        "body": {"ca_id": "CA0009", "name": "Japan-Switzerland", "parties": ["JPN", "CHE"]},
    },
    {
        "action": "account",
        "body": {
            "account_id": "THA01-OIMP",
            "registry_id": "THA01",
            "account_type": "oimp-use",
            "name": "OIMP",
        },
    },
    {
        "action": "account",
        "body": {
            "account_id": "THA01-CANCEL",
            "registry_id": "THA01",
            "account_type": "cancellation",
            "name": "Cancelled",
        },
    },
    {"action": "ndc", "party": "JPN", "body": PERIOD_2031},
    {"action": "ndc_amendment", "party": "JPN", "body": PERIOD_2031 | {"method": "trajectory"}},
    {"action": "adjustment_policy", "party": "JPN", "body": {"averaging_basis": "separate"}},
    {
        "action": "emissions",
        "party": "JPN",
        "body": {"year": 2025, "value": 1000000, "action_date": "2026-04-15"},
    },
    {
        "action": "target",
        "party": "JPN",
        "body": {"period_start": 2031, "trajectory": {"2035": 900000}},
    },
    {
        "action": "authorized_entity",
        "body": {
            "entity_id": "THA-E-1",
            "name": "Thai Airways",
            "country": "THA",
            "identification": "TH-1",
            "ca_id": "CA0001",
            "authorized_on": "2025-11-20",
        },
    },
    {
        "action": "authorization",
        "body": {
            "authorization_id": "THA-CORSIA-1",
            "party": "THA",
            "ca_id": "CA0001",
            "authorized_on": "2025-11-20",
            "purposes": "OIMP",
            "metric": "GHG",
            "gwp": "AR5",
            "sectors": ["Energy generation"],
            "activity_types": ["Solar"],
            "vintage_from": 2021,
            "vintage_to": 2030,
            "oimp_authorized": "CORSIA",
            "first_transfer_definition": "Use or cancellation",
            "authorized_entities": ["THA-E-1"],
        },
    },
    {
        "action": "issuance",
        "body": {
            "registry_id": "THA01",
            "attributes": {
                **SWISS_ATTRIBUTES,
                "ca_id": "CA0001",
                "registry_id": "THA01",
                "first_transferring_party": "THA",
                "vintage": 2022,
                "activity_type": "Solar",
            },
            "shares": [{"account_id": "THA01-GOV", "quantity": 50}],
            "action_date": "2025-11-21",
        },
    },
    {
        "action": "authorize_units",
        "authorization_id": "THA-CORSIA-1",
        "body": {
            "account_id": "THA01-GOV",
            "selection": {"quantity": 50, "vintage": 2022},
            "action_date": "2025-11-22",
        },
    },
    {
        "action": "oimp_use",
        "body": {
            "from_account": "THA01-GOV",
            "to_account": "THA01-OIMP",
            "selection": {"quantity": 20, "vintage": 2022},
            "oimp_purpose": "CORSIA",
            "entity_id": "THA-E-1",
            "action_date": "2025-11-25",
        },
    },
    {
        "action": "cancellation",
        "body": {
            "from_account": "THA01-GOV",
            "to_account": "THA01-CANCEL",
            "selection": {"quantity": 10, "vintage": 2022},
            "action_date": "2025-11-26",
        },
    },
    {
        "action": "acquisition",
        "body": {
            "from_registry": "CHE01",
            "to_account": "JPN01-GOV",
            "attributes": SWISS_ATTRIBUTES,
            "first": 1,
            "last": 100,
            "authorization_id": "CHE-1",
            "authorization_version": 1,
            "first_transferred": True,
            "action_date": "2025-12-01",
        },
    },
)
