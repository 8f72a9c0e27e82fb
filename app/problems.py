"""RFC 9457 ``application/problem+json`` for every error the service reports.

One table maps domain error classes to an HTTP status. The ``type`` and ``title`` of a domain
problem are the ones its error class declares (``problem_type``, ``title``), never its name or
docstring; those of the HTTP-level problems (authentication, routing, body limits, schema
validation) are declared here. Every problem carries the ``rule`` it broke. All types and titles
are listed in the ``x-problem-types`` extension of the ``Problem`` schema, so the committed OpenAPI
document pins them. Bad requests never change anything: domain errors are raised before the unit
of work commits.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import pkgutil
from dataclasses import dataclass
from http import HTTPStatus
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ledger.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    LedgerError,
    NotFound,
    ProjectionMismatch,
    ProofError,
    RuleViolation,
    StoredLogRefused,
)
from ledger.log.tlog_witness import MalformedWitnessRequest
from ledger.log.witnessing import LogSignatureRejected, OldSizeBeyondCheckpoint

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:a6ledger:problem:"
logger = logging.getLogger("a6ledger.problems")

STATUS_BY_ERROR: tuple[tuple[type[LedgerError], int], ...] = (
    # The statuses C2SP tlog-witness prescribes for add-checkpoint.
    (MalformedWitnessRequest, 400),
    (OldSizeBeyondCheckpoint, 400),
    (LogSignatureRejected, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RuleViolation, 409),
    (InvalidInput, 422),
    (ProofError, 422),
    # The request is fine; the stored projection is not, until an operator restores it: not a
    # conflict the client could resolve (409), and not retried successfully until then.
    (ProjectionMismatch, 503),
    # Likewise a stored log that lost a signed tree or whose Merkle tree outruns its entries.
    (StoredLogRefused, 503),
    (IntegrityError, 500),
)


@dataclass(frozen=True, slots=True)
class ProblemType:
    """One kind of problem: the slug of its ``type`` URI, its ``title`` and its HTTP status."""

    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


# HTTP-level problems: raised by the framework, the authentication dependencies or the body limit
# rather than by the domain. Each status maps to one problem type and to the rule it reports when
# the raiser names none (an ``HttpProblem`` names its own).
BODY_UNPARSABLE = ProblemType("http-400", "There was an error parsing the body", 400)
UNAUTHENTICATED = ProblemType("unauthenticated", "A valid bearer token is required", 401)
FORBIDDEN = ProblemType("forbidden", "The token may not do this", 403)
# An unknown route is the domain's NotFound problem: one type, and one title, for every 404.
ROUTE_NOT_FOUND = ProblemType(NotFound.problem_type, NotFound.title, 404)
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", "Method Not Allowed", 405)
REQUEST_TIMEOUT = ProblemType("request-timeout", "The request was not received in time", 408)
PAYLOAD_TOO_LARGE = ProblemType("payload-too-large", "Request body too large", 413)
REQUEST_VALIDATION = ProblemType("request-validation", "The request does not match the schema", 422)
TOO_MANY_REQUESTS = ProblemType("too-many-requests", "Too many requests; retry later", 429)
INTERNAL_ERROR = ProblemType("internal-error", "The service failed to answer the request", 500)
SERVICE_UNAVAILABLE = ProblemType("service-unavailable", "The service is at capacity", 503)

HTTP_PROBLEMS: dict[int, tuple[ProblemType, str]] = {
    400: (BODY_UNPARSABLE, "request-body-parsable"),
    401: (UNAUTHENTICATED, "bearer-token-valid"),
    403: (FORBIDDEN, "role-allowed"),
    404: (ROUTE_NOT_FOUND, "route-exists"),
    405: (METHOD_NOT_ALLOWED, "method-allowed"),
    408: (REQUEST_TIMEOUT, "body-read-deadline"),
    413: (PAYLOAD_TOO_LARGE, "body-size-limit"),
    429: (TOO_MANY_REQUESTS, "failed-authentication-limit"),
    500: (INTERNAL_ERROR, "unhandled-error"),
    503: (SERVICE_UNAVAILABLE, "database-capacity"),
}


class HttpProblem(StarletteHTTPException):
    """An HTTP-level refusal (401, 403, 413) that names the rule it enforces and may carry
    extension members; its ``type`` and ``title`` are those of its status in ``HTTP_PROBLEMS``."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        rule: str,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.rule = rule
        self.extensions = extensions


class RetryLater(HttpProblem):
    """A refusal under load (429, 503) that tells the client when to retry (``Retry-After``)."""

    def __init__(self, status_code: int, detail: str, *, rule: str, retry_after: int) -> None:
        super().__init__(
            status_code,
            detail,
            rule=rule,
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


def internal_error_body(request_id: str, instance: str) -> bytes:
    """The 500 problem of an unhandled exception: no detail of the failure (it is logged under
    the request id), only the id to quote when reporting it."""
    body = problem_body(
        INTERNAL_ERROR,
        "the service failed to answer this request; quote the request id when reporting it",
        instance,
        rule=HTTP_PROBLEMS[500][1],
        request_id=request_id,
    )
    return json.dumps(body).encode()


def _http_problem(status: int) -> tuple[ProblemType, str]:
    """The problem type and default rule of an HTTP status (a generic one if none is declared)."""
    if status in HTTP_PROBLEMS:
        return HTTP_PROBLEMS[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = f"HTTP {status}"
    return ProblemType(f"http-{status}", phrase, status), f"http-{status}"


def _problem_types_extension(schema: dict[str, Any]) -> None:
    """Adds ``x-problem-types`` to the ``Problem`` schema: every problem ``type`` URI the service
    reports, with its status and title. The committed OpenAPI document thus pins them all, and a
    changed type or title shows in review as a diff of that table."""
    schema["x-problem-types"] = {
        problem.uri: {"status": problem.status, "title": problem.title}
        for problem in problem_types()
    }


class Problem(BaseModel):
    """RFC 9457 problem details, with the broken rule and extension members."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_problem_types_extension)

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


def problem_body(
    problem: ProblemType, detail: str, instance: str, *, rule: str, **extensions: Any
) -> dict[str, Any]:
    """The JSON body of a problem: the members of RFC 9457, ``rule`` and the extension members."""
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
        "instance": instance,
        "rule": rule,
    }
    body.update({k: v for k, v in extensions.items() if v is not None and k not in body})
    return body


def problem_response(
    problem: ProblemType,
    detail: str,
    instance: str,
    *,
    rule: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(problem, detail, instance, rule=rule, **extensions),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def status_of(error_class: type[LedgerError]) -> int:
    for cls, status in STATUS_BY_ERROR:
        if issubclass(error_class, cls):
            return status
    return 500


def status_for(error: LedgerError) -> int:
    return status_of(type(error))


def problem_type_of(error_class: type[LedgerError]) -> ProblemType:
    """The problem an error class reports, from what the class declares."""
    return ProblemType(error_class.problem_type, error_class.title, status_of(error_class))


@functools.cache
def error_classes() -> tuple[type[LedgerError], ...]:
    """Every ``LedgerError`` class defined in ``ledger`` or ``app``. Their modules are imported
    first, so the answer does not depend on which modules happen to be loaded already."""
    import app
    import ledger

    for package in (ledger, app):
        _import_all(package)
    found: list[type[LedgerError]] = []
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop()
        if cls.__module__.partition(".")[0] in {"ledger", "app"} and cls not in found:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return tuple(sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__)))


def _import_all(package: ModuleType) -> None:
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)


def problem_types() -> list[ProblemType]:
    """Every problem the service reports, by type: the table ``x-problem-types`` publishes.

    Raises ``ValueError`` if two declarations give one type different titles or statuses."""
    declared = [problem_type_of(cls) for cls in error_classes()]
    declared.append(REQUEST_VALIDATION)
    declared += [problem for problem, _ in HTTP_PROBLEMS.values()]
    by_slug: dict[str, ProblemType] = {}
    for problem in declared:
        known = by_slug.setdefault(problem.slug, problem)
        if known != problem:
            raise ValueError(f"problem type {problem.slug} is declared twice: {known}, {problem}")
    return sorted(by_slug.values(), key=lambda problem: problem.slug)


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


def ledger_problem_body(exc: LedgerError, instance: str) -> dict[str, Any]:
    """The problem+json body of a domain error (the service's answer, and what a CLI command
    prints when the same rule refuses it)."""
    return problem_body(
        problem_type_of(type(exc)),
        exc.message,
        instance,
        rule=exc.rule,
        **{k: _jsonable(v) for k, v in exc.details.items()},
    )


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    status = status_for(exc)
    if status >= 500:
        logger.error("integrity failure: %s", exc.message)
    elif (metrics := getattr(request.app.state, "metrics", None)) is not None:
        metrics.rule_refused(exc.rule)  # an app without metrics: a bare app in a test
    return JSONResponse(
        ledger_problem_body(exc, request.url.path),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
    )


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
        REQUEST_VALIDATION,
        f"invalid value(s) at: {fields}",
        request.url.path,
        rule="request-schema",
        errors=errors,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the request's path has (across all its routes), and OPTIONS."""
    methods = {"OPTIONS"}
    for route in iter_route_contexts(request.app.router.routes):
        if route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    problem, rule = _http_problem(exc.status_code)
    extensions: dict[str, Any] = {}
    if isinstance(exc, HttpProblem):
        rule, extensions = exc.rule, exc.extensions
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        # A path's methods may be spread over several routes (GET and POST /v1/parties):
        # Allow lists them all, and OPTIONS is answered with them rather than refused.
        allow = {"Allow": ", ".join(allowed_methods(request))}
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=allow)
        headers = (headers or {}) | allow
    return problem_response(
        problem, str(exc.detail), request.url.path, rule=rule, headers=headers, **extensions
    )


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
