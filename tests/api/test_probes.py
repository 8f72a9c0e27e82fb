"""Issue 9's probes, kept as tests against a real server on both databases.

- Crash: a few writers post accounts while the server is killed with SIGKILL, three times, and
  restarted: every write the server acknowledged (201) is in the database afterwards, the chain
  and Merkle tree verify, and every checkpoint served before a kill is still a prefix of the log
  (its root is the stored root at its size), so the restarted server signs again. The writes
  are group-committed in batches that also hold idempotent retries (answered with the stored
  response) and refused duplicates (409): every account is opened by exactly one entry, and a
  write whose answer the kill lost, retried with its key afterwards, is answered once (replayed
  exactly when its batch had committed).
- Double spend: 50 simultaneous transfers of the same 1,009 units: exactly one goes through, the
  49 others get a problem, and the holdings are those of the one transfer.

Bounded: three short rounds of at most ``WRITES_PER_ROUND`` writes per writer, 50 requests in
the race, client timeouts on every call.
"""

from __future__ import annotations

import base64
import itertools
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.main import create_app
from app.settings import Settings
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.adapters.sql.verify import verify_database
from ledger.log.chain import Entry
from tests.api.live_server import live_server, settings_env
from tests.api.scenario import THAI_AUTHORIZATION, post, thai_issuance

KILLS = 3
WRITERS = 4
WRITES_PER_ROUND = 40
ROUND_SECONDS = 0.5
TIMEOUT = 30.0
RACERS = 50
SERVER_LIMITS = {"db_queue_timeout": 60.0}


def served_tree(response: httpx.Response) -> tuple[int, bytes]:
    lines = response.text.splitlines()
    return int(lines[1]), base64.b64decode(lines[2])


def account_body(account: str) -> dict[str, str]:
    return {
        "account_id": account,
        "registry_id": "THA01",
        "account_type": "holding",
        "name": account,
    }


def test_kill_9_loses_no_acknowledged_write_and_the_chain_verifies(
    jcm: dict[str, dict[str, str]],
    app_settings: Settings,
    engine: Engine,
    tmp_path: Path,
) -> None:
    world = jcm
    admin = world["admin"]
    acknowledged: list[str] = []
    unanswered: list[str] = []  # sent when the server was killed: committed or not
    served: list[tuple[int, bytes]] = []
    names = itertools.count()
    lock = threading.Lock()

    failures: list[str] = []

    def writer(base_url: str, stop: threading.Event) -> None:
        try:
            write(base_url, stop)
        except AssertionError as exc:
            failures.append(str(exc))

    def write(base_url: str, stop: threading.Event) -> None:
        with httpx.Client(base_url=base_url, timeout=TIMEOUT, headers=admin) as http:
            for written in range(WRITES_PER_ROUND):
                if stop.is_set():
                    return
                with lock:
                    account = f"THA01-P{next(names):05d}"
                body = account_body(account)
                keyed = {"Idempotency-Key": account}
                try:
                    response = http.post("/v1/accounts", json=body, headers=keyed)
                except httpx.TransportError:
                    with lock:
                        unanswered.append(account)
                    return  # the server died: this write was never acknowledged
                if response.status_code == 201:
                    with lock:
                        acknowledged.append(account)
                else:
                    assert response.status_code == 503, response.text
                    continue
                try:
                    if written % 4 == 1:
                        # A client retry of an answered write (in the same batch as later
                        # writes, or in one of its own): the original answer, nothing appended.
                        retry = http.post("/v1/accounts", json=body, headers=keyed)
                        assert retry.status_code == 201, retry.text
                        assert retry.headers["Idempotent-Replayed"] == "true"
                        assert retry.content == response.content
                    elif written % 4 == 3:
                        # A refused command among the batch's writes: changes nothing.
                        again = http.post("/v1/accounts", json=body)
                        assert again.status_code == 409, again.text
                except httpx.TransportError:
                    return
                if written % 3 == 2:
                    try:
                        checkpoint = http.get("/v1/log/checkpoint")
                    except httpx.TransportError:
                        return
                    assert checkpoint.status_code == 200, checkpoint.text
                    with lock:
                        served.append(served_tree(checkpoint))

    env = settings_env(app_settings, **SERVER_LIMITS)
    for round_number in range(KILLS):
        with live_server(env, tmp_path) as server:
            stop = threading.Event()
            threads = [
                threading.Thread(target=writer, args=(server.base_url, stop))
                for _ in range(WRITERS)
            ]
            for thread in threads:
                thread.start()
            # Kill mid-stream: once this round has writes acknowledged (bounded wait), a moment
            # later while the writers are still posting.
            before = len(acknowledged)
            deadline = time.monotonic() + 2 * TIMEOUT
            while len(acknowledged) < before + WRITERS and time.monotonic() < deadline:
                time.sleep(0.05)
            # One checkpoint served in every round whatever the writers reached, so that the
            # prefix check below never depends on how far they got before the kill.
            checkpoint = httpx.get(server.base_url + "/v1/log/checkpoint", timeout=TIMEOUT)
            assert checkpoint.status_code == 200, checkpoint.text
            with lock:
                served.append(served_tree(checkpoint))
            time.sleep(ROUND_SECONDS)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(TIMEOUT)
            stop.set()
            for thread in threads:
                thread.join(TIMEOUT)
                assert not thread.is_alive()
        assert len(acknowledged) >= (round_number + 1) * WRITERS, server.log()
    assert not failures, failures

    report = verify_database(engine)
    assert report.ok, report.reason
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT account_id FROM account")).scalars())
    assert set(acknowledged) <= stored
    # Each account was opened by one entry: the retries and the refused duplicates appended
    # nothing.
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        entries = [Entry.from_canonical(body) for body in uow.log.read_entries(0, uow.log.size())]
    opened = Counter(
        str(entry.payload["account"]["account_id"])  # type: ignore[index, call-overload]
        for entry in entries
        if entry.kind == "account.opened"
    )
    assert all(opened[name] == 1 for name in stored)
    assert served
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        for size, root in served:
            assert uow.log.root(size) == root
    # The restarted service (in-process here) is ready and signs a checkpoint extending every
    # one it served before the kills.
    with TestClient(create_app(app_settings)) as restarted:
        assert restarted.get("/readyz").status_code == 200
        final = restarted.get("/v1/log/checkpoint")
        assert final.status_code == 200
        assert int(final.text.splitlines()[1]) >= max(size for size, _root in served)
        # A write whose answer the kill lost, retried with its key: answered 201 once, the
        # stored answer if its batch had committed, and never opened twice.
        for account in unanswered:
            retry = restarted.post(
                "/v1/accounts",
                json=account_body(account),
                headers=admin | {"Idempotency-Key": account},
            )
            assert retry.status_code == 201, retry.text
            assert (account in stored) == (retry.headers.get("Idempotent-Replayed") == "true")


def test_fifty_simultaneous_transfers_of_the_same_units_let_exactly_one_through(
    client: TestClient, jcm: dict[str, dict[str, str]], app_settings: Settings, tmp_path: Path
) -> None:
    world = jcm
    tha = world["THA01"]
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    post(client, "/v1/issuances", tha, thai_issuance(1009))
    order = {
        "from_account": "THA01-GOV",
        "to_account": "JPN01-GOV",
        "selection": {"quantity": 1009},
    }
    with live_server(settings_env(app_settings, **SERVER_LIMITS), tmp_path) as server:
        start = threading.Barrier(RACERS, timeout=TIMEOUT)

        def transfer(_: int) -> httpx.Response:
            with httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers=tha) as http:
                start.wait()
                return http.post("/v1/transfers", json=order)

        with ThreadPoolExecutor(RACERS) as pool:
            responses = list(pool.map(transfer, range(RACERS)))
        statuses = Counter(response.status_code for response in responses)
        assert statuses[201] == 1, statuses
        refused = [response for response in responses if response.status_code != 201]
        for response in refused:
            assert response.status_code == 409, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["rule"]
        with httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers=tha) as http:
            held = http.get("/v1/accounts/THA01-GOV/holdings").json()["quantity"]
        with httpx.Client(
            base_url=server.base_url, timeout=TIMEOUT, headers=world["JPN01"]
        ) as http:
            received = http.get("/v1/accounts/JPN01-GOV/holdings").json()["quantity"]
    assert (held, received) == (0, 1009)
