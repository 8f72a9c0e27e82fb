"""Who may do what: every route of the app × every role.

Each route is classified below; a route missing from the table fails the test, so a new
endpoint cannot ship unclassified. A role that may not call a route gets 401 (anonymous) or 403;
a role that may is past authentication and authorization (the request then fails validation on
its empty body, or succeeds), so it gets neither. Which registry a registry token may act for is
checked per action in test_jcm_http and tests/integration/registry.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import TokenFactory

ANON, ADMIN, REGISTRY, RECONCILER, AUDITOR = (
    "anonymous",
    "admin",
    "registry",
    "reconciler",
    "auditor",
)
EVERYONE = {ANON, ADMIN, REGISTRY, RECONCILER, AUDITOR}
READERS = {ADMIN, REGISTRY, RECONCILER, AUDITOR}

ALLOWED: dict[tuple[str, str], set[str]] = {
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    # Scraping needs a token by default (A6LEDGER_METRICS_ACCESS: both ways in test_metrics).
    ("GET", "/metrics"): READERS,
    ("GET", "/v1/log/checkpoint"): EVERYONE,
    ("GET", "/v1/log/key"): EVERYONE,
    # The log's proofs are public and its entries need a token by default
    # (A6LEDGER_LOG_READ_ACCESS, A6LEDGER_LOG_ENTRIES_ACCESS: both ways in test_tiles).
    ("GET", "/v1/log/entries"): READERS,
    ("GET", "/v1/log/entries/party"): READERS,
    ("GET", "/v1/log/proofs/inclusion"): EVERYONE,
    ("GET", "/v1/log/proofs/consistency"): EVERYONE,
    ("GET", "/v1/log/proofs/bundle"): EVERYONE,
    ("GET", "/v1/log/checkpoint/cosigned"): EVERYONE,
    ("POST", "/v1/log/cosignatures"): {ADMIN, REGISTRY},
    # C2SP tlog-witness: the log's signature on the checkpoint is the authentication.
    ("POST", "/v1/witness/add-checkpoint"): EVERYONE,
    ("GET", "/v1/witness/key"): EVERYONE,
    ("GET", "/v1/witness/checkpoint"): EVERYONE,
    ("POST", "/v1/parties"): {ADMIN},
    ("GET", "/v1/parties"): READERS,
    ("GET", "/v1/parties/{code}"): READERS,
    ("POST", "/v1/parties/{code}/ndc"): {ADMIN, REGISTRY},
    ("POST", "/v1/parties/{code}/ndc/amendments"): {ADMIN, REGISTRY},
    ("POST", "/v1/registries"): {ADMIN},
    ("GET", "/v1/registries"): READERS,
    ("POST", "/v1/cooperative-approaches"): {ADMIN},
    ("GET", "/v1/cooperative-approaches"): READERS,
    ("POST", "/v1/accounts"): {ADMIN, REGISTRY},
    ("GET", "/v1/accounts"): READERS,
    ("GET", "/v1/accounts/{account_id}/holdings"): READERS,
    ("POST", "/v1/authorizations"): {REGISTRY},
    ("GET", "/v1/authorizations"): READERS,
    ("GET", "/v1/authorizations/{authorization_id}"): READERS,
    ("POST", "/v1/authorizations/{authorization_id}/units"): {REGISTRY},
    ("POST", "/v1/authorizations/{authorization_id}/revocations"): {REGISTRY},
    ("POST", "/v1/non-ghg-conversions"): {REGISTRY},
    ("GET", "/v1/non-ghg-conversions"): READERS,
    ("POST", "/v1/authorized-entities"): {REGISTRY},
    ("GET", "/v1/authorized-entities"): READERS,
    ("POST", "/v1/issuances"): {REGISTRY},
    ("POST", "/v1/transfers"): {REGISTRY},
    ("POST", "/v1/acquisitions"): {REGISTRY},
    ("POST", "/v1/uses"): {REGISTRY},
    ("POST", "/v1/oimp-uses"): {REGISTRY},
    ("POST", "/v1/cancellations"): {REGISTRY},
    ("GET", "/v1/blocks"): READERS,
    ("GET", "/v1/blocks/{block_id}"): READERS,
    ("GET", "/v1/itmos/{itmo_id}/history"): READERS,
    ("POST", "/v1/parties/{code}/emissions"): {ADMIN, REGISTRY},
    ("POST", "/v1/parties/{code}/adaptation-contributions"): {ADMIN, REGISTRY},
    ("GET", "/v1/parties/{code}/regular-information"): READERS,
    ("POST", "/v1/parties/{code}/targets"): {ADMIN, REGISTRY},
    ("POST", "/v1/parties/{code}/adjustment-policy"): {ADMIN, REGISTRY},
    ("GET", "/v1/parties/{code}/adjustments"): READERS,
    ("GET", "/v1/parties/{code}/adjustments/restatements"): READERS,
    ("GET", "/v1/parties/{code}/btr-summary"): READERS,
    ("GET", "/v1/parties/{code}/aef/{reported_year}"): READERS,
    ("POST", "/v1/parties/{code}/aef/{reported_year}/submissions"): {ADMIN, REGISTRY},
    ("GET", "/v1/parties/{code}/aef-submissions"): READERS,
    ("POST", "/v1/consistency-checks"): {ADMIN, REGISTRY, RECONCILER},
    ("POST", "/v1/parties/{code}/aef/{reported_year}/review-results"): {ADMIN, REGISTRY},
    ("GET", "/v1/parties/{code}/inconsistency-flags"): READERS,
    ("POST", "/v1/parties/{code}/initial-reports"): {ADMIN, REGISTRY},
    ("GET", "/v1/parties/{code}/initial-reports"): READERS,
    ("GET", "/v1/parties/{code}/initial-reports/{ca_id}"): READERS,
    ("POST", "/v1/parties/{code}/aef/{reported_year}/pre-checks"): {ADMIN, REGISTRY},
    ("GET", "/v1/parties/{code}/aef/{reported_year}/status"): READERS,
    ("POST", "/v1/jcm-decisions"): {REGISTRY},
    ("GET", "/v1/jcm-decisions/{decision_id}"): READERS,
    ("POST", "/v1/reconciliations"): {ADMIN, REGISTRY, RECONCILER},
    ("GET", "/v1/exports"): {ADMIN, RECONCILER, AUDITOR},
    ("POST", "/v1/imports"): {ADMIN},
}

SAMPLE = {
    "code": "JPN",
    "account_id": "JPN01-GOV",
    "authorization_id": "THA-JCM-1",
    "block_id": "1",
    "itmo_id": "CA0001-THA01-THA-1-2021",
    "reported_year": "2025",
    "ca_id": "CA0001",
    "decision_id": "JC7",
}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation of the app, read from its OpenAPI document (which lists them all)."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def test_every_route_is_classified(app: FastAPI) -> None:
    assert sorted(set(routes(app)) - set(ALLOWED)) == []
    assert sorted(set(ALLOWED) - set(routes(app))) == []


def test_role_by_endpoint_matrix(client: TestClient, app: FastAPI, tokens: TokenFactory) -> None:
    headers = {
        ANON: {},
        ADMIN: tokens("admin"),
        REGISTRY: tokens("registry", "JPN01"),
        RECONCILER: tokens("reconciler"),
        AUDITOR: tokens("auditor"),
    }
    failures = []
    document = app.openapi()
    operations = {
        (method.upper(), path): operation
        for path, by_method in document["paths"].items()
        for method, operation in by_method.items()
    }
    for method, path in routes(app):
        url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
        for role, role_headers in headers.items():
            response = client.request(
                method, url, headers=role_headers, json={} if method == "POST" else None
            )
            allowed = role in ALLOWED[(method, path)]
            denied = response.status_code in (401, 403)
            if allowed == denied:
                failures.append(f"{role} {method} {path}: {response.status_code}")
            if denied:
                assert response.headers["content-type"] == "application/problem+json"
                declared = operations[(method, path)]["responses"]
                if str(response.status_code) not in declared:
                    failures.append(f"{method} {path}: {response.status_code} not declared")
                if role == ANON:
                    assert response.status_code == 401
                    assert response.headers["www-authenticate"].startswith("Bearer")
    assert failures == []


@pytest.mark.parametrize("role", [ADMIN, RECONCILER, AUDITOR])
def test_only_the_owning_registry_moves_units(
    client: TestClient, tokens: TokenFactory, role: str
) -> None:
    """Non-registry roles are refused on unit actions even with a valid body."""
    response = client.post(
        "/v1/transfers",
        headers=tokens(role),
        json={"from_account": "THA01-GOV", "to_account": "JPN01-GOV", "selection": {"quantity": 1}},
    )
    assert response.status_code == 403
