"""A value the database refuses (SQLAlchemy ``DataError``) is a 422 problem, never a 500.

The unit of work turns the driver's error into the ``UnstorableValue`` domain error, so the HTTP
layer needs no database imports; this pins the problem it answers, on reads and writes alike.
"""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from app.auth import ReaderDep, Role
from app.deps import ReadUowDep
from app.idempotency import IdempotentWriteDep
from ledger.ports import UnitOfWork
from tests.api.conftest import TokenFactory

router = APIRouter(prefix="/test")


class Nothing(BaseModel):
    size: int


def _refuse(uow: UnitOfWork) -> Nothing:
    uow.log.size()
    raise DataError("INSERT ...", {}, ValueError("PostgreSQL text fields cannot contain NUL"))


@router.get("/refused-read")
def refused_read(uow: ReadUowDep, _: ReaderDep) -> Nothing:
    return _refuse(uow)


@router.post("/refused-write", status_code=201, response_model=Nothing)
def refused_write(write: IdempotentWriteDep) -> Response:
    return write.run(_refuse)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/test/refused-read"), ("POST", "/test/refused-write")]
)
def test_an_unstorable_value_is_a_422_problem(
    client: TestClient, tokens: TokenFactory, method: str, path: str
) -> None:
    response = client.request(method, path, headers=tokens(Role.admin) | {"Idempotency-Key": "k"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:a6ledger:problem:unstorable-value"
    assert problem["title"] == "A value cannot be stored"
    assert problem["rule"] == "storable-values"
    assert problem["instance"] == path
    assert "NUL" in problem["detail"]
