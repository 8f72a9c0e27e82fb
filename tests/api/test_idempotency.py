"""Idempotent writes: replays, key reuse, rollback on domain errors, concurrency, ledger headers."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, func, select

from app.auth import Role
from app.idempotency import (
    IdempotentWriteDep,
    canonical_body,
    request_fingerprint,
    write_responses,
)
from ledger.adapters.sql.orm_api import idempotency_record
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import InvalidInput
from ledger.ports import UnitOfWork
from tests.api.conftest import TokenFactory

router = APIRouter(prefix="/test")
CONCURRENT_REQUESTS = 4
barrier = threading.Barrier(CONCURRENT_REQUESTS, timeout=30)


class NoteCreate(BaseModel):
    text: str
    count: int = 1
    fail: bool = False


class NotePublic(BaseModel):
    text: str
    seqs: list[int]


class NoteRefused(InvalidInput):
    """The note was refused (test-only domain error)."""

    problem_type = "note-refused"
    title = "The note was refused"
    rule = "test-note"


def _append_notes(uow: UnitOfWork, body: NoteCreate, actor: str) -> NotePublic:
    seqs = [
        uow.log.append("test.note", {"text": body.text, "n": n}, actor=actor).seq
        for n in range(body.count)
    ]
    if body.fail:
        raise NoteRefused("the note asked to be refused", text=body.text)
    return NotePublic(text=body.text, seqs=seqs)


@router.post(
    "/notes", status_code=201, response_model=NotePublic, responses=write_responses(201, 409)
)
def create_note(body: NoteCreate, write: IdempotentWriteDep) -> Response:
    return write.run(
        lambda uow: _append_notes(uow, body, write.principal.actor),
        location=lambda note: f"/test/notes/{note.seqs[-1] if note.seqs else 'none'}",
    )


@router.post("/other-notes", status_code=202, response_model=NotePublic)
def create_other_note(body: NoteCreate, write: IdempotentWriteDep) -> Response:
    return write.run(
        lambda uow: _append_notes(uow, body, write.principal.actor).seqs,
        lambda seqs: NotePublic(text=body.text.upper(), seqs=seqs),
    )


@router.post("/slow-notes", status_code=201, response_model=NotePublic)
def create_slow_note(body: NoteCreate, write: IdempotentWriteDep) -> Response:
    barrier.wait()

    def operation(uow: UnitOfWork) -> NotePublic:
        # Hold the append lock long enough for the other requests to queue behind it.
        time.sleep(0.3)
        return _append_notes(uow, body, write.principal.actor)

    return write.run(operation)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


@pytest.fixture(autouse=True)
def _fresh_barrier() -> None:
    barrier.reset()


@pytest.fixture
def writer(tokens: TokenFactory) -> dict[str, str]:
    return tokens(Role.registry, "JPN01")


def ledger_size(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return uow.log.size()


def record_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(idempotency_record)).scalar_one())


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def ledger_headers(response: httpx.Response) -> dict[str, str]:
    names = ("a6-ledger-seq", "a6-ledger-first-seq", "a6-tree-size", "location", "content-type")
    return {name: response.headers[name] for name in names if name in response.headers}


# --- fingerprint ------------------------------------------------------------------------------


def test_canonical_body_ignores_whitespace_and_member_order() -> None:
    a = b'{"text": "x", "count": 2, "nested": {"b": [1, 2.50], "a": null}}'
    b = b'{"nested":{"a":null,"b":[1,2.50]},"count":2,"text":"x"}'
    assert canonical_body(a) == canonical_body(b)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (b'{"a": 1.0}', b'{"a": "1.0"}'),
        (b'{"a": 1}', b'{"a": "1"}'),
        (b'{"a": 1}', b'{"a": true}'),
        (b'{"a": null}', b'{"a": "null"}'),
        (b'{"a": 10000000000000000000001}', b'{"a": 10000000000000000000000}'),
        (b'{"a": 0.1}', b'{"a": 0.10000000000000001}'),
        (b"not json", b'"not json"'),
        (b"", b'""'),
    ],
)
def test_canonical_body_tells_different_bodies_apart(left: bytes, right: bytes) -> None:
    assert canonical_body(left) != canonical_body(right)


def test_fingerprint_covers_method_path_and_query() -> None:
    body = b'{"a":1}'
    base = request_fingerprint("POST", "/v1/x", "", body)
    assert base == request_fingerprint("post", "/v1/x", "", b'{ "a" : 1 }')
    assert base != request_fingerprint("PUT", "/v1/x", "", body)
    assert base != request_fingerprint("POST", "/v1/y", "", body)
    assert base != request_fingerprint("POST", "/v1/x", "dry_run=true", body)
    assert len(base) == 32


# --- writes without a key ---------------------------------------------------------------------


def test_every_write_reports_its_seqs_and_tree_size(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    start = ledger_size(engine)
    one = client.post("/test/notes", json={"text": "a"}, headers=writer)
    assert one.status_code == 201, one.text
    assert one.json() == {"text": "a", "seqs": [start]}
    assert one.headers["A6-Ledger-Seq"] == str(start)
    assert one.headers["A6-Ledger-First-Seq"] == str(start)
    assert one.headers["A6-Tree-Size"] == str(start + 1)
    assert one.headers["Location"] == f"/test/notes/{start}"
    assert one.headers["content-type"] == "application/json"
    assert "Idempotent-Replayed" not in one.headers

    three = client.post("/test/notes", json={"text": "b", "count": 3}, headers=writer)
    assert three.json()["seqs"] == [start + 1, start + 2, start + 3]
    assert three.headers["A6-Ledger-First-Seq"] == str(start + 1)
    assert three.headers["A6-Ledger-Seq"] == str(start + 3)
    assert three.headers["A6-Tree-Size"] == str(start + 4)
    assert ledger_size(engine) == start + 4
    assert record_count(engine) == 0


def test_a_write_that_appends_nothing_reports_only_the_tree_size(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    response = client.post("/test/notes", json={"text": "none", "count": 0}, headers=writer)
    assert response.status_code == 201
    assert "A6-Ledger-Seq" not in response.headers
    assert response.headers["A6-Tree-Size"] == str(ledger_size(engine))


def test_status_code_defaults_to_the_routes_and_present_converts(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post("/test/other-notes", json={"text": "abc"}, headers=writer)
    assert response.status_code == 202
    assert response.json()["text"] == "ABC"


def test_writes_require_a_token(client: TestClient, engine: Engine) -> None:
    size = ledger_size(engine)
    response = client.post("/test/notes", json={"text": "a"}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 401
    assert ledger_size(engine) == size


# --- replays ----------------------------------------------------------------------------------


def test_retry_with_the_same_key_returns_the_original_response(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    headers = with_key(writer, "order-7f3a")
    first = client.post("/test/notes", json={"text": "a", "count": 2}, headers=headers)
    assert first.status_code == 201
    size = ledger_size(engine)
    # Other writes move the log on; the replay still reports the original positions.
    client.post("/test/notes", json={"text": "other"}, headers=writer)

    retry = client.post(
        "/test/notes",
        content=b'{ "count": 2,\n  "text": "a" }',
        headers={**headers, "content-type": "application/json"},
    )
    assert retry.status_code == 201
    assert retry.content == first.content
    assert ledger_headers(retry) == ledger_headers(first)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert ledger_size(engine) == size + 1
    assert record_count(engine) == 1

    again = client.post("/test/notes", json={"text": "a", "count": 2}, headers=headers)
    assert again.content == first.content
    assert ledger_size(engine) == size + 1


def test_record_stores_the_seq_range_and_tree_size(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    response = client.post(
        "/test/notes", json={"text": "a", "count": 3}, headers=with_key(writer, "k1")
    )
    with engine.connect() as conn:
        row = conn.execute(select(idempotency_record)).one()
    assert row.idempotency_key == "k1"
    assert row.first_seq == response.json()["seqs"][0]
    assert row.last_seq == response.json()["seqs"][-1]
    assert row.tree_size == row.last_seq + 1
    assert row.response_status == 201
    assert row.request_method == "POST"
    assert row.request_path == "/test/notes"
    assert bytes(row.response_body) == response.content
    assert ["A6-Ledger-Seq", str(row.last_seq)] in json.loads(row.response_headers)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/test/notes", {"text": "b"}),
        ("/test/notes", {"text": "a", "count": 2}),
        ("/test/other-notes", {"text": "a"}),
    ],
)
def test_same_key_for_a_different_request_is_422(
    client: TestClient, writer: dict[str, str], engine: Engine, path: str, body: dict[str, object]
) -> None:
    headers = with_key(writer, "reused")
    assert client.post("/test/notes", json={"text": "a"}, headers=headers).status_code == 201
    size = ledger_size(engine)
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:a6ledger:problem:idempotency-key-reused"
    assert problem["status"] == 422
    assert problem["idempotency_key"] == "reused"
    assert problem["first_request"] == "POST /test/notes"
    assert problem["instance"] == path
    assert ledger_size(engine) == size
    assert record_count(engine) == 1


def test_keys_belong_to_the_token_that_used_them(
    client: TestClient, tokens: TokenFactory, engine: Engine
) -> None:
    japan, thailand = tokens("registry", "JPN01"), tokens("registry", "THA01")
    body = {"text": "same"}
    size = ledger_size(engine)
    one = client.post("/test/notes", json=body, headers=with_key(japan, "shared"))
    two = client.post("/test/notes", json=body, headers=with_key(thailand, "shared"))
    assert one.status_code == two.status_code == 201
    assert "Idempotent-Replayed" not in two.headers
    assert one.json()["seqs"] != two.json()["seqs"]
    assert ledger_size(engine) == size + 2


def test_domain_error_rolls_back_and_the_key_stays_usable(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    headers = with_key(writer, "retry-me")
    size = ledger_size(engine)
    refused = client.post(
        "/test/notes", json={"text": "a", "count": 2, "fail": True}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:a6ledger:problem:note-refused"
    assert ledger_size(engine) == size
    assert record_count(engine) == 0

    fixed = client.post("/test/notes", json={"text": "a", "count": 2}, headers=headers)
    assert fixed.status_code == 201
    assert fixed.json()["seqs"] == [size, size + 1]
    assert ledger_size(engine) == size + 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "caf\x7f"])
def test_malformed_keys_are_422(
    client: TestClient, writer: dict[str, str], engine: Engine, key: str
) -> None:
    size = ledger_size(engine)
    response = client.post("/test/notes", json={"text": "a"}, headers=with_key(writer, key))
    assert response.status_code == 422
    assert response.json()["type"] == "urn:a6ledger:problem:request-validation"
    assert ledger_size(engine) == size


def test_longest_printable_key_is_accepted(client: TestClient, writer: dict[str, str]) -> None:
    key = "".join(chr(32 + i % 95) for i in range(255)).strip()
    response = client.post("/test/notes", json={"text": "a"}, headers=with_key(writer, key))
    assert response.status_code == 201, response.text


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_requests_with_one_key_append_once(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    size = ledger_size(engine)
    headers = with_key(writer, "concurrent")

    def post(_: int) -> httpx.Response:
        response: httpx.Response = client.post(
            "/test/slow-notes", json={"text": "c", "count": 2}, headers=headers
        )
        return response

    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        responses = list(pool.map(post, range(CONCURRENT_REQUESTS)))
    assert [r.status_code for r in responses] == [201] * CONCURRENT_REQUESTS
    assert {r.content for r in responses} == {responses[0].content}
    originals = [r for r in responses if "Idempotent-Replayed" not in r.headers]
    assert len(originals) == 1
    assert all(
        ledger_headers(r) == ledger_headers(originals[0])
        for r in responses
        if r is not originals[0]
    )
    assert ledger_size(engine) == size + 2
    assert record_count(engine) == 1


def test_concurrent_requests_with_different_keys_all_append(
    client: TestClient, writer: dict[str, str], engine: Engine
) -> None:
    size = ledger_size(engine)

    def post(i: int) -> httpx.Response:
        response: httpx.Response = client.post(
            "/test/slow-notes", json={"text": f"n{i}"}, headers=with_key(writer, f"key-{i}")
        )
        return response

    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        responses = list(pool.map(post, range(CONCURRENT_REQUESTS)))
    seqs = sorted(seq for r in responses for seq in r.json()["seqs"])
    assert seqs == list(range(size, size + CONCURRENT_REQUESTS))
    assert ledger_size(engine) == size + CONCURRENT_REQUESTS


def test_openapi_documents_the_key_and_the_ledger_headers(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/test/notes"]["post"]
    assert any(
        p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]
    )
    headers = operation["responses"]["201"]["headers"]
    assert {"A6-Ledger-Seq", "A6-Tree-Size", "Idempotent-Replayed"} <= set(headers)
    assert {"401", "403", "409", "422"} <= set(operation["responses"])
