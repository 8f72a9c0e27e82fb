"""The problem contract: every problem ``type`` and ``title`` is declared, pinned and reported.

Each error class declares its ``problem_type`` slug and ``title`` in its own body; the committed
OpenAPI document lists them all in ``x-problem-types`` (with the HTTP-level problems), so a changed
type or title shows in review as a diff of that table; every problem body carries its ``rule``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app import problems
from app.auth import ReaderDep, ensure_registry
from app.cli import OPENAPI_PATH
from app.problems import PROBLEM_TYPE_PREFIX, add_problem_handlers, error_classes, status_of
from ledger.errors import InvalidInput, LedgerError, RuleViolation
from tests.api.conftest import TokenFactory

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
HTTP_LEVEL = (
    problems.REQUEST_VALIDATION,
    *(problem for problem, _ in problems.HTTP_PROBLEMS.values()),
)


def undeclared(classes: tuple[type[LedgerError], ...]) -> list[str]:
    """The classes that do not declare ``problem_type`` and ``title`` in their own body."""
    return [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes
        if "problem_type" not in vars(cls) or "title" not in vars(cls)
    ]


def committed_problem_types() -> dict[str, Any]:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    table = document["components"]["schemas"]["Problem"]["x-problem-types"]
    assert isinstance(table, dict)
    return table


# --- declarations -----------------------------------------------------------------------------


def test_error_classes_are_found_in_every_package() -> None:
    modules = {cls.__module__ for cls in error_classes()}
    assert {"ledger.errors", "ledger.log.tlog_proof", "ledger.access", "app.routes.log"} <= modules
    assert all(m.startswith(("ledger.", "app.")) for m in modules), modules


def test_every_error_class_declares_its_problem_type_and_title() -> None:
    assert undeclared(error_classes()) == [], "declare problem_type and title in these classes"


def test_a_class_that_inherits_its_declarations_is_listed() -> None:
    class Declared(InvalidInput):
        problem_type = "declared"
        title = "Declared"

    class Inherited(Declared):
        """Declares nothing of its own."""

    assert undeclared((Declared, Inherited)) == [f"{__name__}.{Inherited.__qualname__}"]


def test_each_error_class_has_its_own_problem_type() -> None:
    by_type: dict[str, list[str]] = {}
    for cls in error_classes():
        by_type.setdefault(cls.problem_type, []).append(cls.__qualname__)
    assert {t: names for t, names in by_type.items() if len(names) > 1} == {}


@pytest.mark.parametrize(
    ("slug", "title"),
    [(cls.problem_type, cls.title) for cls in error_classes()]
    + [(problem.slug, problem.title) for problem in HTTP_LEVEL],
)
def test_types_are_slugs_and_titles_short_complete_summaries(slug: str, title: str) -> None:
    assert SLUG.fullmatch(slug), slug
    assert title == " ".join(title.split()), title
    assert title[0].isupper(), title
    assert not title.endswith((".", ",", ":", ";", "(")), title
    assert title.count("(") == title.count(")"), title
    assert not re.search(r"``|\*[A-Za-z]", title), title  # no reST markup
    assert len(title) <= 90, title


# --- the pinned table -------------------------------------------------------------------------


def test_the_committed_openapi_pins_every_problem_type_and_title() -> None:
    expected = {
        PROBLEM_TYPE_PREFIX + cls.problem_type: {"status": status_of(cls), "title": cls.title}
        for cls in error_classes()
    }
    for problem in HTTP_LEVEL:
        entry = {"status": problem.status, "title": problem.title}
        assert expected.setdefault(problem.uri, entry) == entry, problem
    assert committed_problem_types() == expected, (
        "a problem type or title changed: run `a6ledger openapi` and review the diff of "
        "x-problem-types in openapi/openapi.json"
    )


def test_every_404_is_one_type_with_one_title() -> None:
    table = committed_problem_types()
    assert table[problems.ROUTE_NOT_FOUND.uri] == {
        "status": 404,
        "title": "A referenced record does not exist",
    }


# --- what a response carries ------------------------------------------------------------------


class RenamedError(RuleViolation):
    """A docstring whose first line is not the title."""

    problem_type = "declared-slug"
    title = "The declared title"
    rule = "declared-rule"


@pytest.fixture
def bare_client() -> Iterator[TestClient]:
    """An app with only the problem handlers and one route that raises ``RenamedError``."""
    bare = FastAPI()
    add_problem_handlers(bare)

    @bare.get("/raise")
    def raise_error() -> None:
        raise RenamedError("what happened", serials=[1, 2])

    with TestClient(bare) as client:
        yield client


def test_a_problem_reports_the_declared_type_and_title_not_the_name_or_docstring(
    bare_client: TestClient,
) -> None:
    response = bare_client.get("/raise")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:a6ledger:problem:declared-slug",
        "title": "The declared title",
        "status": 409,
        "detail": "what happened",
        "instance": "/raise",
        "rule": "declared-rule",
        "serials": [1, 2],
    }


router = APIRouter(prefix="/test")


@router.get("/registries/{registry_id}")
def act_for_registry(registry_id: str, principal: ReaderDep) -> None:
    ensure_registry(principal, registry_id)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app


def _problem(response: Any, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert isinstance(body, dict)
    pinned = committed_problem_types()[body["type"]]
    assert (body["status"], body["title"]) == (pinned["status"], pinned["title"]), body
    assert body["rule"] == rule, body
    return body


def test_401_problems_carry_a_rule(client: TestClient) -> None:
    missing = _problem(client.get("/test/registries/JPN01"), 401, "bearer-token-valid")
    assert missing["type"] == "urn:a6ledger:problem:unauthenticated"
    assert missing["detail"] == "a bearer token is required"
    invalid = client.get("/test/registries/JPN01", headers={"Authorization": "Bearer a6l_x_y"})
    assert _problem(invalid, 401, "bearer-token-valid")["type"] == missing["type"]
    assert invalid.headers["www-authenticate"] == 'Bearer realm="a6ledger", error="invalid_token"'


def test_403_problems_carry_the_rule_they_enforce(client: TestClient, tokens: TokenFactory) -> None:
    role = client.post("/v1/parties", json={}, headers=tokens("auditor"))
    assert _problem(role, 403, "role-allowed")["type"] == "urn:a6ledger:problem:forbidden"
    registry = client.get("/test/registries/JPN01", headers=tokens("admin"))
    body = _problem(registry, 403, "registry-token-own-registry")
    assert body["type"] == "urn:a6ledger:problem:forbidden"
    assert body["detail"] == "only the registry JPN01 may do this; role admin may not"


def test_framework_problems_carry_a_rule(client: TestClient, tokens: TokenFactory) -> None:
    admin = tokens("admin")
    assert _problem(client.get("/v1/no-such-route"), 404, "route-exists")["detail"] == "Not Found"
    _problem(client.delete("/v1/log/checkpoint"), 405, "method-allowed")
    unparsable = client.post(
        "/v1/parties", content=b"\xff\xfe{", headers=admin | {"content-type": "application/json"}
    )
    _problem(unparsable, 400, "request-body-parsable")
    invalid = _problem(client.post("/v1/parties", json={}, headers=admin), 422, "request-schema")
    assert invalid["type"] == "urn:a6ledger:problem:request-validation"


def test_both_413_paths_report_the_same_problem(
    app: FastAPI, client: TestClient, tokens: TokenFactory
) -> None:
    limit = app.state.settings.max_body_bytes
    headers = tokens("admin") | {"content-type": "application/json"}

    def chunks() -> Iterator[bytes]:
        yield b'{"code": "MNG", "name": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    declared = client.post("/v1/parties", content=b"x" * (limit + 1), headers=headers)
    streamed = client.post("/v1/parties", content=chunks(), headers=headers)
    first = _problem(declared, 413, "body-size-limit")
    second = _problem(streamed, 413, "body-size-limit")
    assert first == second
    assert first["limit"] == limit
