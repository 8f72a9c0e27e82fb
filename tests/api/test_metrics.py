"""``GET /metrics``: scraped and parsed as the Prometheus text format; it counts requests by
route template, appends, idempotency replays and rule refusals by rule, and reports the tree size
and the last signed checkpoint. Who may scrape it is ``A6LEDGER_METRICS_ACCESS``."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from app.main import create_app
from app.settings import LogAccess, Settings
from tests.api.conftest import TokenFactory

NDC = {
    "ndc_type": "single-year",
    "metric": "GHG",
    "period_start": 2021,
    "period_end": 2030,
    "method": "averaging",
    "target_year": 2030,
}
PARTY = {"code": "JPN", "name": "Japan", "ndc": NDC}


def scrape(client: TestClient, headers: dict[str, str]) -> dict[str, list[Sample]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    (found,) = [s.value for s in samples if s.name == name and s.labels == labels]
    return found


def test_metrics_count_requests_appends_replays_refusals_and_checkpoints(
    client: TestClient, tokens: TokenFactory
) -> None:
    admin, scraper = tokens("admin"), tokens("auditor")
    families = scrape(client, scraper)
    size = value(families["a6ledger_log_tree_size"], "a6ledger_log_tree_size")
    assert math.isnan(
        value(
            families["a6ledger_checkpoint_last_signed_age_seconds"],
            "a6ledger_checkpoint_last_signed_age_seconds",
        )
    )

    key = admin | {"Idempotency-Key": "metrics-party-1"}
    assert client.post("/v1/parties", json=PARTY, headers=key).status_code == 201
    replayed = client.post("/v1/parties", json=PARTY, headers=key)
    assert replayed.headers["idempotent-replayed"] == "true"
    refused = client.post("/v1/parties", json=PARTY, headers=admin)
    assert refused.status_code == 409
    rule = refused.json()["rule"]
    assert client.get("/v1/log/checkpoint").status_code == 200
    assert client.get("/v1/nothing-here").status_code == 404

    families = scrape(client, scraper)
    grown = value(families["a6ledger_log_tree_size"], "a6ledger_log_tree_size")
    assert grown > size
    appended = families["a6ledger_log_entries_appended"]
    assert value(appended, "a6ledger_log_entries_appended_total") == 1
    append_latency = families["a6ledger_log_append_duration_seconds"]
    assert value(append_latency, "a6ledger_log_append_duration_seconds_count") == 1
    replays = families["a6ledger_idempotency_replays"]
    assert value(replays, "a6ledger_idempotency_replays_total") == 1
    refusals = families["a6ledger_rule_refusals"]
    assert value(refusals, "a6ledger_rule_refusals_total", rule=rule) == 1
    requests = families["a6ledger_http_requests"]
    posts = {"method": "POST", "route": "/v1/parties"}
    assert value(requests, "a6ledger_http_requests_total", **posts, status="201") == 2
    assert value(requests, "a6ledger_http_requests_total", **posts, status="409") == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(requests, "a6ledger_http_requests_total", **unmatched) == 1
    latency = families["a6ledger_http_request_duration_seconds"]
    assert value(latency, "a6ledger_http_request_duration_seconds_count", **posts) == 3
    signed = families["a6ledger_checkpoint_last_signed_tree_size"]
    assert value(signed, "a6ledger_checkpoint_last_signed_tree_size") == grown
    age = families["a6ledger_checkpoint_last_signed_age_seconds"]
    assert 0 <= value(age, "a6ledger_checkpoint_last_signed_age_seconds") < 3600


def test_scraping_needs_a_reading_token_by_default(
    client: TestClient, tokens: TokenFactory
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers=tokens("registry", "JPN01")).status_code == 200


@pytest.fixture
def public_client(app_settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(app_settings.model_copy(update={"metrics_access": LogAccess.public}))
    with TestClient(app) as client:
        yield client


def test_public_metrics_need_no_token(public_client: TestClient) -> None:
    assert "a6ledger_log_tree_size" in scrape(public_client, {})
