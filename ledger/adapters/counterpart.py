"""Fetch a counterpart Party's AEF from another a6ledger instance over HTTPS.

Used by ``a6ledger consistency-check --counterpart-url``: the request goes out from the
operator's command line, never from the service itself (the service does not fetch URLs that
callers name). The document is the JSON served at ``GET /v1/parties/{code}/aef/{year}``.
"""

from __future__ import annotations

import httpx

from ledger.accounting import aef
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
