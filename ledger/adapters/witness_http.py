"""Partner witnesses over HTTP (C2SP tlog-witness).

- :class:`HttpWitnessTransport` sends this log's checkpoints (``a6ledger witness push``, from
  the operator's command line or scheduler).
- :func:`ask_witness` asks a witness what it last cosigned of this log, for the signing guard
  (``ledger.log.witnessed_trees``): the service asks its configured partners, with bounded
  timeouts, and never a URL a caller names.

``client`` may be any ``httpx.Client`` (tests pass an in-process client of another a6ledger app).
"""

from __future__ import annotations

import httpx

from ledger.errors import InvalidInput, LedgerError
from ledger.log import note
from ledger.log.merkle import EMPTY_ROOT
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.log.tlog_witness import (
    ADD_CHECKPOINT_PATH,
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    parse_size,
)
from ledger.log.witnessed_trees import WitnessView
from ledger.log.witnessing import WitnessReply

WITNESSED_CHECKPOINT_PATH = "checkpoint"
"""An a6ledger witness's ``GET <prefix>/checkpoint?origin=<origin>``: the checkpoint of that
log it cosigned last, as the log signed it (not part of C2SP tlog-witness)."""

NOTHING_COSIGNED = "urn:a6ledger:problem:witness-nothing-cosigned"
"""The problem type of an a6ledger witness that has cosigned nothing of the origin yet."""


class WitnessUnreachable(InvalidInput):
    """A partner witness could not be reached (network error or timeout)."""

    problem_type = "witness-unreachable"
    title = "A partner witness could not be reached"
    rule = "witness-reachable"


def add_checkpoint_url(prefix: str) -> str:
    """``<submission prefix>/add-checkpoint``."""
    return prefix.rstrip("/") + "/" + ADD_CHECKPOINT_PATH


class HttpWitnessTransport:
    """POSTs add-checkpoint bodies with one ``httpx.Client`` (keep-alive, as the spec asks)."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def add_checkpoint(self, url: str, body: str) -> WitnessReply:
        target = add_checkpoint_url(url)
        try:
            response = self._client.post(
                target,
                content=body.encode("utf-8"),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise WitnessUnreachable(f"cannot reach {target}: {exc}", url=target) from exc
        return WitnessReply(
            response.status_code, response.headers.get("content-type", ""), response.text
        )


def witnessed_checkpoint_url(prefix: str) -> str:
    """``<submission prefix>/checkpoint``."""
    return prefix.rstrip("/") + "/" + WITNESSED_CHECKPOINT_PATH


def ask_witness(
    client: httpx.Client,
    url: str,
    witness: str,
    signer: note.Signer,
    origin: str,
    *,
    required: bool,
) -> WitnessView:
    """What the witness at submission prefix ``url`` last cosigned of the log ``origin``.

    First the a6ledger read (``GET <url>/checkpoint?origin=``): the signed checkpoint, verified
    with this log's key, gives size and root; "nothing cosigned" gives size 0. Any other witness
    answers that with 404, so then the C2SP way: an add-checkpoint of the empty tree (size 0,
    consistent with every tree, so signing it can contradict nothing) from old size 0; the
    witness answers 409 with the size it cosigned last (no root), or cosigns the empty tree when
    it has cosigned nothing (size 0). Any failure is a view without a size, with the reason."""

    def silent(detail: str) -> WitnessView:
        return WitnessView(witness, required, None, detail=detail)

    try:
        shown = client.get(witnessed_checkpoint_url(url), params={"origin": origin})
        if shown.status_code == 200:
            checkpoint, _ = open_checkpoint(shown.text, [note.Verifier(signer.vkey)])
            if checkpoint.origin != origin:
                return silent(f"it showed a checkpoint of {checkpoint.origin!r}")
            return WitnessView(witness, required, checkpoint.size, checkpoint.root_hash)
        if shown.status_code == 404 and _problem_type(shown) == NOTHING_COSIGNED:
            return WitnessView(witness, required, 0)
        empty = sign_checkpoint(Checkpoint(origin, 0, EMPTY_ROOT), [signer])
        probe = client.post(
            add_checkpoint_url(url),
            content=AddCheckpoint(0, (), empty).body().encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
    except httpx.HTTPError as exc:
        return silent(f"cannot reach {url}: {type(exc).__name__}")
    except LedgerError as exc:
        return silent(f"its checkpoint does not verify with this log's key: {exc.message}")
    if probe.status_code == 409 and probe.headers.get("content-type", "").startswith(
        SIZE_MEDIA_TYPE
    ):
        try:
            return WitnessView(witness, required, parse_size(probe.text))
        except LedgerError as exc:
            return silent(exc.message)
    if probe.status_code == 200:
        return WitnessView(witness, required, 0)
    return silent(f"it answered {probe.status_code} to add-checkpoint")


def _problem_type(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else None
