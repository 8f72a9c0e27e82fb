"""The service's Prometheus metrics (``GET /metrics``, text exposition format).

One :class:`ServiceMetrics` per app, on its own ``CollectorRegistry`` (tests build many apps in
one process). Counted where the events happen: requests and their latency by route template in
:mod:`app.middleware`, appends in :mod:`app.idempotency`, rule refusals in :mod:`app.problems`,
signed checkpoints in :mod:`app.routes.log`; the tree size and the age of the last signed
checkpoint are read when the metrics are scraped. Each process counts its own: with
``serve --workers N`` a scrape reports the worker that answered it, so run one worker per
replica and scrape every replica (docs/operations.md, "Monitoring").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "UNMATCHED_ROUTE", "ServiceMetrics"]

UNMATCHED_ROUTE = "unmatched"
"""The route label of requests no route matched (their paths are not labels: unbounded)."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    """The service's metrics, on a registry of their own."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self.requests = Counter(
            "a6ledger_http_requests",
            "HTTP requests answered, by method, route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "a6ledger_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.append_seconds = Histogram(
            "a6ledger_log_append_duration_seconds",
            "Time of a write's unit of work that appended ledger entries, through its commit",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.appended = Counter(
            "a6ledger_log_entries_appended",
            "Ledger entries appended by this process",
            registry=self.registry,
        )
        self.tree_size = Gauge(
            "a6ledger_log_tree_size",
            "Entries in the log (its Merkle tree size), read when scraped",
            registry=self.registry,
        )
        self.signed_size = Gauge(
            "a6ledger_checkpoint_last_signed_tree_size",
            "Tree size of the last checkpoint this process signed",
            registry=self.registry,
        )
        self.signed_at = Gauge(
            "a6ledger_checkpoint_last_signed_timestamp_seconds",
            "Unix time this process last signed a checkpoint",
            registry=self.registry,
        )
        self.signed_age = Gauge(
            "a6ledger_checkpoint_last_signed_age_seconds",
            "Seconds since this process last signed a checkpoint (NaN before the first)",
            registry=self.registry,
        )
        self.signed_age.set(float("nan"))
        self.replays = Counter(
            "a6ledger_idempotency_replays",
            "Write requests answered with the stored response of an earlier request "
            "(same Idempotency-Key)",
            registry=self.registry,
        )
        self.refusals = Counter(
            "a6ledger_rule_refusals",
            "Requests refused because they would break a ledger rule, by rule",
            ("rule",),
            registry=self.registry,
        )
        self._last_signed: float | None = None

    def request_answered(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def entries_appended(self, count: int, seconds: float) -> None:
        self.appended.inc(count)
        self.append_seconds.observe(seconds)

    def checkpoint_signed(self, tree_size: int) -> None:
        self._last_signed = self._clock()
        self.signed_at.set(self._last_signed)
        self.signed_size.set(tree_size)

    def replayed(self) -> None:
        self.replays.inc()

    def rule_refused(self, rule: str) -> None:
        self.refusals.labels(rule).inc()

    def exposition(self, tree_size: int) -> bytes:
        """The metrics in the Prometheus text format, with the values read at scrape time."""
        self.tree_size.set(tree_size)
        if self._last_signed is not None:
            self.signed_age.set(max(0.0, self._clock() - self._last_signed))
        return generate_latest(self.registry)
