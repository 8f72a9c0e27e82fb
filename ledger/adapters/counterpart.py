"""Fetch from another a6ledger instance over HTTPS: a counterpart Party's AEF, and its log.

Used by ``a6ledger consistency-check --counterpart-url`` (the JSON served at
``GET /v1/parties/{code}/aef/{year}``) and by reconciliation (:class:`HttpCounterpartLog`: the
checkpoint, the entries of the counterpart Party's reports with their inclusion proofs, and
consistency proofs, verified by ``ledger.accounting.reconciliation``).
The requests go to URLs the operator names on the command line or configures
(``A6LEDGER_COUNTERPARTS``), never to URLs that API callers name.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import httpx

from ledger.accounting import aef
from ledger.accounting.reconciliation import CounterpartLogInvalid, EntriesPage, ProvenEntry
from ledger.adapters.aef_files import AefFormat, import_aef
from ledger.errors import InvalidInput


class CounterpartUnavailable(InvalidInput):
    """The counterpart's AEF could not be fetched (network error or a non-200 answer)."""

    problem_type = "counterpart-unavailable"
    title = "The counterpart's AEF could not be fetched (network error or a non-200 answer)"
    rule = "counterpart-available"


def fetch_counterpart_aef(
    url: str,
    token: str | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_seconds: int = 30,
) -> aef.AefReport:
    """GET ``url`` (an a6ledger AEF endpoint, JSON) and return the validated report."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.Client(transport=transport, timeout=timeout_seconds) as client:
            response = client.get(url, headers=headers, params={"format": "json"})
    except httpx.HTTPError as exc:
        raise CounterpartUnavailable(f"cannot fetch {url}: {exc}", url=url) from exc
    if response.status_code != 200:
        raise CounterpartUnavailable(
            f"{url} answered {response.status_code}: {response.text[:300]}",
            url=url,
            status=response.status_code,
        )
    return import_aef(response.content, AefFormat.JSON)


class HttpCounterpartLog:
    """The ``CounterpartLog`` port over another a6ledger instance's HTTP API at ``base_url``
    (its root, e.g. ``https://registry.example.th``); ``token`` reads its entries when they
    need one. ``client`` may be any ``httpx.Client`` (tests pass an in-process one)."""

    def __init__(self, base_url: str, client: httpx.Client, token: str | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _get(self, path: str, params: dict[str, int | str] | None = None) -> httpx.Response:
        url = self._base + path
        try:
            return self._client.get(url, params=params, headers=self._headers)
        except httpx.HTTPError as exc:
            raise CounterpartUnavailable(f"cannot fetch {url}: {exc}", url=url) from exc

    def _ok(self, response: httpx.Response) -> httpx.Response:
        if response.status_code != 200:
            raise CounterpartUnavailable(
                f"{response.request.url} answered {response.status_code}: {response.text[:300]}",
                url=str(response.request.url),
                status=response.status_code,
            )
        return response

    def checkpoint(self) -> str:
        response = self._get("/v1/log/checkpoint/cosigned")
        if response.status_code == 404:
            response = self._get("/v1/log/checkpoint")
        return self._ok(response).text

    def party_entries(self, party: str, tree_size: int, start: int) -> EntriesPage:
        response = self._ok(
            self._get(
                "/v1/log/entries/party", {"party": party, "tree_size": tree_size, "start": start}
            )
        )
        try:
            entries = tuple(_proven(line) for line in response.text.splitlines())
            next_start = response.headers.get("A6-Next-Start")
            return EntriesPage(entries, None if next_start is None else int(next_start))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise CounterpartLogInvalid(
                f"{response.request.url} served a line that is no proven entry: {exc}"
            ) from exc

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        response = self._ok(
            self._get("/v1/log/proofs/consistency", {"first": first, "second": second})
        )
        try:
            body: Any = response.json()
            return [base64.b64decode(h, validate=True) for h in body["consistency"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise CounterpartUnavailable(
                f"{response.request.url} served no consistency proof", url=str(response.request.url)
            ) from exc


def _proven(line: str) -> ProvenEntry:
    """One line of ``GET /v1/log/entries/party``; ``ValueError`` and friends when malformed."""
    item: Any = json.loads(line)
    index = item["index"]
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"index {index!r} is not an integer")
    return ProvenEntry(
        index,
        base64.b64decode(item["entry"], validate=True),
        tuple(base64.b64decode(h, validate=True) for h in item["audit_path"]),
    )
