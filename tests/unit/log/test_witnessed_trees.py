"""The witnesses' memory of this log's trees (ledger/log/witnessed_trees.py) and how a witness is
asked (ledger/adapters/witness_http.py ``ask_witness``): the log refuses to sign a stored log
that does not hold a tree a witness cosigned, names the witness, and ignores a silent witness
unless it is required."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from ledger.adapters.witness_http import NOTHING_COSIGNED, ask_witness
from ledger.log.checkpoints import LayeredCheckpointState, MemoryCheckpointState, guard_consistency
from ledger.log.keys import format_skey
from ledger.log.merkle import EMPTY_ROOT
from ledger.log.note import Signer
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.log.tlog_witness import parse_add_checkpoint
from ledger.log.witnessed_trees import (
    RequiredWitnessSilent,
    WitnessedTreeMissing,
    WitnessedTrees,
    WitnessView,
    refusal,
)
from tests.fakes.log import FakeLedgerLog
from tests.unit.log.memory_log import ORIGIN, SIGNER

URL = "http://witness.test/v1/witness"


def log_of(size: int, salt: str = "") -> FakeLedgerLog:
    log = FakeLedgerLog(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    for n in range(size):
        log.append("test.note", {"n": n, "salt": salt}, "test")
    return log


def test_a_witnessed_tree_larger_than_the_stored_log_is_refused_naming_the_witness() -> None:
    log = log_of(3)
    reason = refusal(log, [WitnessView("w1", False, 2), WitnessView("w2", False, 5)])
    assert isinstance(reason, WitnessedTreeMissing)
    assert reason.message.startswith("witness w2 cosigned tree size 5 of this log but the stored")
    assert refusal(log, [WitnessView("w1", False, 3, log.root(3))]) is None


def test_a_witnessed_root_the_stored_log_does_not_have_is_refused() -> None:
    stored, published = log_of(4), log_of(4, salt="rewritten")
    view = WitnessView("w1", False, 3, published.root(3))
    reason = refusal(stored, [view])
    assert isinstance(reason, WitnessedTreeMissing)
    assert "another root at that size: the history was rewritten" in reason.message
    assert refusal(published, [view]) is None


def test_a_silent_witness_stops_signing_only_when_required() -> None:
    log = log_of(2)
    assert refusal(log, [WitnessView("w1", False, None, detail="timeout")]) is None
    reason = refusal(log, [WitnessView("w1", True, None, detail="timeout")])
    assert isinstance(reason, RequiredWitnessSilent)
    assert reason.message == (
        "required witness w1 did not say what it cosigned of this log (timeout): refusing to "
        "sign until it answers"
    )


def test_the_guard_asks_the_witnesses_once_per_interval() -> None:
    asked: list[float] = []
    now = [0.0]
    views = [WitnessView("w1", False, 5)]

    def ask() -> list[WitnessView]:
        asked.append(now[0])
        return views

    layer = WitnessedTrees(ask, lambda: now[0], max_age=60.0)
    state = LayeredCheckpointState(MemoryCheckpointState(), layer)
    guard_consistency(log_of(5), state)
    now[0] = 59.0
    guard_consistency(log_of(6), state)
    assert asked == [0.0]
    now[0] = 60.0
    with pytest.raises(WitnessedTreeMissing):
        guard_consistency(log_of(4), state)
    assert asked == [0.0, 60.0]
    assert layer.last_signed() is None


def client_of(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(transport=handler)


def test_an_a6ledger_witness_shows_the_checkpoint_it_cosigned() -> None:
    root = bytes(range(32))
    shown = sign_checkpoint(Checkpoint(ORIGIN, 7, root), [SIGNER])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        assert request.url.path == "/v1/witness/checkpoint"
        assert request.url.params["origin"] == ORIGIN
        return httpx.Response(200, text=shown)

    view = ask_witness(
        client_of(httpx.MockTransport(handler)), URL, "w", SIGNER, ORIGIN, required=False
    )
    assert (view.size, view.root) == (7, root)


def test_a_checkpoint_not_signed_by_this_log_is_no_answer() -> None:
    other = Signer(format_skey(ORIGIN, bytes(32)))
    shown = sign_checkpoint(Checkpoint(ORIGIN, 7, bytes(32)), [other])
    transport = httpx.MockTransport(lambda _: httpx.Response(200, text=shown))
    view = ask_witness(client_of(transport), URL, "w", SIGNER, ORIGIN, required=True)
    assert view.size is None
    assert view.detail.startswith("its checkpoint does not verify with this log's key")


def test_an_a6ledger_witness_that_cosigned_nothing_says_size_0() -> None:
    problem = {"type": NOTHING_COSIGNED, "title": "-", "status": 404}
    transport = httpx.MockTransport(
        lambda _: httpx.Response(
            404, json=problem, headers={"content-type": "application/problem+json"}
        )
    )
    view = ask_witness(client_of(transport), URL, "w", SIGNER, ORIGIN, required=False)
    assert (view.size, view.root) == (0, None)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "size"),
    [
        (409, "12\n", "text/x.tlog.size", 12),
        (200, "— w AAAA\n", "text/plain", 0),
        (409, "twelve\n", "text/x.tlog.size", None),
        (500, "oops", "text/plain", None),
    ],
)
def test_any_other_witness_is_asked_with_the_empty_tree(
    status: int, body: str, content_type: str, size: int | None
) -> None:
    posted: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404, text="404 page not found")
        assert request.url.path == "/v1/witness/add-checkpoint"
        posted.append(request.content)
        return httpx.Response(status, text=body, headers={"content-type": content_type})

    view = ask_witness(
        client_of(httpx.MockTransport(handler)), URL, "w", SIGNER, ORIGIN, required=False
    )
    assert view.size == size
    assert view.root is None
    (sent,) = posted
    probe = parse_add_checkpoint(sent)
    assert (probe.old_size, probe.proof) == (0, ())
    # The empty tree: consistent with every tree, so signing it can contradict nothing.
    assert probe.checkpoint_note == sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), [SIGNER])


def test_a_witness_that_cannot_be_reached_is_no_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    view = ask_witness(
        client_of(httpx.MockTransport(handler)), URL, "w", SIGNER, ORIGIN, required=True
    )
    assert view.size is None
    assert view.required
    assert view.detail == f"cannot reach {URL}: ConnectTimeout"
