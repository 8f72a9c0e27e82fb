"""RFC 9457 ``application/problem+json`` for every error the service reports.

One table maps domain error classes to an HTTP status; the ``type`` URI is derived from the
error's stable ``rule`` slug, so clients can switch on it. Bad requests never change anything:
domain errors are raised before the unit of work commits.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    LedgerError,
    NotFound,
    ProofError,
    RuleViolation,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:a6ledger:problem:"
logger = logging.getLogger("a6ledger.problems")

STATUS_BY_ERROR: tuple[tuple[type[LedgerError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (RuleViolation, 409),
    (InvalidInput, 422),
    (ProofError, 422),
    (IntegrityError, 500),
)


class Problem(BaseModel):
    """RFC 9457 problem details, with the broken rule and extension members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:a6ledger:problem:insufficient-holdings"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    rule: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: declares each problem status in the OpenAPI document."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            "description": "Problem details (RFC 9457)",
        }
        for status in statuses
    }


def _title(error: type[LedgerError]) -> str:
    doc = (error.__doc__ or error.__name__).strip().splitlines()[0]
    return doc.rstrip(".")


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def status_for(error: LedgerError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    status = status_for(exc)
    if status >= 500:
        logger.error("integrity failure: %s", exc.message)
    slug = _slug(type(exc).__name__)
    return problem_response(
        status,
        slug,
        _title(type(exc)),
        exc.message,
        request.url.path,
        rule=exc.rule,
        **{k: _jsonable(v) for k, v in exc.details.items()},
    )


def _slug(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "location": [str(part) for part in err.get("loc", ())],
            "message": str(err.get("msg", "")),
            "kind": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    fields = ", ".join(".".join(e["location"]) for e in errors) or "request"
    return problem_response(
        422,
        "request-validation",
        "The request does not match the schema",
        f"invalid value(s) at: {fields}",
        request.url.path,
        rule="request-schema",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {
        401: "unauthenticated",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
    }.get(exc.status_code, f"http-{exc.status_code}")
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(
        exc.status_code,
        slug,
        str(exc.detail) if exc.detail else slug,
        str(exc.detail),
        request.url.path,
        headers=headers,
    )


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
