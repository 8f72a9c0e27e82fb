"""The counterpart's log over HTTP (ledger/adapters/counterpart.py ``HttpCounterpartLog``),
against canned answers: the cosigned checkpoint or else the plain one, pages of a Party's
entries with their proofs, consistency proofs, and the refusals that make a reconciliation
unable to run."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from ledger.accounting.reconciliation import CounterpartLogInvalid, EntriesPage, ProvenEntry
from ledger.adapters.counterpart import CounterpartUnavailable, HttpCounterpartLog

HASH = bytes(range(32))


def serve(routes: dict[str, httpx.Response]) -> HttpCounterpartLog:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer secret"
        return routes.get(request.url.path, httpx.Response(404, text="not here"))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return HttpCounterpartLog("https://registry.example.th/", client, "secret")


def line(index: object, entry: str, path: list[str]) -> str:
    return json.dumps({"index": index, "entry": entry, "audit_path": path}) + "\n"


def test_the_log_is_read_as_an_a6ledger_instance_serves_it() -> None:
    encoded = base64.b64encode(HASH).decode()
    proof = {"consistency": [encoded]}
    page = line(3, base64.b64encode(b'{"a":1}').decode(), [encoded]) + line(7, "", [])
    log = serve(
        {
            "/v1/log/checkpoint": httpx.Response(200, text="plain\n"),
            "/v1/log/entries/party": httpx.Response(200, text=page, headers={"A6-Next-Start": "8"}),
            "/v1/log/proofs/consistency": httpx.Response(200, text=json.dumps(proof)),
        }
    )
    assert log.checkpoint() == "plain\n"  # no cosigned checkpoint yet: the signed one
    assert log.party_entries("THA", 9, 0) == EntriesPage(
        (ProvenEntry(3, b'{"a":1}', (HASH,)), ProvenEntry(7, b"", ())), 8
    )
    assert log.consistency_proof(1, 2) == [HASH]
    cosigned = serve({"/v1/log/checkpoint/cosigned": httpx.Response(200, text="cosigned\n")})
    assert cosigned.checkpoint() == "cosigned\n"


def test_answers_that_are_not_the_api_are_refused() -> None:
    log = serve(
        {
            "/v1/log/entries/party": httpx.Response(401, text="who are you"),
            "/v1/log/proofs/consistency": httpx.Response(200, text='{"consistency": ["!"]}'),
        }
    )
    with pytest.raises(CounterpartUnavailable, match="answered 401"):
        log.party_entries("THA", 1, 0)
    with pytest.raises(CounterpartUnavailable, match="no consistency proof"):
        log.consistency_proof(1, 2)
    with pytest.raises(CounterpartUnavailable, match="answered 404"):
        log.checkpoint()


@pytest.mark.parametrize(
    "served",
    [line("3", "", []), line(True, "", []), line(3, "!", []), '{"index": 3}\n', "not json\n"],
)
def test_a_line_that_is_no_proven_entry_is_a_verification_failure(served: str) -> None:
    log = serve({"/v1/log/entries/party": httpx.Response(200, text=served)})
    with pytest.raises(CounterpartLogInvalid, match="served a line that is no proven entry"):
        log.party_entries("THA", 4, 0)
