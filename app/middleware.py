"""ASGI middleware: request ids, structured JSON access logs, and a request body limit."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PAYLOAD_TOO_LARGE, PROBLEM_MEDIA_TYPE, HttpProblem, problem_body

access_log = logging.getLogger("a6ledger.access")


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
        status_holder: dict[str, Any] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, send_with_id)
        else:
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
                await self.app(scope, limited_receive, send_with_id)
            except BodyTooLarge:
                await self._too_large(scope, send_with_id)
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

    async def _too_large(self, scope: Scope, send: Send) -> None:
        refusal = BodyTooLarge(self.max_body_bytes)
        body = json.dumps(
            problem_body(
                PAYLOAD_TOO_LARGE,
                str(refusal.detail),
                scope["path"],
                rule=refusal.rule,
                **refusal.extensions,
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
