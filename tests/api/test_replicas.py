"""Replicas on one PostgreSQL database: a ``serve`` process and a ``serve --workers 2`` (two
"hosts", each its own signed-tree file; three server processes in all), under concurrent writes.
The chain has no gap, every write acknowledged by either is in it once, and every pair of
checkpoints the processes served is consistent: a consistency proof between them verifies
(RFC 9162), and every checkpoint's signature verifies with the log's key. ``/metrics`` of the
``--workers 2`` host reports the whole server: requests spread over both workers are all counted
in every scrape, whichever worker answers it (prometheus-client's multiprocess mode, its folder
under the data directory emptied at start).

This is the compose.yaml stack's variant with the same processes started directly (no container
engine is needed); bounded: ``WRITES`` writes per writer, a client timeout on every call.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from app.settings import Settings
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database
from ledger.log import merkle, note
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from tests.api.live_server import (
    HOST,
    LiveServer,
    free_port,
    settings_env,
    start_server,
    stop,
    wait_until_up,
)

WRITERS = 3
WRITES = 8
TIMEOUT = 30.0


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("replicas share one PostgreSQL database (SQLite is one host's file)")


@contextmanager
def two_hosts(settings: Settings, tmp_path: Path) -> Iterator[list[LiveServer]]:
    """Two "hosts" on one database, started at once: a ``serve`` process, and a
    ``serve --workers 2`` (two worker processes behind one port); each host has its own
    signed-tree file."""
    servers: list[LiveServer] = []
    try:
        for host, args in (("host-a", ()), ("host-b", ("--workers", "2"))):
            directory = tmp_path / host
            directory.mkdir()
            env = settings_env(
                settings,
                checkpoint_state_path=directory / "last-signed",
                data_dir=directory / "data",
                metrics_access="public",
            )
            port = free_port()
            metrics = directory / "data" / "metrics" / f"port-{port}"
            metrics.mkdir(parents=True)
            # An earlier run's values, unreadable: every scrape fails unless they are removed.
            (metrics / "counter_1.db").write_bytes(b"an earlier run's values")
            log_path = directory / "serve.log"
            command = ("--host", HOST, "--port", str(port), *args)
            servers.append(LiveServer(start_server(env, log_path, args=command), port, log_path))
        for server in servers:
            wait_until_up(server)
        yield servers
    finally:
        for server in servers:
            stop(server.process)


def write_concurrently(
    servers: list[LiveServer], admin: dict[str, str]
) -> tuple[list[int], list[str]]:
    """``WRITERS`` writers, each alternating between the servers, each write followed by a
    checkpoint read from the other server: the acknowledged seqs and the served notes."""
    seqs: list[int] = []
    notes: list[str] = []
    failures: list[str] = []
    names = itertools.count()
    lock = threading.Lock()

    def writer(offset: int) -> None:
        clients = [
            httpx.Client(base_url=s.base_url, timeout=TIMEOUT, headers=admin) for s in servers
        ]
        try:
            for n in range(WRITES):
                with lock:
                    account = f"THA01-R{next(names):05d}"
                http = clients[(n + offset) % len(clients)]
                response = http.post(
                    "/v1/accounts",
                    json={
                        "account_id": account,
                        "registry_id": "THA01",
                        "account_type": "holding",
                        "name": account,
                    },
                )
                checkpoint = clients[(n + offset + 1) % len(clients)].get("/v1/log/checkpoint")
                with lock:
                    if response.status_code != 201 or checkpoint.status_code != 200:
                        failures.append(f"{response.status_code} {checkpoint.status_code}")
                        return
                    seqs.append(int(response.headers["a6-ledger-seq"]))
                    notes.append(checkpoint.text)
        finally:
            for client in clients:
                client.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * WRITES)
        assert not thread.is_alive()
    assert not failures, failures
    return seqs, notes


def assert_one_chain_and_consistent_checkpoints(
    engine: Engine, vkey: str, seqs: list[int], notes: list[str]
) -> None:
    report = verify_database(engine)
    assert report.ok, report.reason
    assert len(seqs) == WRITERS * WRITES == len(set(seqs))
    assert max(seqs) < report.tree_size
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*), max(seq) FROM ledger_entry")).one()
    assert (stored[0], stored[1]) == (report.tree_size, report.tree_size - 1)
    verifier = note.Verifier(vkey)
    checkpoints: dict[int, Checkpoint] = {}
    for served in notes:
        checkpoint, _signatures = open_checkpoint(served, [verifier])
        assert checkpoints.setdefault(checkpoint.size, checkpoint) == checkpoint
    sizes = sorted(checkpoints)
    assert len(sizes) > 1
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        for i, first in enumerate(sizes):
            for second in sizes[i + 1 :]:
                proof = uow.log.consistency_proof(first, second)
                merkle.verify_consistency(
                    first,
                    second,
                    proof,
                    checkpoints[first].root_hash,
                    checkpoints[second].root_hash,
                )


SPREAD_DEADLINE = 60.0
"""Seconds to keep sending requests until both workers answered some (they share the listening
socket; the kernel hands each new connection to one of them)."""
SETTLE = 10.0
"""Seconds for the last requests' counts to reach the files (a worker counts a request once its
response is sent)."""
COUNTED = "a6ledger_http_requests_total" + str(
    sorted({"method": "GET", "route": "/v1/log/key", "status": "200"}.items())
)


def metrics_folder(server: LiveServer) -> Path:
    return server.log_path.parent / "data" / "metrics" / f"port-{server.port}"


def counted_by_worker(directory: Path) -> dict[str, float]:
    """``GET /v1/log/key`` requests counted in each worker's own file (``counter_<pid>.db``)."""
    counts: dict[str, float] = {}
    for path in sorted(directory.glob("counter_*.db")):
        metrics = MultiProcessCollector.merge([str(path)], accumulate=True)  # type: ignore[no-untyped-call]
        counts[path.stem] = sum(
            sample.value
            for metric in metrics
            for sample in metric.samples
            if sample.name == "a6ledger_http_requests_total"
            and sample.labels.get("route") == "/v1/log/key"
        )
    return counts


def scraped(server: LiveServer) -> dict[str, float]:
    """One scrape, on a new connection: the samples by name and labels."""
    response = httpx.get(
        server.base_url + "/metrics", headers={"Connection": "close"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    return {
        f"{sample.name}{sorted(sample.labels.items())}": sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def assert_metrics_of_the_whole_server(server: LiveServer) -> None:
    """Requests sent on new connections until both workers answered some are all counted in
    every scrape, as is the largest tree the server signed."""
    directory = metrics_folder(server)
    assert not (directory / "counter_1.db").exists()
    sent = 0

    def send(count: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
            for _ in range(count):
                response = client.get("/v1/log/key", headers={"Connection": "close"})
                assert response.status_code == 200

    deadline = time.monotonic() + SPREAD_DEADLINE
    while True:
        threads = [threading.Thread(target=send, args=(10,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 10)
        sent += 40
        by_worker = counted_by_worker(directory)
        if sum(1 for count in by_worker.values() if count > 0) >= 2:
            break
        assert time.monotonic() < deadline, f"one worker answered every request: {by_worker}"
    settled = time.monotonic() + SETTLE
    while sum(counted_by_worker(directory).values()) < sent and time.monotonic() < settled:
        time.sleep(0.05)
    assert sum(counted_by_worker(directory).values()) == sent
    signed = httpx.get(server.base_url + "/v1/log/checkpoint", timeout=TIMEOUT)
    assert signed.status_code == 200
    size = int(signed.text.splitlines()[1])
    for _ in range(6):  # whichever worker answers the scrape
        samples = scraped(server)
        assert samples[COUNTED] == sent
        assert samples["a6ledger_checkpoint_last_signed_tree_size[]"] == size
        assert samples["a6ledger_log_tree_size[]"] >= size
        assert samples["a6ledger_checkpoint_last_signed_age_seconds[]"] >= 0


def test_replicas_on_one_database_make_one_chain_and_consistent_checkpoints(
    jcm: dict[str, dict[str, str]],
    app_settings: Settings,
    engine: Engine,
    tmp_path: Path,
) -> None:
    with two_hosts(app_settings, tmp_path) as servers:
        vkey = httpx.get(servers[0].base_url + "/v1/log/key", timeout=TIMEOUT).text.strip()
        seqs, notes = write_concurrently(servers, jcm["admin"])
        for server in servers:
            assert httpx.get(server.base_url + "/readyz", timeout=TIMEOUT).status_code == 200
        assert_metrics_of_the_whole_server(servers[1])
    assert_one_chain_and_consistent_checkpoints(engine, vkey, seqs, notes)
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT tree_size FROM signed_checkpoint ORDER BY tree_size")
        ).scalars()
        assert max(recorded) == max(int(served.splitlines()[1]) for served in notes)
