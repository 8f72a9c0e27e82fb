"""The OIMP first-transfer deadline over HTTP, under the deployment's setting of the BTR that
reports an NDC period's end (``A6LEDGER_END_OF_PERIOD_BTR_AFTER``).

Palau's NDC period is 2021-2024. With the default (the BTR two years after the period, in 2026)
OIMP first transfers of vintage 2023 close on 31 December 2025; with three years, on 31 December
2026. An OIMP use dated 5 January 2026 first transfers its units: refused in the first case,
recorded in the second."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.api.conftest import TokenFactory
from tests.api.jcm2025 import refused, tree_size
from tests.api.scenario import THAI_AUTHORIZATION, post, solar

PALAU_NDC = {
    "ndc_type": "single-year",
    "metric": "GHG",
    "period_start": 2021,
    "period_end": 2024,
    "method": "averaging",
    "target_year": 2024,
}


@pytest.fixture(params=[2, 3])
def app_settings(app_settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return app_settings.model_copy(update={"end_of_period_btr_after": request.param})


def palau_oimp_units(client: TestClient, tokens: TokenFactory) -> dict[str, str]:
    """Palau authorizes CORSIA use (first transfer at use or cancellation) and issues 100
    units of vintage 2023; returns its registry's token."""
    admin = tokens("admin")
    post(client, "/v1/parties", admin, {"code": "JPN", "name": "Japan"})
    post(client, "/v1/parties", admin, {"code": "PLW", "name": "Palau", "ndc": PALAU_NDC})
    post(client, "/v1/registries", admin, {"registry_id": "PLW01", "party": "PLW", "name": "Palau"})
    for suffix, kind in (("GOV", "holding"), ("OIMP", "oimp-use")):
        account = {
            "account_id": f"PLW01-{suffix}",
            "registry_id": "PLW01",
            "account_type": kind,
            "name": f"Palau {suffix}",
        }
        post(client, "/v1/accounts", admin, account)
    approach = {"ca_id": "CA0009", "name": "JCM Japan-Palau", "parties": ["JPN", "PLW"]}
    post(client, "/v1/cooperative-approaches", admin, approach)
    palau = tokens("registry", "PLW01")
    corsia: dict[str, Any] = THAI_AUTHORIZATION | {
        "authorization_id": "PLW-CORSIA-1",
        "party": "PLW",
        "ca_id": "CA0009",
        "authorized_on": "2025-06-01",
        "purposes": "OIMP",
        "oimp_authorized": "CORSIA",
        "first_transfer_definition": "Use or cancellation",
        "authorized_parties": [],
    }
    post(client, "/v1/authorizations", palau, corsia)
    units = {
        "registry_id": "PLW01",
        "attributes": solar("PLW01", "PLW", "CA0009", 2023),
        "shares": [
            {"account_id": "PLW01-GOV", "quantity": 100, "authorization_id": "PLW-CORSIA-1"}
        ],
        "action_date": "2025-06-02",
    }
    post(client, "/v1/issuances", palau, units)
    return palau


def test_oimp_first_transfers_close_the_year_before_the_end_of_period_btr(
    client: TestClient, tokens: TokenFactory, app_settings: Settings
) -> None:
    palau = palau_oimp_units(client, tokens)
    use = {
        "from_account": "PLW01-GOV",
        "to_account": "PLW01-OIMP",
        "selection": {"quantity": 10},
        "oimp_purpose": "CORSIA",
        "action_date": "2026-01-05",
    }
    if app_settings.end_of_period_btr_after == 2:
        problem = refused(client, "/v1/oimp-uses", palau, use, "oimp-first-transfer-deadline")
        assert problem["deadline"] == "2025-12-31"
        return
    before = tree_size(client)
    used = post(client, "/v1/oimp-uses", palau, use)
    assert used["quantity"] == 10
    assert tree_size(client) == before + 2  # the first transfer, then the OIMP use
