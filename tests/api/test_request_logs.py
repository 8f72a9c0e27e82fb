"""Every request gets a request id (echoed or generated) and one structured JSON log line."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import TokenFactory
from tests.api.logs import json_lines


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return json_lines(caplog, "a6ledger.access")


def test_request_id_is_echoed_and_logged_with_the_actor(
    client: TestClient, tokens: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    issued = tokens.issue("auditor")
    caplog.set_level("INFO", logger="a6ledger.access")
    response = client.get("/v1/parties", headers=issued.headers | {"X-Request-ID": "rq-42"})
    assert response.headers["x-request-id"] == "rq-42"
    (line,) = [entry for entry in access_lines(caplog) if entry["path"] == "/v1/parties"]
    assert line["request_id"] == "rq-42"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], int | float)
    assert line["actor"] == issued.principal.actor
    assert issued.token not in json.dumps(line)


def test_a_request_id_is_generated_and_problems_are_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="a6ledger.access")
    response = client.get("/v1/parties")
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    (line,) = [entry for entry in access_lines(caplog) if entry["path"] == "/v1/parties"]
    assert line == line | {"request_id": generated, "status": 401}
