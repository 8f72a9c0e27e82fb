"""Cursor pagination: strict opaque cursors, bounded limits, no skips or repeats under appends."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine

from app.auth import ReaderDep, Role
from app.deps import ReadUowDep
from app.pagination import (
    Cursor,
    CursorDep,
    InvalidCursor,
    LimitDep,
    Page,
    decode_cursor,
    encode_cursor,
    page_of,
)
from app.settings import Settings
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log.chain import Entry
from tests.api.conftest import TokenFactory
from tests.api.scenario import collect, post, run_jcm_flow

MAX_PAGE = 7
DEFAULT_PAGE = 3

router = APIRouter(prefix="/test")


class EntryItem(BaseModel):
    seq: int
    kind: str


class KindItem(BaseModel):
    kind: str


@router.get("/entries")
def list_entries(
    uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep
) -> Page[EntryItem]:
    after = cursor.after_seq()
    start = 0 if after is None else after + 1
    end = min(uow.log.size(), start + limit + 1)
    entries = [Entry.from_canonical(b) for b in uow.log.read_entries(start, end)]
    return page_of([EntryItem(seq=e.seq, kind=e.kind) for e in entries], limit, lambda e: e.seq)


@router.get("/kinds")
def list_kinds(uow: ReadUowDep, _: ReaderDep, limit: LimitDep, cursor: CursorDep) -> Page[KindItem]:
    after = cursor.after_key()
    size = uow.log.size()
    kinds = sorted({Entry.from_canonical(b).kind for b in uow.log.read_entries(0, size)})
    found = [k for k in kinds if after is None or k > after][: limit + 1]
    return page_of([KindItem(kind=k) for k in found], limit, lambda k: k.kind)


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    return app_settings.model_copy(
        update={"max_page_size": MAX_PAGE, "default_page_size": DEFAULT_PAGE}
    )


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


@pytest.fixture
def reader(tokens: TokenFactory) -> dict[str, str]:
    return tokens(Role.auditor)


def append(engine: Engine, count: int, kind: str = "test.page") -> None:
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        for n in range(count):
            uow.log.append(kind, {"n": n}, actor="test")
        uow.commit()


def ledger_size(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return uow.log.size()


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


# --- cursors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("after", [0, 1, 2**53, 2**63 - 1, "JPN01", "ca/ü", "x" * 512])
def test_cursor_round_trips(after: int | str) -> None:
    cursor = encode_cursor(after)
    assert decode_cursor(cursor) == after
    assert "=" not in cursor
    assert cursor.isascii()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "e30",  # {}
        b64('{"after":1}') + "=",
        b64('{"after": 1}'),
        b64('{"after":1,"x":2}'),
        b64('{"after":-1}'),
        b64('{"after":9223372036854775808}'),
        b64('{"after":1.5}'),
        b64('{"after":1e3}'),
        b64('{"after":NaN}'),
        b64('{"after":true}'),
        b64('{"after":null}'),
        b64('{"after":""}'),
        b64('{"after":[1]}'),
        b64('{"after":"' + "x" * 513 + '"}'),
        b64("[1]"),
        b64("1"),
        "A" * 2000,
        "é",
    ],
)
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_cursor_kinds_are_not_interchangeable() -> None:
    assert Cursor(5).after_seq() == 5
    assert Cursor("JPN01").after_key() == "JPN01"
    assert Cursor().after_seq() is None
    assert Cursor().after_key() is None
    with pytest.raises(InvalidCursor):
        Cursor("JPN01").after_seq()
    with pytest.raises(InvalidCursor):
        Cursor(5).after_key()


def test_page_of_sets_the_cursor_only_when_more_items_exist() -> None:
    full = page_of([1, 2, 3, 4], 3, lambda n: n)
    assert full.items == [1, 2, 3]
    assert full.next_cursor is not None
    assert decode_cursor(full.next_cursor) == 3
    last = page_of([1, 2, 3], 3, lambda n: n)
    assert last.next_cursor is None
    assert page_of([], 3, lambda n: n).next_cursor is None


# --- over HTTP --------------------------------------------------------------------------------


def test_pages_walk_every_entry_once(
    client: TestClient, reader: dict[str, str], engine: Engine
) -> None:
    append(engine, 10)
    size = ledger_size(engine)
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 4}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get("/test/entries", params=params, headers=reader)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["limit"] == 4
        assert len(page["items"]) <= 4
        seen.extend(item["seq"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(size))
    assert pages == -(-size // 4)


def test_appends_between_fetches_never_cause_skips_or_repeats(
    client: TestClient, reader: dict[str, str], engine: Engine
) -> None:
    append(engine, 5)
    seen: list[int] = []
    cursor: str | None = None
    for round_ in range(100):
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/test/entries", params=params, headers=reader).json()
        seen.extend(item["seq"] for item in page["items"])
        cursor = page["next_cursor"]
        if round_ < 10:
            # The reader stays behind the head while 1-3 entries are appended per page.
            assert cursor is not None
            append(engine, 1 + round_ % 3)
        elif cursor is None:
            break
    assert seen == list(range(ledger_size(engine)))
    assert len(seen) == 6 + 19


def test_limit_defaults_and_is_capped(
    client: TestClient, reader: dict[str, str], engine: Engine
) -> None:
    append(engine, 20)
    default = client.get("/test/entries", headers=reader).json()
    assert default["limit"] == DEFAULT_PAGE
    assert len(default["items"]) == DEFAULT_PAGE
    capped = client.get("/test/entries", params={"limit": 10**9}, headers=reader).json()
    assert capped["limit"] == MAX_PAGE
    assert len(capped["items"]) == MAX_PAGE


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "1.5"])
def test_bad_limit_is_422(client: TestClient, reader: dict[str, str], limit: str) -> None:
    response = client.get("/test/entries", params={"limit": limit}, headers=reader)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:a6ledger:problem:request-validation"


@pytest.mark.parametrize("cursor", ["garbage", b64('{"after":-5}'), encode_cursor("JPN01")])
def test_bad_cursor_is_a_422_problem(
    client: TestClient, reader: dict[str, str], cursor: str
) -> None:
    response = client.get("/test/entries", params={"cursor": cursor}, headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:a6ledger:problem:invalid-cursor"
    assert problem["rule"] == "cursor"


def test_string_keyed_lists_page_too(
    client: TestClient, reader: dict[str, str], engine: Engine
) -> None:
    for kind in ("test.c", "test.a", "test.e", "test.b", "test.d"):
        append(engine, 1, kind)
    kinds: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/test/kinds", params=params, headers=reader).json()
        kinds.extend(item["kind"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert kinds == sorted(set(kinds))
    assert {"test.a", "test.b", "test.c", "test.d", "test.e", "token.created"} <= set(kinds)


def test_lists_require_a_token(client: TestClient) -> None:
    assert client.get("/test/entries").status_code == 401


def test_openapi_names_the_page_schema(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    page = schemas["Page_EntryItem_"]
    assert set(page["properties"]) == {"items", "next_cursor", "limit"}


def test_cursor_wire_format_is_documented_json() -> None:
    raw = base64.urlsafe_b64decode(encode_cursor(42) + "==")
    assert json.loads(raw) == {"after": 42}


# --- the registry's lists -----------------------------------------------------------------------


def test_string_keys_page_in_code_point_order_on_every_database(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    """A collation that ignores punctuation would put JPN01-AB before JPN01-A-Z; cursors compare
    code points, so the lists must too, or pages would skip and repeat accounts."""
    admin = jcm["admin"]
    for account_id in ("JPN01-AB", "JPN01-A-Z", "JPN01-A", "JPN01-A0", "JPN01-Z"):
        post(
            client,
            "/v1/accounts",
            admin,
            {
                "account_id": account_id,
                "registry_id": "JPN01",
                "account_type": "holding",
                "name": account_id,
            },
        )
    listed = [a["account_id"] for a in collect(client, "/v1/accounts", admin)]
    assert listed == sorted(listed)
    assert listed.index("JPN01-A-Z") < listed.index("JPN01-A0") < listed.index("JPN01-AB")
    japan = [a["account_id"] for a in collect(client, "/v1/accounts", admin, registry_id="JPN01")]
    assert japan == [a for a in listed if a.startswith("JPN01-")]
    assert [p["code"] for p in collect(client, "/v1/parties", admin)] == ["JPN", "THA"]
    assert [r["registry_id"] for r in collect(client, "/v1/registries", admin)] == [
        "JPN01",
        "THA01",
    ]


def test_a_string_cursor_holding_nul_pages_as_if_cut_there(
    client: TestClient, jcm: dict[str, dict[str, str]]
) -> None:
    """PostgreSQL text cannot hold NUL: a cursor key with one still pages, on both databases."""
    page = client.get(
        "/v1/accounts", params={"cursor": encode_cursor("JPN01-GOV\u0000x")}, headers=jcm["admin"]
    )
    assert page.status_code == 200, page.text
    assert [a["account_id"] for a in page.json()["items"]][:1] == ["JPN01-NDC"]


def test_block_lists_page_by_block_id(client: TestClient, jcm: dict[str, dict[str, str]]) -> None:
    run_jcm_flow(client, jcm)
    reader = jcm["reconciler"]
    current = collect(client, "/v1/blocks", reader)
    every = collect(client, "/v1/blocks", reader, include_superseded="true")
    ids = [b["block_id"] for b in every]
    assert ids == sorted(ids)
    assert {b["block_id"] for b in current} < set(ids)
    japan = collect(client, "/v1/blocks", reader, account_id="JPN01-NDC")
    assert japan
    assert all(b["account_id"] == "JPN01-NDC" for b in japan)
    holdings = client.get("/v1/accounts/JPN01-NDC/holdings", headers=reader).json()
    assert [b["block_id"] for b in holdings["blocks"]] == [b["block_id"] for b in japan]
