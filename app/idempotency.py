"""Idempotent writes: ``Idempotency-Key`` on every POST, and ledger positions on every response.

A write route takes :data:`IdempotentWriteDep` and hands its service call to
:meth:`IdempotentWrite.run`::

    @router.post("/v1/things", status_code=201, response_model=ThingPublic,
                 responses=write_responses(201, 409))
    def create_thing(body: ThingCreate, principal: AdminDep, write: IdempotentWriteDep) -> Response:
        return write.run(lambda uow: services.create_thing(uow, body, actor=principal.actor),
                         ThingPublic.from_domain)

``run`` hands the write to the process's group commit (:mod:`app.group_commit`), which runs it
in a write transaction shared with the writes queued beside it (holding the chain's append lock),
under a savepoint of its own, and answers it once that transaction committed. There:

- if this token already used the ``Idempotency-Key`` for the same request (same method, path and
  canonical body), also in a request earlier in the same batch, it returns the ORIGINAL response
  (status, headers, body) with ``Idempotent-Replayed: true`` and appends nothing;
- if the token used the key for a different request, it answers 422
  ``urn:a6ledger:problem:idempotency-key-reused``;
- otherwise it runs the operation, serializes the returned pydantic model, stores the response
  under the key in the same transaction. A domain error raised by the operation rolls its
  savepoint back and stores nothing, so a corrected retry may reuse the key; the other writes
  of its batch are not affected.

Because the lookup happens under the append lock, concurrent requests with the same key are
serialized: the second one sees the first one's record and replays it.

Every response of ``run`` carries ``A6-Tree-Size`` (the tree size after the write, which includes
every entry it appended) and, when entries were appended, ``A6-Ledger-Seq`` (the last seq
appended) and ``A6-Ledger-First-Seq`` (the first one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar, overload

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel

from app.admission import client_address, throttle_of
from app.auth import (
    CallerDep,
    InvalidToken,
    Principal,
    checks_token_revocation,
    invalid_token,
    principal_of,
)
from app.group_commit import Batch, GroupCommit
from app.metrics import ServiceMetrics
from app.problems import problem_responses
from ledger.errors import InvalidInput
from ledger.ports import IdempotencyRecord, UnitOfWork

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LEDGER_SEQ_HEADER = "A6-Ledger-Seq"
LEDGER_FIRST_SEQ_HEADER = "A6-Ledger-First-Seq"
TREE_SIZE_HEADER = "A6-Tree-Size"
JSON_MEDIA_TYPE = "application/json"
MAX_KEY_LENGTH = 255
_FINGERPRINT_DOMAIN = b"a6ledger-request-fingerprint-v1\n"

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")
Operation = Callable[[UnitOfWork], ResultT]


class IdempotencyKeyReused(InvalidInput):
    """An Idempotency-Key identifies one request: it was already used with a different one."""

    problem_type = "idempotency-key-reused"
    title = "An Idempotency-Key identifies one request: it was already used with a different one"
    rule = "idempotency-key-single-request"


# --- request fingerprint ----------------------------------------------------------------------


class _NumberText(str):
    """A JSON number that is not an integer, kept as its literal text (never a float)."""

    __slots__ = ()


def _canonical(value: Any) -> str:
    if isinstance(value, dict):
        members = sorted(value.items())
        return "{" + ",".join(_json_string(k) + ":" + _canonical(v) for k, v in members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, _NumberText):
        return str.__str__(value)
    if isinstance(value, str):
        return _json_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"unexpected JSON value of type {type(value).__name__}")


def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def canonical_body(body: bytes) -> bytes:
    """Whitespace- and member-order-independent bytes of a JSON body.

    Objects are written with sorted member names; non-integer numbers keep their literal text, so
    no value goes through a float. A body that is not JSON is taken byte for byte."""
    if not body:
        return b"empty:"
    try:
        value = json.loads(body, parse_float=_NumberText, parse_constant=_NumberText)
        return b"json:" + _canonical(value).encode("utf-8")
    except (ValueError, RecursionError):
        return b"raw:" + body


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> bytes:
    """SHA-256 over the method, the path (with its query string) and the canonical body."""
    target = path if not query else f"{path}?{query}"
    digest = hashlib.sha256(_FINGERPRINT_DOMAIN)
    digest.update(method.upper().encode("ascii") + b"\n")
    digest.update(target.encode("utf-8") + b"\n")
    digest.update(canonical_body(body))
    return digest.digest()


# --- stored responses -------------------------------------------------------------------------


def replay(record: IdempotencyRecord) -> Response:
    """The stored response again, marked ``Idempotent-Replayed: true``."""
    headers = dict(record.headers)
    headers[REPLAYED_HEADER] = "true"
    return Response(content=record.body, status_code=record.status, headers=headers)


# --- the write wrapper ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    """What a write command hands back from its batch: the response, and what it did."""

    response: Response
    appended: int
    replayed: bool


class IdempotentWrite:
    """One write request: its principal, its optional idempotency key and its fingerprint.

    Its write runs as a command of a group commit (:mod:`app.group_commit`): in a transaction
    shared with the write requests queued beside it, under its own savepoint, answered once
    that transaction committed."""

    def __init__(
        self,
        writes: GroupCommit,
        principal: Principal,
        key: str | None,
        fingerprint: bytes,
        method: str,
        path: str,
        default_status: int,
        metrics: ServiceMetrics | None = None,
        failed_authentication: Callable[[], None] | None = None,
    ) -> None:
        self.metrics = metrics
        self.failed_authentication = failed_authentication
        self.writes = writes
        self.principal = principal
        self.key = key
        self.fingerprint = fingerprint
        self.method = method
        self.path = path
        self.default_status = default_status

    @overload
    def run(
        self,
        operation: Callable[[UnitOfWork], ModelT],
        present: None = None,
        *,
        status_code: int | None = None,
        location: Callable[[ModelT], str] | None = None,
    ) -> Response: ...

    @overload
    def run(
        self,
        operation: Callable[[UnitOfWork], ResultT],
        present: Callable[[ResultT], ModelT],
        *,
        status_code: int | None = None,
        location: Callable[[ModelT], str] | None = None,
    ) -> Response: ...

    def run(
        self,
        operation: Callable[[UnitOfWork], Any],
        present: Callable[[Any], BaseModel] | None = None,
        *,
        status_code: int | None = None,
        location: Callable[[Any], str] | None = None,
    ) -> Response:
        """Run ``operation`` in a write unit of work, or replay the response stored for the key.

        ``operation`` returns a pydantic model (or a value that ``present`` turns into one);
        ``status_code`` defaults to the route's; ``location`` derives a ``Location`` header from
        the model. The response body is the model as JSON (by alias)."""

        def command(batch: Batch) -> _Written:
            return self._write(batch, operation, present, status_code, location)

        started = time.perf_counter()
        try:
            written = self.writes.submit(
                command, token_id=self.principal.token_id, idempotency_key=self.key
            )
        except InvalidToken:
            self._failed_authentication()
            raise
        return self._answer(written, started)

    @overload
    async def run_async(
        self,
        operation: Callable[[UnitOfWork], ModelT],
        present: None = None,
        *,
        status_code: int | None = None,
        location: Callable[[ModelT], str] | None = None,
    ) -> Response: ...

    @overload
    async def run_async(
        self,
        operation: Callable[[UnitOfWork], ResultT],
        present: Callable[[ResultT], ModelT],
        *,
        status_code: int | None = None,
        location: Callable[[ModelT], str] | None = None,
    ) -> Response: ...

    async def run_async(
        self,
        operation: Callable[[UnitOfWork], Any],
        present: Callable[[Any], BaseModel] | None = None,
        *,
        status_code: int | None = None,
        location: Callable[[Any], str] | None = None,
    ) -> Response:
        """:meth:`run` for an ``async`` route: the request awaits its write on the event loop
        (``GroupCommit.submit_async``) instead of holding a thread of the pool while it is
        queued and written. ``operation`` and ``present`` still run in the batch's thread."""

        def command(batch: Batch) -> _Written:
            return self._write(batch, operation, present, status_code, location)

        started = time.perf_counter()
        try:
            written = await self.writes.submit_async(
                command, token_id=self.principal.token_id, idempotency_key=self.key
            )
        except InvalidToken:
            self._failed_authentication()
            raise
        return self._answer(written, started)

    def _failed_authentication(self) -> None:
        """The token was revoked while the write was queued: a failed authentication like any
        other."""
        if self.failed_authentication is not None:
            self.failed_authentication()

    def _answer(self, written: _Written, started: float) -> Response:
        if self.metrics is not None:
            if written.replayed:
                self.metrics.replayed()
            elif written.appended:
                self.metrics.entries_appended(written.appended, time.perf_counter() - started)
        return written.response

    def _write(
        self,
        batch: Batch,
        operation: Callable[[UnitOfWork], Any],
        present: Callable[[Any], BaseModel] | None,
        status_code: int | None,
        location: Callable[[Any], str] | None,
    ) -> _Written:
        """The command, inside the batch's transaction (under the append lock)."""
        uow = batch.uow
        # The token was verified before the request queued (perhaps from the cache of verified
        # tokens, ``app.auth``): a write commits only if it is still unrevoked here (else a
        # 401, counted as a failed authentication by ``run``).
        if not batch.token_valid(self.principal.token_id):
            raise invalid_token()
        if self.key is not None:
            stored = batch.stored_response(self.principal.token_id, self.key)
            if stored is not None:
                if not hmac.compare_digest(stored.fingerprint, self.fingerprint):
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {self.key!r} was already used for a different "
                        f"request ({stored.method} {stored.path}); use a new key",
                        idempotency_key=self.key,
                        first_request=f"{stored.method} {stored.path}",
                    )
                return _Written(replay(stored), appended=0, replayed=True)
        # Nothing is acknowledged on a history that can never be signed: the stored log
        # must hold the largest tree the log signed (the shared table, the signer's file,
        # this process's memory) and have no Merkle leaf beyond its last entry.
        batch.ensure_extendable()
        size_before = uow.log.size()
        result = operation(uow)
        model = result if present is None else present(result)
        if not isinstance(model, BaseModel):
            raise TypeError(f"a write must produce a pydantic model, not {type(model)!r}")
        size_after = uow.log.size()
        status = status_code or self.default_status
        body = model.model_dump_json(by_alias=True).encode("utf-8")
        headers: list[tuple[str, str]] = [("content-type", JSON_MEDIA_TYPE)]
        first_seq = last_seq = None
        if size_after > size_before:
            first_seq, last_seq = size_before, size_after - 1
            headers.append((LEDGER_SEQ_HEADER, str(last_seq)))
            headers.append((LEDGER_FIRST_SEQ_HEADER, str(first_seq)))
        headers.append((TREE_SIZE_HEADER, str(size_after)))
        if location is not None:
            headers.append(("location", location(model)))
        if self.key is not None:
            batch.store_response(
                IdempotencyRecord(
                    token_id=self.principal.token_id,
                    key=self.key,
                    fingerprint=self.fingerprint,
                    method=self.method,
                    path=self.path,
                    status=status,
                    headers=tuple(headers),
                    body=body,
                    created_at=uow.now(),
                    first_seq=first_seq,
                    last_seq=last_seq,
                    tree_size=size_after,
                )
            )
        response = Response(content=body, status_code=status, headers=dict(headers))
        return _Written(response, appended=size_after - size_before, replayed=False)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_KEY_HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[ -~]+$",
        description=(
            "Client-chosen key (1-255 printable ASCII characters) that makes the request safe "
            "to retry: a retry with the same key and request returns the original response "
            "(with `Idempotent-Replayed: true`) and records nothing new; the same key with a "
            "different request is refused with 422."
        ),
    ),
]


@checks_token_revocation
async def get_idempotent_write(
    request: Request, caller: CallerDep, idempotency_key: IdempotencyKey = None
) -> IdempotentWrite:
    """The caller's write. ``CallerDep``, not ``PrincipalDep`` and ``StorageDep``: the caller's
    dependencies hold the database permit (kept while the write is queued and written), and
    every dependency declared here is solved again (its sub-dependencies walked) per request."""
    principal = principal_of(caller)
    body = await request.body()
    route = request.scope.get("route")
    default_status = getattr(route, "status_code", None) or 200
    return IdempotentWrite(
        writes=request.app.state.group_commit,
        principal=principal,
        key=idempotency_key,
        fingerprint=request_fingerprint(request.method, request.url.path, request.url.query, body),
        method=request.method,
        path=request.url.path,
        default_status=int(default_status),
        metrics=request.app.state.metrics,
        failed_authentication=partial(throttle_of(request).record_failure, client_address(request)),
    )


IdempotentWriteDep = Annotated[IdempotentWrite, Depends(get_idempotent_write)]

WRITE_RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    LEDGER_SEQ_HEADER: {
        "description": "Seq of the last ledger entry this write appended",
        "schema": {"type": "integer", "minimum": 0},
    },
    LEDGER_FIRST_SEQ_HEADER: {
        "description": "Seq of the first ledger entry this write appended",
        "schema": {"type": "integer", "minimum": 0},
    },
    TREE_SIZE_HEADER: {
        "description": "Size of the log tree that includes this write's entries",
        "schema": {"type": "integer", "minimum": 0},
    },
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored response of an earlier request "
        "with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def write_responses(status_code: int = 201, *problem_statuses: int) -> dict[int | str, Any]:
    """``responses=`` for a write route: the ledger headers on success, and the problems
    every write can answer (401, 403, 413 for an oversized body, 422, 503 when the stored
    projection does not match the ledger) plus ``problem_statuses``."""
    statuses = sorted({401, 403, 413, 422, 503, *problem_statuses})
    responses: dict[int | str, Any] = dict(problem_responses(*statuses))
    responses[status_code] = {"headers": WRITE_RESPONSE_HEADERS}
    return responses
