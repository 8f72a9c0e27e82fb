"""The service's Prometheus metrics (``GET /metrics``, text exposition format).

One :class:`ServiceMetrics` per app, on its own ``CollectorRegistry`` (tests build many apps in
one process). Counted where the events happen: requests and their latency by route template in
:mod:`app.middleware`, appends in :mod:`app.idempotency`, rule refusals in :mod:`app.problems`,
signed checkpoints in :mod:`app.routes.log`; the tree size and the age of the last signed
checkpoint are read when the metrics are scraped.

With ``serve --workers N`` a scrape reports the whole server, not the worker that answered it:
``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a folder of its own (emptied at start, under
the data directory unless the variable is set) before the workers start, every worker writes
its values there (prometheus-client's multiprocess mode), and a scrape merges them: counters
and histograms are summed, the tree size and the last signed checkpoint are the largest any
worker saw, and the age of the last signature is computed from that at scrape time. One
``serve`` process per replica is still what the load balancer sees; scrape every replica
(docs/operations.md, "Monitoring").
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = [
    "CONTENT_TYPE_LATEST",
    "MULTIPROCESS_DIR_VARIABLE",
    "UNMATCHED_ROUTE",
    "ServiceMetrics",
    "start_multiprocess_metrics",
]

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's multiprocess mode: where each process writes its values. Read when
prometheus-client is imported, so it is set before the worker processes start."""

SIGNED_AGE = "a6ledger_checkpoint_last_signed_age_seconds"
SIGNED_AGE_HELP = "Seconds since this server last signed a checkpoint (NaN before the first)"
SIGNED_AT = "a6ledger_checkpoint_last_signed_timestamp_seconds"


def start_multiprocess_metrics(default: Path) -> Path:
    """Before ``serve --workers N`` starts its workers: the folder they write their metrics to
    (``PROMETHEUS_MULTIPROC_DIR`` if set, else ``default``), emptied of an earlier run's
    values, and set in the environment the workers inherit."""
    directory = Path(os.environ.get(MULTIPROCESS_DIR_VARIABLE) or default)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(directory)
    return directory


class _Families(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


UNMATCHED_ROUTE = "unmatched"
"""The route label of requests no route matched (their paths are not labels: unbounded)."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    """The service's metrics, on a registry of their own; in multiprocess mode (a
    ``multiprocess_dir``, by default ``PROMETHEUS_MULTIPROC_DIR``) the values of every process
    writing to that folder are merged when scraped."""

    def __init__(
        self, clock: Callable[[], float] = time.time, multiprocess_dir: str | None = None
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROCESS_DIR_VARIABLE)
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
            "Ledger entries appended by this server",
            registry=self.registry,
        )
        self.tree_size = Gauge(
            "a6ledger_log_tree_size",
            "Entries in the log (its Merkle tree size), read when scraped",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.signed_size = Gauge(
            "a6ledger_checkpoint_last_signed_tree_size",
            "Tree size of the last checkpoint this server signed",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.signed_at = Gauge(
            "a6ledger_checkpoint_last_signed_timestamp_seconds",
            "Unix time this server last signed a checkpoint",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.signed_age = Gauge(SIGNED_AGE, SIGNED_AGE_HELP, registry=self.registry)
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
        if self._multiprocess_dir is not None:
            return self._merged_exposition()
        if self._last_signed is not None:
            self.signed_age.set(max(0.0, self._clock() - self._last_signed))
        return generate_latest(self.registry)

    def _merged_exposition(self) -> bytes:
        """Every process's values merged; the signature's age from the latest signature any
        process made (a process writes 0 before its first)."""
        merging = CollectorRegistry()
        MultiProcessCollector(merging, self._multiprocess_dir)  # type: ignore[no-untyped-call]
        families = [f for f in merging.collect() if f.name != SIGNED_AGE]
        signed = [s.value for f in families if f.name == SIGNED_AT for s in f.samples]
        last = max((value for value in signed if value > 0), default=None)
        age = float("nan") if last is None else max(0.0, self._clock() - last)
        families.append(GaugeMetricFamily(SIGNED_AGE, SIGNED_AGE_HELP, value=age))
        exposed = CollectorRegistry()
        exposed.register(_Families(families))
        return generate_latest(exposed)
