"""An unhandled exception becomes an RFC 9457 500 problem that carries the request id, is
logged with its traceback, and gets its access-log line like every other request."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.problems import PROBLEM_MEDIA_TYPE
from tests.api.logs import json_lines

router = APIRouter(prefix="/test")


class Unexpected(RuntimeError):
    pass


@router.get("/crash")
def crash() -> None:
    raise Unexpected("a secret detail that must not reach the client")


@router.get("/crash-async")
async def crash_async() -> None:
    raise Unexpected("a secret detail that must not reach the client")


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


@pytest.mark.parametrize("path", ["/test/crash", "/test/crash-async"])
def test_an_unhandled_exception_is_a_500_problem_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level("INFO")
    response = client.get(path, headers={"X-Request-ID": "rq-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-request-id"] == "rq-500"
    problem = response.json()
    assert problem["type"] == "urn:a6ledger:problem:internal-error"
    assert problem["status"] == 500
    assert problem["request_id"] == "rq-500"
    assert problem["instance"] == path
    assert "secret" not in response.text
    (error,) = [r for r in caplog.records if r.name == "a6ledger.errors"]
    assert "rq-500" in error.getMessage()
    assert error.exc_info is not None
    assert error.exc_info[0] is Unexpected
    (line,) = json_lines(caplog, "a6ledger.errors")
    assert line["request_id"] == "rq-500"
    assert line["level"] == "error"
    assert "Unexpected" in line["exception"]
    access = json_lines(caplog, "a6ledger.access")
    assert [(line["path"], line["status"], line["request_id"]) for line in access] == [
        (path, 500, "rq-500")
    ]
