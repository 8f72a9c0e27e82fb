"""Replicas on one PostgreSQL database: a ``serve`` process and a ``serve --workers 2`` (two
"hosts", each its own signed-tree file; three server processes in all), under concurrent writes.
The chain has no gap, every write acknowledged by either is in it once, and every pair of
checkpoints the processes served is consistent: a consistency proof between them verifies
(RFC 9162), and every checkpoint's signature verifies with the log's key.

This is the compose.yaml stack's variant with the same processes started directly (no container
engine is needed); bounded: ``WRITES`` writes per writer, a client timeout on every call.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
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
            env = settings_env(settings, checkpoint_state_path=directory / "last-signed")
            port = free_port()
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
    assert_one_chain_and_consistent_checkpoints(engine, vkey, seqs, notes)
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT tree_size FROM signed_checkpoint ORDER BY tree_size")
        ).scalars()
        assert max(recorded) == max(int(served.splitlines()[1]) for served in notes)
