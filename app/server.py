"""The HTTP server: uvicorn on httptools (llhttp, in C), with limits for slow and numerous
clients.

uvicorn closes idle keep-alive connections (``keep_alive_timeout``), but it waits for the
headers of a new connection forever, accepts any number of connections, and on httptools
bounds no header block: 300 "slowloris" connections, each sending a header byte now and then,
stayed open indefinitely. :class:`GuardedHttpToolsProtocol` adds

- a **header deadline**: a connection that has not sent a complete header block
  ``header_timeout`` seconds after it opened, or after its previous response, is closed;
- a **connection cap**: beyond ``max_connections`` open connections, a new one gets a 503
  problem with ``Retry-After`` and is closed at once;
- a **header-size limit**: a request line and header block larger than ``max_header_bytes``
  gets uvicorn's 400 for an invalid request, and the connection is closed (as on h11, whose
  ``h11_max_incomplete_event_size`` does the same).

httptools parses a request in C, h11 in Python: with these limits, 6-7 % less of the server's
CPU per write (``bench/writes.py``). :class:`GuardedH11Protocol` keeps the same limits on
h11, used where httptools is not installed.

Request bodies have their own deadline and cap in :mod:`app.middleware`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any, cast

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency where it has wheels
    HTTPTOOLS = False
else:
    HTTPTOOLS = True

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


class _Guard:
    """The header deadline and the connection cap, mixed into a uvicorn HTTP protocol (whose
    ``connections``, ``cycle``, ``loop`` and ``transport`` it uses). uvicorn creates one
    instance per connection; the limits come from the service settings (``A6LEDGER_*``),
    which every worker process reads alike."""

    connections: set[Any]
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._header_timeout = settings.header_timeout
        self._max_connections = settings.max_connections
        self._max_header_bytes = settings.max_header_bytes
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        if len(self.connections) > self._max_connections:
            logger.warning("refused a connection: %d open", len(self.connections) - 1)
            cast(asyncio.WriteTransport, transport).write(
                _over_capacity_response(self._max_connections)
            )
            transport.close()
            return
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
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


class GuardedH11Protocol(_Guard, H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap (module docstring);
    h11 bounds the header block itself (``h11_max_incomplete_event_size``)."""


class HeaderBlockTooLarge(Exception):
    """The request line and headers exceed ``max_header_bytes`` (raised in a parser callback:
    httptools then raises an ``HttpParserError``, which uvicorn answers with a 400)."""


if HTTPTOOLS:

    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        """uvicorn's httptools protocol with a header deadline, a connection cap and a limit
        on the size of the header block (module docstring).

        The block is counted twice: the bytes received while it is incomplete (a block that
        never ends cannot grow past the limit by more than one read), and the request line
        and headers as the parser hands them over (a block completed within one read)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._in_header_block = True
            self._received_in_block = 0
            self._parsed_in_block = 0

        def data_received(self, data: bytes) -> None:
            in_block = self._in_header_block
            super().data_received(data)
            if in_block and self._in_header_block and not self.transport.is_closing():
                self._received_in_block += len(data)
                if self._received_in_block > self._max_header_bytes:
                    self.send_400_response("Invalid HTTP request received.")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_header_block = True
            self._received_in_block = 0
            self._parsed_in_block = 0

        def _parsed(self, size: int) -> None:
            self._parsed_in_block += size
            if self._parsed_in_block > self._max_header_bytes:
                raise HeaderBlockTooLarge(self._max_header_bytes)

        def on_url(self, url: bytes) -> None:
            self._parsed(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._parsed(len(name) + len(value) + 4)  # ": " and CRLF
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_header_block = False
            super().on_headers_complete()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.run`` options that carry the service's limits and logging."""
    return {
        "http": GuardedHttpToolsProtocol if HTTPTOOLS else GuardedH11Protocol,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "access_log": False,
        # The client address is the app's business (A6LEDGER_TRUSTED_PROXIES, app/admission.py):
        # uvicorn would otherwise believe X-Forwarded-For from any local peer.
        "proxy_headers": False,
        "log_level": "info",
        "log_config": logging_config(),
    }
