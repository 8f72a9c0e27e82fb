"""``deploy/grafana-dashboard.json`` and ``deploy/prometheus-alerts.yaml`` use only metrics the
service exports: every metric name in their PromQL expressions is a sample name of ``/metrics``
scraped after a write, a replay, a refusal and a signed checkpoint (or ``up``, which Prometheus
adds to every target), so a renamed metric breaks this test. Both files are referenced from
docs/operations.md, and the alert rules have the shape Prometheus loads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs installed; only safe_load is used
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import TokenFactory
from tests.api.test_metrics import PARTY

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus-alerts.yaml"
# Series that Prometheus itself adds to every scraped target.
PROMETHEUS_SERIES = frozenset({"up"})
PROMQL_WORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}
    | {"bool", "offset"}
)


def metric_names(expr: str) -> set[str]:
    """The metric names of a PromQL expression: what is left once strings, label matchers,
    ranges, grouping clauses, function calls and keywords are taken out."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    stripped = re.sub(r"\{[^}]*\}", " ", stripped)
    stripped = re.sub(r"\[[^\]]*\]", " ", stripped)
    stripped = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", stripped
    )
    names = set()
    for found in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)\s*(\()?", stripped):
        if found[2] is None and found[1] not in PROMQL_WORDS:
            names.add(found[1])
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def exported_samples(client: TestClient, tokens: TokenFactory) -> set[str]:
    admin = tokens("admin")
    key = admin | {"Idempotency-Key": "monitoring-files-1"}
    assert client.post("/v1/parties", json=PARTY, headers=key).status_code == 201
    assert client.post("/v1/parties", json=PARTY, headers=key).status_code == 201  # replayed
    assert client.post("/v1/parties", json=PARTY, headers=admin).status_code == 409
    assert client.get("/v1/log/checkpoint").status_code == 200
    assert client.get("/readyz").status_code == 200
    response = client.get("/metrics", headers=tokens("auditor"))
    assert response.status_code == 200, response.text
    return {
        sample.name
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, route) (rate(a6_x_bucket{job=~"$job",'
        'route="/v1/y"}[5m]))) > 2 and on(instance) up == 0 or a6_z offset 1d'
    )
    assert metric_names(expr) == {"a6_x_bucket", "up", "a6_z"}


def test_the_dashboard_and_the_alerts_use_only_exported_metrics(
    client: TestClient, tokens: TokenFactory
) -> None:
    exported = exported_samples(client, tokens) | PROMETHEUS_SERIES
    exprs = {"dashboard": dashboard_exprs(), "alerts": [rule["expr"] for rule in alert_rules()]}
    used: set[str] = set()
    for where, found in exprs.items():
        assert found, f"no expressions in the {where} file"
        for expr in found:
            names = metric_names(expr)
            assert names, expr
            assert names <= exported, f"{where}: {sorted(names - exported)} not exported: {expr}"
            used |= names
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for variable in dashboard["templating"]["list"]:
        for name in re.findall(r"\ba6ledger_\w+", str(variable.get("query", ""))):
            assert name in exported, f"dashboard variable {variable['name']} uses {name}"
    families = {
        "a6ledger_http_requests_total",
        "a6ledger_http_request_duration_seconds_bucket",
        "a6ledger_log_append_duration_seconds_bucket",
        "a6ledger_log_tree_size",
        "a6ledger_checkpoint_last_signed_age_seconds",
        "a6ledger_idempotency_replays_total",
        "a6ledger_rule_refusals_total",
    }
    assert families <= used  # what issue 11 asks the dashboard and alerts to watch


@pytest.mark.parametrize("path", [DASHBOARD, ALERTS], ids=lambda path: path.name)
def test_the_operations_guide_references_the_file(path: Path) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"deploy/{path.name}" in guide


def test_the_alert_rules_have_the_shape_prometheus_loads() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        assert rule["labels"]["severity"] in {"page", "ticket", "notify"}
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smhd]", str(rule.get("for", "0s")))
