"""The HTTP server: uvicorn on h11, with limits for slow and numerous clients.

uvicorn closes idle keep-alive connections (``keep_alive_timeout``) and bounds the size of a
request's header block (``max_header_bytes``), but it waits for the headers of a new
connection forever and accepts any number of connections: 300 "slowloris" connections, each
sending a header byte now and then, stayed open indefinitely. :class:`GuardedH11Protocol` adds

- a **header deadline**: a connection that has not sent a complete header block
  ``header_timeout`` seconds after it opened, or after its previous response, is closed;
- a **connection cap**: beyond ``max_connections`` open connections, a new one gets a 503
  problem with ``Retry-After`` and is closed at once.

Request bodies have their own deadline and cap in :mod:`app.middleware`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.logs import logging_config
from app.problems import SERVICE_UNAVAILABLE, problem_body
from app.settings import Settings, get_settings

logger = logging.getLogger("a6ledger.server")
RETRY_AFTER_SECONDS = 1


@lru_cache
def _over_capacity_response(max_connections: int) -> bytes:
    body = json.dumps(
        problem_body(
            SERVICE_UNAVAILABLE,
            f"the server holds its maximum of {max_connections} connections; retry later",
            "*",
            rule="connection-limit",
            retry_after=RETRY_AFTER_SECONDS,
        )
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        f"retry-after: {RETRY_AFTER_SECONDS}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap (module docstring).

    uvicorn creates one instance per connection; the limits come from the service settings
    (``A6LEDGER_*``), which every worker process reads alike."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._header_timeout = settings.header_timeout
        self._max_connections = settings.max_connections
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._max_connections:
            logger.warning("refused a connection: %d open", len(self.connections) - 1)
            transport.write(_over_capacity_response(self._max_connections))
            transport.close()
            return
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(
            self._header_timeout, self._header_deadline_passed
        )

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        waiting_for_request = self.cycle is None or self.cycle.response_complete
        if waiting_for_request and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.run`` options that carry the service's limits and logging."""
    return {
        "http": GuardedH11Protocol,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "access_log": False,
        # The client address is the app's business (A6LEDGER_TRUSTED_PROXIES, app/admission.py):
        # uvicorn would otherwise believe X-Forwarded-For from any local peer.
        "proxy_headers": False,
        "log_level": "info",
        "log_config": logging_config(),
    }
