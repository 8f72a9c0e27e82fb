"""``a6ledger serve`` on a fresh database: with 4 workers, and with another ``serve`` process
starting at the same moment, the migrations run exactly once (under the migration lock) and no
process crashes, and every log line is JSON; outside development, a database not at head makes
``serve`` refuse to start with one line naming the pending revisions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.keys import write_signer_key
from ledger.adapters.sql.migrations import pending_revisions
from tests.api.live_server import (
    HOST,
    PROJECT_ROOT,
    LiveServer,
    free_port,
    start_server,
    stop,
    wait_until_up,
)
from tests.conftest import DatabaseFactory

START_BOUND = 120.0
"""Seconds for five processes to import the app and start on a loaded 2-core machine."""


def _env(database_url: str, tmp_path: Path, environment: str) -> dict[str, str]:
    return {
        "A6LEDGER_ENVIRONMENT": environment,
        "A6LEDGER_DATABASE_URL": database_url,
        "A6LEDGER_SIGNER_KEY_PATH": str(tmp_path / "signer.key"),
        "A6LEDGER_CHECKPOINT_STATE_PATH": str(tmp_path / "last-signed-checkpoint"),
        "A6LEDGER_LOG_ORIGIN": "a6ledger.test/serve",
    }


def _wait_for_log(servers: list[LiveServer], pattern: str, count: int) -> None:
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline:
        logs = "".join(server.log() for server in servers)
        if len(re.findall(pattern, logs)) >= count:
            return
        for server in servers:
            assert server.process.poll() is None, server.log()
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} {pattern!r} within {START_BOUND} s:\n{logs}")


def test_four_workers_and_another_serve_migrate_a_fresh_database_once(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.empty_url()
    _, revisions = pending_revisions(url)
    assert revisions, "the fresh database should lack every migration"
    env = _env(url, tmp_path, "development")
    servers: list[LiveServer] = []
    try:
        for args in (("--workers", "4"), ()):
            port = free_port()
            log_path = tmp_path / f"serve-{port}.log"
            command = ("--host", HOST, "--port", str(port), *args)
            servers.append(LiveServer(start_server(env, log_path, args=command), port, log_path))
        for server in servers:
            wait_until_up(server, START_BOUND)
        _wait_for_log(servers, r"a6ledger ready", 5)
        for server in servers:
            for _ in range(8):
                assert httpx.get(server.base_url + "/readyz", timeout=10).status_code == 200
        # A request's access line is written as its response completes, which may be after the
        # client has read the response: wait for the 16 lines rather than read the log at once.
        _wait_for_log(servers, r'"path": ?"/readyz"', 16)
        logs = "".join(server.log() for server in servers)
        assert "Traceback" not in logs, logs
        # Every logger (uvicorn's, Alembic's, the service's) writes one JSON line per event.
        events = [json.loads(line) for line in logs.splitlines() if line.strip()]
        loggers = {event["logger"] for event in events}
        assert {"uvicorn.error", "alembic.runtime.migration", "a6ledger"} <= loggers, loggers
        access = [event for event in events if event["logger"] == "a6ledger.access"]
        assert [event["path"] for event in access].count("/readyz") == 16
        assert all(len(event["request_id"]) == 32 for event in access)
        first = revisions[0]
        assert len(re.findall(rf"Running upgrade\s+-> {first}\b", logs)) == 1, logs
        assert pending_revisions(url)[1] == ()
    finally:
        for server in servers:
            stop(server.process)
        database_factory.drop(url)


def test_outside_development_serve_refuses_a_database_not_at_head(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = database_factory.empty_url()
    try:
        _, revisions = pending_revisions(url)
        env = _env(url, tmp_path, "production")
        write_signer_key(tmp_path / "signer.key", "a6ledger.test/serve")
        completed = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port())],
            env=env | {"PATH": "/usr/bin:/bin"},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 1
        lines = completed.stderr.strip().splitlines()
        assert len(lines) == 1, completed.stderr
        assert lines[0].startswith("a6ledger: refusing to start: the database is at no revision")
        assert all(revision in lines[0] for revision in revisions)
        assert "a6ledger migrate" in lines[0]
        assert pending_revisions(url)[1] == revisions  # nothing was migrated
    finally:
        database_factory.drop(url)
