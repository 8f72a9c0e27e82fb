"""The committed OpenAPI document is what the app serves; every write declares its problems."""

from __future__ import annotations

import json

from app.cli import OPENAPI_PATH, render_openapi


def test_committed_openapi_matches_the_app() -> None:
    committed = OPENAPI_PATH.read_text(encoding="utf-8")
    assert committed == render_openapi(), "run `a6ledger openapi` and commit openapi/openapi.json"


def test_operation_ids_are_unique_and_problems_declared() -> None:
    document = json.loads(render_openapi())
    seen: set[str] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            operation_id = operation["operationId"]
            assert operation_id not in seen
            seen.add(operation_id)
            if method == "post":
                assert "422" in operation["responses"], (path, method)
                assert "application/problem+json" in operation["responses"]["422"]["content"]
