"""Sending this log's checkpoints to partner witnesses over HTTP (C2SP tlog-witness).

Used by ``a6ledger witness push``: the requests go out from the operator's command line or
scheduler, never from the service itself. ``client`` may be any ``httpx.Client`` (tests pass an
in-process client of another a6ledger app).
"""

from __future__ import annotations

import httpx

from ledger.errors import InvalidInput
from ledger.log.tlog_witness import ADD_CHECKPOINT_PATH
from ledger.log.witnessing import WitnessReply


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
