"""Excess load and repeated bad tokens get quick problems with ``Retry-After``: 503 when every
database permit stays taken, 429 after too many failed authentication attempts from one
address. A 401 takes no snapshot."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app import auth
from app.auth import Principal, Role
from app.deps import StorageDep
from app.main import create_app
from app.problems import PROBLEM_MEDIA_TYPE
from app.settings import Settings
from ledger.access import authenticate, revoke_token
from ledger.adapters.sql.uow import SqlStorage
from tests.api.conftest import TokenFactory

router = APIRouter(prefix="/test")


@router.get("/hold-permit")
async def hold_permit(_: StorageDep) -> dict[str, str]:
    await asyncio.sleep(0.5)
    return {"held": "yes"}


@pytest.fixture
def app(app_settings: Settings) -> FastAPI:
    settings = app_settings.model_copy(
        update={
            "db_max_requests": 1,
            "db_queue_timeout": 0.1,
            "auth_failure_limit": 3,
            "auth_failure_window": 60.0,
        }
    )
    application = create_app(settings)
    application.include_router(router)
    return application


def test_a_request_that_finds_every_permit_taken_gets_a_quick_503_problem(app: FastAPI) -> None:
    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            holder = asyncio.create_task(client.get("/test/hold-permit"))
            await asyncio.sleep(0.1)
            refused = await client.get("/readyz")
            return await holder, refused

    held, refused = asyncio.run(scenario())
    assert held.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["type"] == "urn:a6ledger:problem:service-unavailable"
    assert app.state.db_admission.in_use == 0


def test_repeated_bad_tokens_from_one_address_get_429_then_even_a_good_token(
    client: TestClient, tokens: TokenFactory
) -> None:
    bad = {"Authorization": "Bearer a6l_tok_aaaaaaaaaaaa_" + "B" * 43}
    for _ in range(3):
        assert client.get("/v1/parties", headers=bad).status_code == 401
    refused = client.get("/v1/parties", headers=bad)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(refused.headers["retry-after"]) == 20
    assert refused.json()["type"] == "urn:a6ledger:problem:too-many-requests"
    assert client.get("/v1/parties", headers=tokens("admin")).status_code == 429
    # Requests without a token, and anonymous routes, are not affected.
    assert client.get("/v1/parties").status_code == 401
    assert client.get("/v1/log/checkpoint", headers=bad).status_code == 200


def test_an_unauthenticated_read_takes_no_snapshot(client: TestClient, app: FastAPI) -> None:
    opened: list[bool] = []
    storage = app.state.storage
    original = storage.unit_of_work

    def counting(*, write: bool):  # type: ignore[no-untyped-def]
        opened.append(write)
        return original(write=write)

    storage.unit_of_work = counting
    assert client.get("/v1/parties").status_code == 401
    assert opened == []
    assert client.get("/v1/parties", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert opened == [False]


def _bad_token_statuses(app: FastAPI, peer: str, forwarded_for: list[str]) -> list[int]:
    """Statuses of one bad-token request per ``X-Forwarded-For`` value, from ``peer``."""
    bad = {"Authorization": "Bearer a6l_tok_aaaaaaaaaaaa_" + "B" * 43}

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            statuses = []
            for value in forwarded_for:
                response = await client.get("/v1/parties", headers=bad | {"X-Forwarded-For": value})
                statuses.append(response.status_code)
            return statuses

    return asyncio.run(scenario())


def test_behind_a_trusted_proxy_failed_logins_count_per_forwarded_client(
    app_settings: Settings,
) -> None:
    settings = app_settings.model_copy(
        update={
            "auth_failure_limit": 3,
            "trusted_proxies": ["10.0.0.0/8"],
        }
    )
    app = create_app(settings)
    with TestClient(app):
        # Through the trusted proxy: each client has its own budget, and the spoofed entry a
        # client puts left of its real address changes nothing.
        first = ["203.0.113.5", "1.2.3.4, 203.0.113.5", "9.9.9.9, 203.0.113.5", "203.0.113.5"]
        assert _bad_token_statuses(app, "10.0.0.2", first) == [401, 401, 401, 429]
        assert _bad_token_statuses(app, "10.0.0.2", ["203.0.113.6"]) == [401]
        # A peer that is not a trusted proxy cannot escape its limit by naming other clients.
        rotating = ["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"]
        assert _bad_token_statuses(app, "192.0.2.9", rotating) == [401, 401, 401, 429]


def test_a_token_revoked_while_its_write_was_queued_counts_as_a_failed_authentication(
    client: TestClient, app: FastAPI, tokens: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's revocation re-check answers 401 like the authentication dependency, and
    spends the client address's budget like it: with a limit of 3, a revoked-token write and
    two unknown tokens leave no attempt, so even a good token gets 429."""
    issued = tokens.issue(Role.admin)
    lookups = [0]

    def counted(storage: SqlStorage, token: str) -> Principal | None:
        lookups[0] += 1
        return authenticate(storage, token)

    monkeypatch.setattr(auth, "authenticate", counted)
    party = {"code": "THA", "name": "Thailand"}
    assert client.post("/v1/parties", headers=issued.headers, json=party).status_code == 201
    revoke_token(app.state.storage, issued.principal.token_id)
    # The write path takes the token it verified a moment ago; its batch finds it revoked.
    refused = client.post("/v1/parties", headers=issued.headers, json=party | {"code": "JPN"})
    assert refused.status_code == 401, refused.text
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert lookups == [1]
    bad = {"Authorization": "Bearer a6l_tok_aaaaaaaaaaaa_" + "B" * 43}
    for _ in range(2):
        assert client.get("/v1/parties", headers=bad).status_code == 401
    throttled = client.get("/v1/parties", headers=tokens("admin"))
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["rule"] == "failed-authentication-limit"


def test_revoked_tokens_found_by_the_batch_alone_reach_the_limit(
    client: TestClient, app: FastAPI, tokens: TokenFactory
) -> None:
    issued = tokens.issue(Role.admin)
    party = {"code": "THA", "name": "Thailand"}
    assert client.post("/v1/parties", headers=issued.headers, json=party).status_code == 201
    revoke_token(app.state.storage, issued.principal.token_id)
    statuses = [
        client.post("/v1/parties", headers=issued.headers, json=party | {"code": code}).status_code
        for code in ("JPN", "KOR", "CHE", "SWE")
    ]
    assert statuses == [401, 401, 401, 429]
