"""ASGI middleware: request ids, structured JSON access logs, request body limits, and the
500 problem of an unhandled exception.

Request bodies are bounded three ways: in size (``max_body_bytes``, a 413 problem), in time
(the whole body must arrive within ``body_timeout`` seconds of the request's start, else a 408
problem and the connection is closed), and in number (at most ``max_bodies_in_flight`` bodies
are read at once; a request that finds no free slot within two seconds gets a 503 problem):
stalled uploads cannot hold memory or connections for long.

Every request, answered or failed, gets exactly one access-log line (JSON, :mod:`app.logs`:
method, path, route template, status, duration, actor, request id). An exception that no
handler answered is logged with its traceback and the request id, and the client gets an
RFC 9457 problem carrying that id (``internal-error``) instead of a plain-text "Internal Server
Error".
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.admission import Slots
from app.logs import request_id as request_id_var
from app.metrics import UNMATCHED_ROUTE, ServiceMetrics
from app.problems import (
    HTTP_PROBLEMS,
    PAYLOAD_TOO_LARGE,
    PROBLEM_MEDIA_TYPE,
    HttpProblem,
    RetryLater,
    internal_error_body,
    problem_body,
)

access_log = logging.getLogger("a6ledger.access")
error_log = logging.getLogger("a6ledger.errors")


class BodyTooLarge(HttpProblem):
    """Raised while the body is read. An HTTPException, so that FastAPI's body parser passes it
    on unchanged (it turns other exceptions into a 400) and it becomes a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"request bodies are limited to {limit} bytes", rule="body-size-limit", limit=limit
        )


BODY_SLOT_WAIT = 2.0
"""Seconds a request waits for one of the ``max_bodies_in_flight`` body slots."""


class BodyTimeout(HttpProblem):
    """408: the body did not arrive in time. The connection is closed after the answer (the
    rest of the body, if it ever comes, is not read)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body was not received within {seconds:g} s",
            rule="body-read-deadline",
            headers={"Connection": "close"},
            timeout=seconds,
        )


class BodiesBusy(RetryLater):
    """503: every body slot stayed taken while the request waited for one."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "the service is reading its maximum of request bodies at once; retry later",
            rule="bodies-in-flight",
            retry_after=1,
        )


_READ_HEADERS = frozenset((b"x-request-id", b"content-length", b"transfer-encoding"))


def _read_headers(scope: Scope) -> dict[str, str]:
    """The request headers the middleware reads (the last of each name, as a dict of all of
    them would give): decoding every header of every request costs more."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        name = name.lower()
        if name in _READ_HEADERS:
            headers[name.decode("latin-1")] = value.decode("latin-1")
    return headers


class RequestContextMiddleware:
    """Assigns ``X-Request-ID``, logs one JSON line per request, answers an unhandled
    exception with a 500 problem, and bounds request bodies (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        body_timeout: float = 30.0,
        max_bodies_in_flight: int = 16,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.body_slots = Slots(max_bodies_in_flight, BODY_SLOT_WAIT, BodiesBusy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _read_headers(scope)
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        if len(request_id) > 128 or not request_id.isprintable():
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        context = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self._answer(scope, receive, send_with_id, headers)
        except Exception:
            error_log.exception(
                "unhandled error in %s %s (request %s)",
                scope["method"],
                scope["path"],
                request_id,
                extra={"request_id": request_id},
            )
            if status_holder["started"]:
                raise  # the response is under way: the server can only close the connection
            await _send_problem(send_with_id, 500, internal_error_body(request_id, scope["path"]))
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            if self.metrics is not None:
                self.metrics.request_answered(
                    scope["method"], route, status_holder["status"], seconds
                )
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status_holder["status"],
                extra={
                    "request_id": request_id,
                    "fields": {
                        "event": "request",
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status_holder["status"],
                        "duration_ms": round(seconds * 1000, 3),
                        "actor": scope["state"].get("actor"),
                    },
                },
            )
            request_id_var.reset(context)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, send)
            return
        has_body = (declared is not None and declared != "0") or "transfer-encoding" in headers
        if not has_body:
            await self.app(scope, receive, send)
            return
        try:
            await self.body_slots.acquire()
        except BodiesBusy as busy:
            await self._refuse(scope, send, busy)
            return
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        received = 0
        holding_slot = True

        def release_slot() -> None:
            nonlocal holding_slot
            if holding_slot:
                holding_slot = False
                self.body_slots.release()

        async def limited_receive() -> Message:
            nonlocal received
            if not holding_slot:  # the body is complete: wait for a disconnect, no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                release_slot()
                raise BodyTimeout(self.body_timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    release_slot()
                    raise BodyTooLarge(self.max_body_bytes)
                if not message.get("more_body", False):
                    release_slot()
            else:
                release_slot()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, send)
        except BodyTimeout as timeout:
            await self._refuse(scope, send, timeout)
        finally:
            release_slot()

    async def _refuse(self, scope: Scope, send: Send, refusal: HttpProblem) -> None:
        """Answer ``refusal`` from the middleware itself and close the connection."""
        problem, _ = HTTP_PROBLEMS[refusal.status_code]
        body = problem_body(
            problem, str(refusal.detail), scope["path"], rule=refusal.rule, **refusal.extensions
        )
        extra = {k.lower(): v for k, v in (refusal.headers or {}).items()} | {"connection": "close"}
        await _send_problem(
            send,
            refusal.status_code,
            json.dumps(body).encode(),
            tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()),
        )

    async def _too_large(self, scope: Scope, send: Send) -> None:
        refusal = BodyTooLarge(self.max_body_bytes)
        body = problem_body(
            PAYLOAD_TOO_LARGE,
            str(refusal.detail),
            scope["path"],
            rule=refusal.rule,
            **refusal.extensions,
        )
        await _send_problem(send, 413, json.dumps(body).encode())


async def _send_problem(
    send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
