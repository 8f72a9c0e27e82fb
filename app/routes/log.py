"""The log's read API, modelled on the Certificate Transparency API (RFC 9162 §4)."""

from __future__ import annotations

import base64
import json
from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from app.auth import READ_ROLES, CallerDep, get_principal
from app.deps import (
    CheckpointStateDep,
    PublicReadUowDep,
    SettingsDep,
    SignerDep,
)
from app.problems import HttpProblem, problem_responses
from app.routes.witness import WitnessesDep
from app.settings import LogAccess
from ledger.accounting.reporting.replay import party_entries
from ledger.errors import InvalidInput
from ledger.log import merkle, note
from ledger.log.checkpoints import signed_checkpoint
from ledger.log.cosignatures import latest_cosigned_checkpoint
from ledger.log.tlog_checkpoint import Checkpoint
from ledger.log.tlog_proof import format_tlog_proof
from ledger.ports import UnitOfWork
from ledger.registry.services.lookups import party_of

router = APIRouter(prefix="/v1/log", tags=["log"])

MAX_INT64 = 2**63 - 1
Position = Annotated[int, Query(ge=0, le=MAX_INT64)]


class EntryRangeInvalid(InvalidInput):
    """The requested entry range is empty, reversed or beyond the log."""

    problem_type = "entry-range-invalid"
    title = "The requested entry range is empty, reversed or beyond the log"
    rule = "entry-range"


class InclusionProofPublic(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]


class ConsistencyProofPublic(BaseModel):
    first: int
    second: int
    first_root_hash: str
    second_root_hash: str
    consistency: list[str]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def require_reader(access: LogAccess, caller: CallerDep) -> None:
    if access is LogAccess.public:
        return
    principal = await get_principal(caller)
    if principal.role not in READ_ROLES:
        names = ", ".join(role.value for role in READ_ROLES)
        raise HttpProblem(
            403,
            f"role {principal.role.value} may not read the log; allowed: {names}",
            rule="role-allowed",
        )


async def require_log_reader(settings: SettingsDep, caller: CallerDep) -> None:
    """Proofs and hash tiles: anyone, or (``A6LEDGER_LOG_READ_ACCESS=token``) a reading role."""
    await require_reader(settings.log_read_access, caller)


async def require_entries_reader(settings: SettingsDep, caller: CallerDep) -> None:
    """Entries: anyone (``A6LEDGER_LOG_ENTRIES_ACCESS=public``) or, by default, a reading role."""
    await require_reader(settings.log_entries_access, caller)


LogReaderDep = Annotated[None, Depends(require_log_reader)]
EntriesReaderDep = Annotated[None, Depends(require_entries_reader)]


def checkpoint_response(
    request: Request,
    uow: UnitOfWork,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
) -> Response:
    """The latest signed checkpoint note, with an ETag and ``Cache-Control: no-cache``."""
    checkpoint, signed = signed_checkpoint(uow.log, signer, settings.log_origin, state=state)
    request.app.state.metrics.checkpoint_signed(checkpoint.size)
    etag = f'"{checkpoint.size}-{checkpoint.root_hash.hex()[:16]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(signed, media_type="text/plain; charset=utf-8", headers=headers)


def _not_modified(request: Request, etag: str) -> bool:
    candidates = request.headers.get("if-none-match", "")
    return etag in {c.strip() for c in candidates.split(",")} or candidates.strip() == "*"


@router.get(
    "/checkpoint",
    operation_id="log-read_checkpoint",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "C2SP signed checkpoint"},
        304: {"description": "Not modified"},
        **problem_responses(500),
    },
)
def read_checkpoint(
    request: Request,
    uow: PublicReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
) -> Response:
    """The latest checkpoint: a C2SP tlog-checkpoint in a C2SP signed note (Ed25519)."""
    return checkpoint_response(request, uow, signer, settings, state)


@router.get(
    "/key",
    operation_id="log-read_key",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "C2SP verifier key"}},
)
def read_key(signer: SignerDep) -> Response:
    """The log's verifier key (``<name>+<key id>+<base64 key>``), for offline verification."""
    return Response(signer.vkey + "\n", media_type="text/plain; charset=utf-8")


@router.get(
    "/entries",
    operation_id="log-read_entries",
    response_class=Response,
    responses={
        200: {
            "content": {"application/jsonl": {}},
            "description": "One canonical entry (the Merkle leaf bytes) per line",
        },
        **problem_responses(401, 403, 422),
    },
)
def read_entries(
    _: EntriesReaderDep,
    uow: PublicReadUowDep,
    settings: SettingsDep,
    start: Position,
    end: Annotated[int | None, Query(ge=0, le=MAX_INT64)] = None,
) -> Response:
    """Entries ``start`` (inclusive) to ``end`` (exclusive) as JSON Lines. Readable per the
    deployment's ``A6LEDGER_LOG_ENTRIES_ACCESS`` (default: a token of a reading role).

    A page holds at most the configured page size; the server returns fewer entries than asked
    for when the log or the page ends (check ``A6-Next-Start``)."""
    size = uow.log.size()
    wanted_end = size if end is None else end
    if wanted_end < start or start > size:
        raise EntryRangeInvalid(
            f"range [{start}, {wanted_end}) is not within the log of size {size}",
            start=start,
            end=wanted_end,
            tree_size=size,
        )
    stop = min(wanted_end, size, start + settings.max_page_size)
    bodies = uow.log.read_entries(start, stop)
    content = b"".join(body + b"\n" for body in bodies)
    return Response(
        content,
        media_type="application/jsonl",
        headers={"A6-Tree-Size": str(size), "A6-Next-Start": str(stop)},
    )


@router.get(
    "/entries/party",
    operation_id="log-read_party_entries",
    response_class=Response,
    responses={
        200: {
            "content": {"application/jsonl": {}},
            "description": "One line per entry: `index`, `entry` (the base64 of its canonical "
            "bytes, the Merkle leaf) and `audit_path` (its RFC 9162 inclusion proof in the tree "
            "of `tree_size`, base64 hashes)",
        },
        **problem_responses(401, 403, 404, 422),
    },
)
def read_party_entries(
    _: EntriesReaderDep,
    uow: PublicReadUowDep,
    settings: SettingsDep,
    party: Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="A Party's code")],
    tree_size: Position,
    start: Position = 0,
) -> Response:
    """The entries a Party's reports read, below ``tree_size``, from seq ``start``, each with
    its inclusion proof in the tree of ``tree_size``: the reference entries (Parties,
    registries, approaches, authorizations, entities, accounts) and those the entry index lists
    under the Party, its accounts and its authorizations. What a counterpart needs to derive
    the Party's AEF and verify every entry against a signed checkpoint of ``tree_size``
    (``POST /v1/reconciliations``, ``a6ledger reconcile``), without reading the whole log.

    A page holds at most the configured page size; ``A6-Next-Start`` is set while entries
    remain (ask again from it). Readable per ``A6LEDGER_LOG_ENTRIES_ACCESS``."""
    size = uow.log.size()
    if tree_size > size or start > tree_size:
        raise EntryRangeInvalid(
            f"tree size {tree_size} from {start} is not within the log of size {size}",
            start=start,
            tree_size=tree_size,
        )
    party_of(uow, party)  # 404 party-registered, as the filtered export answers
    wanted = (e for e in party_entries(uow, party, tree_size) if e.seq >= start)
    page = list(islice(wanted, settings.max_page_size + 1))
    more = len(page) > settings.max_page_size
    page = page[: settings.max_page_size]
    lines = [
        json.dumps(
            {
                "index": entry.seq,
                "entry": b64(entry.canonical_bytes()),
                "audit_path": [b64(h) for h in uow.log.inclusion_proof(entry.seq, tree_size)],
            },
            separators=(",", ":"),
        )
        for entry in page
    ]
    headers = {"A6-Tree-Size": str(tree_size)}
    if more:
        headers["A6-Next-Start"] = str(page[-1].seq + 1)
    return Response(
        "".join(line + "\n" for line in lines), media_type="application/jsonl", headers=headers
    )


@router.get(
    "/proofs/inclusion",
    operation_id="log-read_inclusion_proof",
    responses=problem_responses(401, 403, 422),
)
def read_inclusion_proof(
    _: LogReaderDep, uow: PublicReadUowDep, index: Position, tree_size: Position
) -> InclusionProofPublic:
    """RFC 9162 inclusion proof (audit path) for the entry at ``index`` in the tree of
    ``tree_size``."""
    path = uow.log.inclusion_proof(index, tree_size)
    leaf = merkle.leaf_hash(uow.log.read_entries(index, index + 1)[0])
    return InclusionProofPublic(
        leaf_index=index,
        tree_size=tree_size,
        leaf_hash=b64(leaf),
        root_hash=b64(uow.log.root(tree_size)),
        audit_path=[b64(h) for h in path],
    )


@router.get(
    "/proofs/consistency",
    operation_id="log-read_consistency_proof",
    responses=problem_responses(401, 403, 422),
)
def read_consistency_proof(
    _: LogReaderDep, uow: PublicReadUowDep, first: Position, second: Position
) -> ConsistencyProofPublic:
    """RFC 9162 consistency proof that the tree of size ``second`` extends that of ``first``."""
    proof = uow.log.consistency_proof(first, second)
    return ConsistencyProofPublic(
        first=first,
        second=second,
        first_root_hash=b64(uow.log.root(first)),
        second_root_hash=b64(uow.log.root(second)),
        consistency=[b64(h) for h in proof],
    )


@router.get(
    "/proofs/bundle",
    operation_id="log-read_proof_bundle",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "C2SP tlog-proof bundle"},
        **problem_responses(401, 403, 404, 422, 500),
    },
)
def read_proof_bundle(
    request: Request,
    _: LogReaderDep,
    uow: PublicReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
    witnesses: WitnessesDep,
    index: Position,
    cosigned: Annotated[
        bool,
        Query(
            description="Prove against the latest cosigned checkpoint, whose note carries the "
            "witnesses' cosignatures (for `verify-proof --witness ... --require K`); 404 while "
            "none is cosigned, 422 for an entry after it"
        ),
    ] = False,
) -> Response:
    """A C2SP ``tlog-proof@v1`` bundle for the entry at ``index``: its inclusion proof and the
    signed checkpoint it verifies against, for offline verification with the public key only."""
    if cosigned:
        signed = latest_cosigned_checkpoint(uow, signer, settings.log_origin, witnesses, state)
        checkpoint = Checkpoint.parse(note.parse_note(signed).text)
    else:
        checkpoint, signed = signed_checkpoint(uow.log, signer, settings.log_origin, state=state)
    request.app.state.metrics.checkpoint_signed(checkpoint.size)
    proof = uow.log.inclusion_proof(index, checkpoint.size)
    bundle = format_tlog_proof(index, proof, signed)
    return Response(bundle, media_type="text/plain; charset=utf-8")
