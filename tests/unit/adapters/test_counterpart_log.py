"""The counterpart's log over HTTP (ledger/adapters/counterpart.py ``HttpCounterpartLog``),
against canned answers: the cosigned checkpoint or else the plain one, entry pages, consistency
proofs, and the refusals that make a reconciliation unable to run."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from ledger.adapters.counterpart import CounterpartUnavailable, HttpCounterpartLog

HASH = bytes(range(32))


def serve(routes: dict[str, httpx.Response]) -> HttpCounterpartLog:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer secret"
        return routes.get(request.url.path, httpx.Response(404, text="not here"))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return HttpCounterpartLog("https://registry.example.th/", client, "secret")


def test_the_log_is_read_as_an_a6ledger_instance_serves_it() -> None:
    proof = {"consistency": [base64.b64encode(HASH).decode()]}
    log = serve(
        {
            "/v1/log/checkpoint": httpx.Response(200, text="plain\n"),
            "/v1/log/entries": httpx.Response(200, content=b'{"a":1}\n{"b":2}\n'),
            "/v1/log/proofs/consistency": httpx.Response(200, text=json.dumps(proof)),
        }
    )
    assert log.checkpoint() == "plain\n"  # no cosigned checkpoint yet: the signed one
    assert log.entries(0, 2) == [b'{"a":1}', b'{"b":2}']
    assert log.consistency_proof(1, 2) == [HASH]
    cosigned = serve({"/v1/log/checkpoint/cosigned": httpx.Response(200, text="cosigned\n")})
    assert cosigned.checkpoint() == "cosigned\n"


def test_answers_that_are_not_the_api_are_refused() -> None:
    log = serve(
        {
            "/v1/log/entries": httpx.Response(401, text="who are you"),
            "/v1/log/proofs/consistency": httpx.Response(200, text='{"consistency": ["!"]}'),
        }
    )
    with pytest.raises(CounterpartUnavailable, match="answered 401"):
        log.entries(0, 1)
    with pytest.raises(CounterpartUnavailable, match="no consistency proof"):
        log.consistency_proof(1, 2)
    with pytest.raises(CounterpartUnavailable, match="answered 404"):
        log.checkpoint()
