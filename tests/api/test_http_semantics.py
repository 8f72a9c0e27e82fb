"""HTTP semantics the OpenAPI document and RFC 9110 promise: ``Allow`` lists every method of a
path, on a 405 problem and on an ``OPTIONS`` answer; the HTTP-level problems an operation may
answer (400 unparsable body, 408 body timeout, 429, 503) are declared in the document."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.problems import PROBLEM_MEDIA_TYPE
from tests.api.conftest import TokenFactory


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/parties", "GET, OPTIONS, POST"),
        ("/v1/log/checkpoint", "GET, OPTIONS"),
        ("/v1/log/cosignatures", "OPTIONS, POST"),
    ],
)
def test_options_and_405_list_every_method_of_the_path(
    client: TestClient, path: str, allow: str
) -> None:
    options = client.options(path)
    assert options.status_code == 204
    assert options.headers["allow"] == allow
    assert options.content == b""
    refused = client.request("PATCH", path)
    assert refused.status_code == 405
    assert refused.headers["allow"] == allow
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert refused.json()["rule"] == "method-allowed"


def test_options_on_an_unknown_path_is_a_404(client: TestClient) -> None:
    assert client.options("/v1/no-such-thing").status_code == 404


def _operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    paths: dict[str, dict[str, dict[str, Any]]] = app.openapi()["paths"]
    return {(method, path): op for path, ops in paths.items() for method, op in ops.items()}


def test_the_document_declares_the_http_level_problems(app: FastAPI) -> None:
    operations = _operations(app)
    create_party = operations[("post", "/v1/parties")]["responses"]
    assert {"400", "408", "413", "429", "503"} <= set(create_party)
    problem = create_party["400"]["content"][PROBLEM_MEDIA_TYPE]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert {"429", "503"} <= set(operations[("get", "/v1/parties")]["responses"])
    checkpoint = operations[("get", "/v1/log/checkpoint")]["responses"]
    assert "503" in checkpoint
    assert "429" not in checkpoint  # anonymous: a bearer token is not looked at
    assert set(operations[("get", "/healthz")]["responses"]) == {"200"}
    for (method, path), operation in operations.items():
        if "requestBody" in operation:
            assert "400" in operation["responses"], (method, path)


def test_an_unparsable_body_gets_the_declared_400_problem(
    client: TestClient, tokens: TokenFactory
) -> None:
    headers = tokens("admin") | {"content-type": "application/json"}
    response = client.post("/v1/parties", content=b"\xff\xfe{", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
