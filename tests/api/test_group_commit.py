"""Group commit (``app.group_commit``): write requests queued together share one transaction and
one COMMIT, and each keeps the guarantees of a transaction of its own.

A batch is composed on purpose: a gate request holds the batch being written (it waits inside
its command, under the append lock) until the requests under test are all queued behind it; they
are then written as the next batch, in one transaction (counted with the engine's commit
events)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, event, func, select, text

from app import auth
from app.auth import Principal, Role
from app.group_commit import GroupCommit
from app.idempotency import IdempotentWriteDep
from app.schemas import AccountCreate, AccountPublic
from ledger.access import authenticate, revoke_token
from ledger.adapters.sql.orm_api import idempotency_record
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork, SqlStorage
from ledger.adapters.sql.verify import verify_database
from ledger.errors import InvalidInput
from ledger.ports import UnitOfWork
from ledger.registry import services
from tests.api.conftest import TokenFactory
from tests.api.scenario import THAI_AUTHORIZATION, post, thai_issuance
from tests.api.test_jcm_decisions import DECISION as JC_DECISION
from tests.api.test_jcm_decisions import issuance as decided_issuance

router = APIRouter(prefix="/test")
gate = threading.Event()
holding = threading.Event()
TIMEOUT = 30.0


class Opened(BaseModel):
    seq: int


@router.post("/gate", status_code=201, response_model=Opened)
def hold_the_batch(write: IdempotentWriteDep) -> Response:
    def operation(uow: UnitOfWork) -> Opened:
        appended = uow.log.append("test.gate", {}, actor=write.principal.actor)
        holding.set()
        if not gate.wait(TIMEOUT):
            raise RuntimeError("the gate was never opened")
        return Opened(seq=appended.seq)

    return write.run(operation)


class Refused(InvalidInput):
    """Refused after its entry was appended and the projection written (test-only)."""

    problem_type = "test-refused-late"
    title = "Refused after writing"
    rule = "test-refused-late"


@router.post("/late-refusals", status_code=201, response_model=AccountPublic)
def open_then_refuse(body: AccountCreate, write: IdempotentWriteDep) -> Response:
    """Opens the account (an entry, a projection row, its row count) and then refuses."""

    def operation(uow: UnitOfWork) -> AccountPublic:
        services.open_account(uow, body.to_domain(), write.principal.actor)
        raise Refused("refused after writing", account_id=body.account_id)

    return write.run(operation)


@router.post("/buffered-refusals", status_code=201, response_model=Opened)
def append_then_refuse(write: IdempotentWriteDep) -> Response:
    """Appends two entries (buffered: nothing reaches the database) and then refuses."""

    def operation(uow: UnitOfWork) -> Opened:
        for n in range(2):
            uow.log.append("test.note", {"n": n}, actor=write.principal.actor)
        raise Refused("refused before anything was written")

    return write.run(operation)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


@pytest.fixture(autouse=True)
def _closed_gate() -> Iterator[None]:
    gate.clear()
    holding.clear()
    yield
    gate.set()


def commits_of(engine: Engine) -> tuple[list[int], Callable[[], None]]:
    """A counter of the commits on ``engine`` and the function that stops counting."""
    commits = [0]

    def count(*_args: object) -> None:
        commits[0] += 1

    event.listen(engine, "commit", count)
    return commits, lambda: event.remove(engine, "commit", count)


@contextmanager
def one_batch(client: TestClient, app: FastAPI, admin: dict[str, str]) -> Iterator[Any]:
    """Requests sent with the yielded ``send(path, headers, json)`` are queued behind the gate,
    in that order, and written as ONE batch when the block ends; ``batch.responses`` then holds
    their responses and ``batch.commits`` the commits made meanwhile."""
    writes: GroupCommit = app.state.group_commit
    engine: Engine = app.state.storage.engine
    with ThreadPoolExecutor(9) as pool:
        held = pool.submit(client.post, "/test/gate", headers=admin)
        assert holding.wait(TIMEOUT), "the gate request did not start its batch"
        sent: list[Future[httpx.Response]] = []

        def send(path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
            """Queue one request, after the ones sent before it (queue order = send order)."""
            sent.append(pool.submit(client.post, path, headers=headers, json=body))
            deadline = time.monotonic() + TIMEOUT
            while writes.queued < len(sent) and time.monotonic() < deadline:
                time.sleep(0.005)
            assert writes.queued == len(sent), "a request did not queue behind the gate"

        class Batch:
            commits = [0]
            responses: list[httpx.Response] = []

        yield send, Batch
        commits, stop = commits_of(engine)
        try:
            gate.set()
            assert held.result(TIMEOUT).status_code == 201
            Batch.responses = [future.result(TIMEOUT) for future in sent]
        finally:
            stop()
        Batch.commits = commits


def ledger_size(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return uow.log.size()


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return headers | {"Idempotency-Key": key}


def transfer(quantity: int) -> dict[str, Any]:
    return {
        "from_account": "THA01-GOV",
        "to_account": "JPN01-GOV",
        "selection": {"quantity": quantity},
    }


def holdings(client: TestClient, account: str, headers: dict[str, str]) -> int:
    response = client.get(f"/v1/accounts/{account}/holdings", headers=headers)
    assert response.status_code == 200, response.text
    quantity: int = response.json()["quantity"]
    return quantity


def test_a_refused_command_is_rolled_back_alone_and_its_batch_mates_commit(
    client: TestClient, app: FastAPI, jcm: dict[str, dict[str, str]], engine: Engine
) -> None:
    tha, jpn, admin = jcm["THA01"], jcm["JPN01"], jcm["admin"]
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION)
    post(client, "/v1/issuances", tha, thai_issuance(1000))
    size = ledger_size(engine)
    with one_batch(client, app, admin) as (send, batch):
        send("/v1/transfers", keyed(tha, "t1"), transfer(100))
        send("/v1/transfers", keyed(tha, "too-many"), transfer(5000))  # more than held: 409
        send("/v1/transfers", keyed(tha, "t2"), transfer(200))
        send("/v1/transfers", keyed(jpn, "not-theirs"), transfer(10))  # not JPN01's units: 403
        send("/v1/transfers", keyed(tha, "t3"), transfer(300))
        send("/v1/transfers", keyed(tha, "t4"), transfer(401))  # 400 left: 409
    # The gate's batch and the batch of the six requests: one commit each.
    assert batch.commits == [2]
    statuses = [response.status_code for response in batch.responses]
    assert statuses == [201, 409, 201, 403, 201, 409], [r.text for r in batch.responses]
    for refused in (batch.responses[i] for i in (1, 3, 5)):
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["rule"]
        assert "A6-Ledger-Seq" not in refused.headers
    accepted = [batch.responses[i] for i in (0, 2, 4)]
    ranges = [
        (int(response.headers["A6-Ledger-First-Seq"]), int(response.headers["A6-Ledger-Seq"]))
        for response in accepted
    ]
    # The gate's entry, then the entries of each accepted transfer, in the order they were
    # queued, with no gap where the refused ones were.
    assert ranges[0][0] == size + 1
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(ranges))
    final_size = ranges[-1][1] + 1
    assert ledger_size(engine) == final_size
    assert holdings(client, "THA01-GOV", tha) == 400
    assert holdings(client, "JPN01-GOV", jpn) == 600
    with engine.connect() as conn:
        keys = set(conn.execute(select(idempotency_record.c.idempotency_key)).scalars())
    assert keys == {"t1", "t2", "t3"}
    report = verify_database(engine)
    assert report.ok, report.reason
    # The root the service signs now is the root of the stored log (chain and Merkle tree
    # verified above), and a refused key is free for a corrected request.
    checkpoint = client.get("/v1/log/checkpoint")
    assert int(checkpoint.text.splitlines()[1]) == final_size
    again = client.post("/v1/transfers", headers=keyed(tha, "t4"), json=transfer(400))
    assert again.status_code == 201, again.text
    assert holdings(client, "THA01-GOV", tha) == 0


def test_a_command_refused_after_writing_leaves_no_trace_for_its_batch_mates(
    client: TestClient, app: FastAPI, jcm: dict[str, dict[str, str]], engine: Engine
) -> None:
    admin = jcm["admin"]
    size = ledger_size(engine)

    def account(name: str) -> dict[str, Any]:
        return {"account_id": name, "registry_id": "THA01", "account_type": "holding", "name": "x"}

    with one_batch(client, app, admin) as (send, batch):
        send("/test/late-refusals", admin, account("THA01-LATE1"))
        send("/v1/accounts", admin, account("THA01-KEPT1"))
        send("/test/late-refusals", admin, account("THA01-LATE2"))
        send("/test/late-refusals", admin, account("THA01-LATE3"))
        send("/v1/accounts", admin, account("THA01-KEPT2"))
        send("/v1/accounts", admin, account("THA01-LATE1"))  # its refused opening left nothing
    assert batch.commits == [2]
    assert [r.status_code for r in batch.responses] == [422, 201, 422, 422, 201, 201]
    # The gate's entry, then the three openings kept, each chained to the one before it.
    assert [
        int(r.headers["A6-Ledger-Seq"]) for r in map(batch.responses.__getitem__, (1, 4, 5))
    ] == [
        size + 1,
        size + 2,
        size + 3,
    ]
    assert ledger_size(engine) == size + 4
    with engine.connect() as conn:
        opened = set(conn.execute(text("SELECT account_id FROM account")).scalars())
    assert {"THA01-KEPT1", "THA01-KEPT2", "THA01-LATE1"} <= opened
    assert not {"THA01-LATE2", "THA01-LATE3"} & opened
    # Chain, Merkle tree, and the projection with its row counts, against the log.
    report = verify_database(engine)
    assert report.ok, report.reason
    later = client.post("/v1/accounts", headers=admin, json=account("THA01-LATE2"))
    assert later.status_code == 201, later.text
    assert int(later.headers["A6-Ledger-Seq"]) == size + 4


def test_a_command_refused_before_writing_is_forgotten_without_a_savepoint(
    client: TestClient, app: FastAPI, jcm: dict[str, dict[str, str]], engine: Engine
) -> None:
    admin = jcm["admin"]
    size = ledger_size(engine)
    body = {"registry_id": "THA01", "account_type": "holding", "name": "x"}
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    app_engine: Engine = app.state.storage.engine
    event.listen(app_engine, "before_cursor_execute", record)
    try:
        with one_batch(client, app, admin) as (send, batch):
            send("/v1/accounts", admin, body | {"account_id": "THA01-ONE"})
            send("/test/buffered-refusals", admin, {})
            send("/v1/accounts", admin, body | {"account_id": "THA01-TWO"})
            send("/test/buffered-refusals", admin, {})
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    assert batch.commits == [2]
    assert [r.status_code for r in batch.responses] == [201, 422, 201, 422]
    # The refused commands' entries were dropped from the buffer: the two openings follow the
    # gate's entry without a gap, and no savepoint was needed.
    assert [int(r.headers["A6-Ledger-Seq"]) for r in batch.responses[::2]] == [size + 1, size + 2]
    assert "SAVEPOINT" not in statements
    assert ledger_size(engine) == size + 3
    report = verify_database(engine)
    assert report.ok, report.reason


def test_idempotent_retries_inside_one_batch_and_across_batches_append_once(
    client: TestClient, app: FastAPI, jcm: dict[str, dict[str, str]], engine: Engine
) -> None:
    admin = jcm["admin"]
    size = ledger_size(engine)
    body = {
        "account_id": "THA01-RETRY",
        "registry_id": "THA01",
        "account_type": "holding",
        "name": "r",
    }
    other = body | {"account_id": "THA01-OTHER"}
    with one_batch(client, app, admin) as (send, batch):
        send("/v1/accounts", keyed(admin, "open-retry"), body)
        send("/v1/accounts", keyed(admin, "open-retry"), body)  # a retry in the same batch
        send("/v1/accounts", keyed(admin, "open-other"), other)
        send("/v1/accounts", keyed(admin, "open-retry"), body)
        send("/v1/accounts", keyed(admin, "open-retry"), other)  # the key, another request
    assert batch.commits == [2]
    first, retry, second, retry_again, reused = batch.responses
    assert [first.status_code, retry.status_code, second.status_code] == [201, 201, 201]
    assert retry_again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    for replayed in (retry, retry_again):
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.content == first.content
        assert replayed.headers["A6-Ledger-Seq"] == first.headers["A6-Ledger-Seq"]
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:a6ledger:problem:idempotency-key-reused"
    assert ledger_size(engine) == size + 3  # the gate, two accounts

    # A retry in a later batch (a transaction of its own) replays too.
    later = client.post("/v1/accounts", headers=keyed(admin, "open-retry"), json=body)
    assert later.status_code == 201
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.content == first.content
    assert ledger_size(engine) == size + 3
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(idempotency_record)).scalar_one()
    assert stored == 2  # open-retry and open-other (the gate's request had no key)
    assert verify_database(engine).ok


def test_a_batch_whose_commit_fails_acknowledges_none_of_its_writes(
    client: TestClient,
    app: FastAPI,
    jcm: dict[str, dict[str, str]],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = jcm["admin"]
    size = ledger_size(engine)
    real_commit = SqlAlchemyUnitOfWork.commit
    batches = [0]

    def commit_then_fail_the_second(uow: SqlAlchemyUnitOfWork) -> None:
        batches[0] += 1
        if batches[0] == 2:
            uow.log.flush()
            raise ConnectionError("the database went away at COMMIT")
        real_commit(uow)

    monkeypatch.setattr(SqlAlchemyUnitOfWork, "commit", commit_then_fail_the_second)
    failing = TestClient(app, raise_server_exceptions=False)
    with one_batch(failing, app, admin) as (send, batch):
        for n in range(3):
            account = {"account_id": f"THA01-LOST{n}", "registry_id": "THA01", "name": "l"}
            send("/v1/accounts", keyed(admin, f"lost-{n}"), account | {"account_type": "holding"})
    assert [response.status_code for response in batch.responses] == [500, 500, 500]
    assert ledger_size(engine) == size + 1  # the gate's entry only
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(idempotency_record)).scalar_one()
    assert stored == 0
    monkeypatch.setattr(SqlAlchemyUnitOfWork, "commit", real_commit)
    retried = client.post(
        "/v1/accounts",
        headers=keyed(admin, "lost-0"),
        json={"account_id": "THA01-LOST0", "registry_id": "THA01", "account_type": "holding"}
        | {"name": "l"},
    )
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert verify_database(engine).ok


@pytest.mark.usefixtures("jcm")
def test_a_write_with_a_token_revoked_after_it_was_verified_is_401_and_appends_nothing(
    client: TestClient,
    app: FastAPI,
    tokens: TokenFactory,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = tokens.issue(Role.admin)
    admin = issued.headers
    lookups = [0]

    def counted(storage: SqlStorage, token: str) -> Principal | None:
        lookups[0] += 1
        return authenticate(storage, token)

    monkeypatch.setattr(auth, "authenticate", counted)

    def account(name: str) -> dict[str, str]:
        return {"account_id": name, "registry_id": "THA01", "account_type": "holding", "name": "x"}

    assert client.post("/v1/accounts", headers=admin, json=account("THA01-A")).status_code == 201
    # The write path takes the token it verified a moment ago without looking it up again...
    assert client.post("/v1/accounts", headers=admin, json=account("THA01-B")).status_code == 201
    assert lookups == [1]
    # ... and reads look it up on every request, as before.
    assert client.get("/v1/parties/THA", headers=admin).status_code == 200
    assert lookups == [2]
    revoke_token(app.state.storage, issued.principal.token_id)
    size = ledger_size(engine)
    # The batch's transaction finds the token revoked: 401, nothing appended.
    refused = client.post("/v1/accounts", headers=admin, json=account("THA01-C"))
    assert refused.status_code == 401, refused.text
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert ledger_size(engine) == size
    assert client.get("/v1/parties/THA", headers=admin).status_code == 401


@pytest.mark.parametrize("late_refusal", [False, True], ids=["tentative", "savepoints"])
def test_issuances_of_one_batch_under_one_authorization_and_decision_add_up(
    client: TestClient,
    app: FastAPI,
    jcm: dict[str, dict[str, str]],
    engine: Engine,
    late_refusal: bool,
) -> None:
    """Each issuance of a batch sees what the earlier ones issued under the same authorization
    (units summed from the index) and decision (its ``jc_decision`` row), whether the batch is
    written tentatively or, after a command refused once it had written, again with a savepoint
    around each command."""
    tha, admin = jcm["THA01"], jcm["admin"]
    pp = {"account_id": "THA01-PP", "registry_id": "THA01", "account_type": "holding", "name": "PP"}
    post(client, "/v1/accounts", admin, pp)
    post(client, "/v1/accounts", admin, pp | {"account_id": "THA01-JPNGOV"})
    post(client, "/v1/authorizations", tha, THAI_AUTHORIZATION | {"quantity": 700})
    post(client, "/v1/jcm-decisions", tha, JC_DECISION)  # 400 to THA01-PP, 100 to THA01-GOV
    post(client, "/v1/issuances", tha, thai_issuance(200))  # no decision cited
    free = decided_issuance([("THA01-GOV", 150)])
    del free["decision_reference"]
    with one_batch(client, app, admin) as (send, batch):
        send("/v1/issuances", keyed(tha, "i1"), decided_issuance([("THA01-PP", 150)]))
        send("/v1/issuances", keyed(tha, "i2"), decided_issuance([("THA01-PP", 150)]))
        send("/v1/issuances", keyed(tha, "i3"), decided_issuance([("THA01-PP", 150)]))
        if late_refusal:
            send("/test/late-refusals", admin, pp | {"account_id": "THA01-LATE"})
        send("/v1/issuances", keyed(tha, "i4"), free)
        send("/v1/issuances", keyed(tha, "i5"), decided_issuance([("THA01-PP", 100)]))
        send("/v1/issuances", keyed(tha, "i6"), decided_issuance([("THA01-PP", 50)]))
        send("/v1/issuances", keyed(tha, "i7"), decided_issuance([("THA01-GOV", 1)]))
    assert batch.commits == [2]  # the gate's batch, then this one
    responses = [r for r in batch.responses if r.request.url.path == "/v1/issuances"]
    if late_refusal:
        assert batch.responses[3].json()["rule"] == "test-refused-late"
    statuses = [(r.status_code, r.json().get("rule")) for r in responses]
    assert statuses == [
        (201, None),
        (201, None),  # the decision: 300 of 400 to THA01-PP; the authorization: 500 of 700
        (409, "issuance-within-jc-decision"),
        (201, None),  # 650 of 700 under the authorization
        (409, "authorization-limits"),
        (201, None),  # 350 of 400, 700 of 700
        (409, "authorization-limits"),
    ], [r.text for r in responses]
    decision = client.get(f"/v1/jcm-decisions/{JC_DECISION['decision_id']}", headers=admin)
    issued = {s["account_id"]: s["issued"] for s in decision.json()["shares"]}
    assert issued == {"THA01-JPNGOV": 0, "THA01-GOV": 0, "THA01-PP": 350}
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        assert uow.projection.authorized_quantity(THAI_AUTHORIZATION["authorization_id"]) == 700
    report = verify_database(engine)
    assert report.ok, report.reason
