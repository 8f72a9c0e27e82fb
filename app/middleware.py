"""ASGI middleware: request ids, structured JSON access logs, a request body limit, and the
500 problem of an unhandled exception.

Every request, answered or failed, gets exactly one access-log line. An exception that no
handler answered is logged with its traceback and the request id, and the client gets an
RFC 9457 problem carrying that id (``internal-error``) instead of a plain-text "Internal Server
Error".
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import (
    PAYLOAD_TOO_LARGE,
    PROBLEM_MEDIA_TYPE,
    HttpProblem,
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


class RequestContextMiddleware:
    """Assigns ``X-Request-ID``, logs one JSON line per request, and refuses oversized bodies
    with a 413 problem before the application reads them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        if len(request_id) > 128 or not request_id.isprintable():
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
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
                "unhandled error in %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if status_holder["started"]:
                raise  # the response is under way: the server can only close the connection
            await _send_problem(send_with_id, 500, internal_error_body(request_id, scope["path"]))
        finally:
            access_log.info(
                json.dumps(
                    {
                        "event": "request",
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status_holder["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        "actor": scope["state"].get("actor"),
                    },
                    separators=(",", ":"),
                )
            )

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._too_large(scope, send)

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
