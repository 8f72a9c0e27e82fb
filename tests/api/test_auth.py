"""Bearer tokens and roles: 401/403 problems, registry binding, hashed storage, ledger records."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from app import cli
from app.auth import (
    AdminDep,
    PrincipalDep,
    ReaderDep,
    RegistryWriterDep,
    Role,
    ensure_registry,
)
from app.idempotency import IdempotentWriteDep
from app.settings import get_settings
from ledger.access import format_token, hash_secret, list_tokens, parse_token, revoke_token
from ledger.adapters.sql.orm import metadata
from ledger.adapters.sql.orm_api import api_token
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork, SqlStorage
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from tests.api.conftest import TokenFactory
from tests.api.logs import json_lines

router = APIRouter(prefix="/test")


class WhoAmI(BaseModel):
    token_id: str
    role: str
    registry_id: str | None
    actor: str


class MovePublic(BaseModel):
    registry_id: str
    seq: int


@router.get("/whoami")
def whoami(principal: PrincipalDep) -> WhoAmI:
    return WhoAmI(
        token_id=principal.token_id,
        role=principal.role.value,
        registry_id=principal.registry_id,
        actor=principal.actor,
    )


@router.get("/admin-only")
def admin_only(principal: AdminDep) -> WhoAmI:
    return whoami(principal)


@router.get("/read")
def read(principal: ReaderDep) -> WhoAmI:
    return whoami(principal)


@router.post("/registries/{registry_id}/moves", status_code=201, response_model=MovePublic)
def move_units(
    registry_id: str, principal: RegistryWriterDep, write: IdempotentWriteDep
) -> Response:
    ensure_registry(principal, registry_id)

    def operation(uow: UnitOfWork) -> MovePublic:
        entry = uow.log.append("test.move", {"registry": registry_id}, actor=principal.actor)
        return MovePublic(registry_id=registry_id, seq=entry.seq)

    return write.run(operation)


@router.post("/admin-moves/{registry_id}", status_code=201, response_model=MovePublic)
def admin_moves(registry_id: str, principal: AdminDep, write: IdempotentWriteDep) -> Response:
    ensure_registry(principal, registry_id)
    return write.run(lambda uow: MovePublic(registry_id=registry_id, seq=uow.log.size()))


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


def ledger_size(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return uow.log.size()


def ledger_entries(engine: Engine) -> list[Entry]:
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        return [Entry.from_canonical(b) for b in uow.log.read_entries(0, uow.log.size())]


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:a6ledger:problem:{slug}"
    assert body["status"] == status
    assert isinstance(body, dict)
    return body


# --- token text and management ----------------------------------------------------------------


# --- 401 / 403 --------------------------------------------------------------------------------


def test_missing_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/test/whoami")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        "Bearer a6l_tok_aaaaaaaaaaaa_" + "A" * 43,
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "WRONG_SECRET",
        "UPPERCASED",
    ],
)
def test_bad_token_is_401(client: TestClient, tokens: TokenFactory, authorization: str) -> None:
    issued = tokens.issue(Role.admin)
    if authorization == "WRONG_SECRET":
        token_id = issued.principal.token_id
        authorization = f"Bearer {format_token(token_id, 'B' * 43)}"
    elif authorization == "UPPERCASED":
        authorization = f"Bearer {issued.token.upper()}"
    response = client.get("/test/whoami", headers={"Authorization": authorization})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_valid_token_identifies_the_principal(client: TestClient, tokens: TokenFactory) -> None:
    issued = tokens.issue(Role.registry, "JPN01")
    response = client.get("/test/whoami", headers=issued.headers)
    assert response.status_code == 200
    assert response.json() == {
        "token_id": issued.principal.token_id,
        "role": "registry",
        "registry_id": "JPN01",
        "actor": f"token:{issued.principal.token_id}",
    }
    # The bearer scheme is case-insensitive (RFC 9110 §11.1).
    lower = {"Authorization": issued.headers["Authorization"].replace("Bearer", "bearer")}
    assert client.get("/test/whoami", headers=lower).status_code == 200


def test_revoked_token_is_401_at_once(
    client: TestClient, tokens: TokenFactory, storage: SqlStorage
) -> None:
    issued = tokens.issue(Role.auditor)
    assert client.get("/test/read", headers=issued.headers).status_code == 200
    revoke_token(storage, issued.principal.token_id)
    response = client.get("/test/read", headers=issued.headers)
    assert_problem(response, 401, "unauthenticated")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("role", ["registry", "reconciler", "auditor"])
def test_wrong_role_is_403(client: TestClient, tokens: TokenFactory, role: str) -> None:
    headers = tokens(role, "JPN01" if role == "registry" else None)
    response = client.get("/test/admin-only", headers=headers)
    assert_problem(response, 403, "forbidden")


def test_every_role_may_read(client: TestClient, tokens: TokenFactory) -> None:
    for role, registry_id in [
        ("admin", None),
        ("registry", "THA01"),
        ("reconciler", None),
        ("auditor", None),
    ]:
        response = client.get("/test/read", headers=tokens(role, registry_id))
        assert response.status_code == 200, role
        assert response.json()["role"] == role


def test_registry_token_moves_only_its_own_units(
    client: TestClient, tokens: TokenFactory, engine: Engine
) -> None:
    japan = tokens("registry", "JPN01")
    size = ledger_size(engine)
    refused = client.post("/test/registries/THA01/moves", headers=japan)
    body = assert_problem(refused, 403, "forbidden")
    assert "JPN01" in str(body["detail"])
    assert "THA01" in str(body["detail"])
    assert ledger_size(engine) == size

    allowed = client.post("/test/registries/JPN01/moves", headers=japan)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json() == {"registry_id": "JPN01", "seq": size}
    assert ledger_size(engine) == size + 1


@pytest.mark.parametrize("role", ["admin", "reconciler", "auditor"])
def test_only_registry_tokens_move_units(
    client: TestClient, tokens: TokenFactory, engine: Engine, role: str
) -> None:
    headers = tokens(role)
    size = ledger_size(engine)
    assert_problem(client.post("/test/registries/JPN01/moves", headers=headers), 403, "forbidden")
    assert ledger_size(engine) == size


def test_ensure_registry_refuses_admin_even_on_an_admin_route(
    client: TestClient, tokens: TokenFactory
) -> None:
    response = client.post("/test/admin-moves/JPN01", headers=tokens("admin"))
    body = assert_problem(response, 403, "forbidden")
    assert "admin" in str(body["detail"])


# --- secrets never stored, ledger names the token id ------------------------------------------


def _all_stored_values(engine: Engine) -> list[bytes]:
    values: list[bytes] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        values.append(bytes(value))
                    else:
                        values.append(str(value).encode("utf-8"))
    return values


def test_tokens_are_stored_only_as_hashes(
    client: TestClient, tokens: TokenFactory, engine: Engine, backend: str, database_url: str
) -> None:
    issued = [tokens.issue(Role.registry, "JPN01"), tokens.issue(Role.admin)]
    for key in ("k1", "k2"):
        write = client.post(
            "/test/registries/JPN01/moves", headers={**issued[0].headers, "Idempotency-Key": key}
        )
        assert write.status_code == 201
    stored = _all_stored_values(engine)
    with engine.connect() as conn:
        hashes = dict(conn.execute(select(api_token.c.token_id, api_token.c.secret_hash)).all())
    for token in issued:
        token_id, secret = parse_token(token.token) or ("", "")
        assert bytes(hashes[token_id]) == hashlib.sha256(secret.encode()).digest()
        assert bytes(hashes[token_id]) == hash_secret(secret)
        for value in stored:
            assert secret.encode() not in value
            assert token.token.encode() not in value
        if backend == "sqlite":
            path = Path(make_url(database_url).database or "")
            for suffix in ("", "-wal"):
                file = Path(f"{path}{suffix}")
                if file.exists():
                    assert secret.encode() not in file.read_bytes()


def test_ledger_records_the_token_id_never_the_secret(
    client: TestClient, tokens: TokenFactory, engine: Engine
) -> None:
    japan = tokens.issue(Role.registry, "JPN01")
    response = client.post("/test/registries/JPN01/moves", headers=japan.headers)
    assert response.status_code == 201
    entries = ledger_entries(engine)
    created = next(e for e in entries if e.kind == "token.created")
    assert dict(created.payload) == {
        "token_id": japan.principal.token_id,
        "role": "registry",
        "registry": "JPN01",
    }
    assert created.actor == "test"
    move = entries[response.json()["seq"]]
    assert move.kind == "test.move"
    assert move.actor == f"token:{japan.principal.token_id}"
    _, secret = parse_token(japan.token) or ("", "")
    for entry in entries:
        text = entry.canonical_bytes()
        assert secret.encode() not in text
        assert hash_secret(secret).hex().encode() not in text


def test_access_log_names_the_actor(
    client: TestClient, tokens: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    issued = tokens.issue(Role.auditor)
    with caplog.at_level(logging.INFO, logger="a6ledger.access"):
        assert client.get("/test/read", headers=issued.headers).status_code == 200
    lines = json_lines(caplog, "a6ledger.access")
    assert lines[-1]["actor"] == f"token:{issued.principal.token_id}"


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_database")
def test_cli_creates_lists_and_revokes_tokens(
    client: TestClient,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["tokens", "create", "--role", "registry", "--registry", "JPN01",
                     "--name", "Japan registry"]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    token = out.strip()
    parsed = parse_token(token)
    assert parsed is not None
    token_id, secret = parsed
    assert token_id in err
    assert secret not in err
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/test/whoami", headers=headers).json()["registry_id"] == "JPN01"

    assert cli.main(["tokens", "list"]) == 0
    out, _ = capsys.readouterr()
    assert token_id in out
    assert "active" in out
    assert secret not in out

    assert cli.main(["tokens", "revoke", token_id]) == 0
    capsys.readouterr()
    assert client.get("/test/whoami", headers=headers).status_code == 401
    assert cli.main(["tokens", "revoke", token_id]) == 1
    _, err = capsys.readouterr()
    assert "already revoked" in err
    assert [(e.kind, e.actor) for e in ledger_entries(engine)] == [
        ("token.created", "cli"),
        ("token.revoked", "cli"),
    ]


@pytest.mark.usefixtures("cli_database")
def test_cli_refuses_a_registry_token_without_registry(
    storage: SqlStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tokens", "create", "--role", "registry", "--name", "x"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "registry" in err
    assert list_tokens(storage) == []
