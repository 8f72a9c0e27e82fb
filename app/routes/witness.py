"""Mutual witnessing: partner registries cosign this log's checkpoints, and this instance
witnesses theirs (C2SP tlog-cosignature and tlog-witness).

``POST /v1/log/cosignatures`` accepts a cosignature line by a configured witness key
(``A6LEDGER_WITNESS_KEYS``) over the checkpoint of a tree size the log has reached;
``GET /v1/log/checkpoint/cosigned`` serves the latest cosigned checkpoint as one signed note.
``POST /v1/witness/add-checkpoint`` is this instance's witness (c2sp.org/tlog-witness) of the
partner logs in ``A6LEDGER_WITNESSED_LOGS``; ``GET /v1/witness/key`` is its cosigner key.
The use cases are in :mod:`ledger.log.cosignatures` and :mod:`ledger.log.witnessing`; these
routes translate HTTP.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from app.admission import StorageDep
from app.auth import AdminOrRegistryDep
from app.deps import CheckpointStateDep, PublicReadUowDep, SettingsDep, SignerDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.problems import problem_responses
from app.schemas import RequestModel, ResponseModel
from ledger.log import note, witness, witnessing
from ledger.log.cosignatures import (
    RecordedCosignature,
    latest_cosigned_checkpoint,
    record_cosignature,
)
from ledger.log.tlog_cosignature import Cosigner
from ledger.log.tlog_witness import SIZE_MEDIA_TYPE, format_size, parse_add_checkpoint

router = APIRouter(prefix="/v1/log", tags=["log"])
witness_router = APIRouter(prefix="/v1/witness", tags=["witness"])

MAX_INT64 = 2**63 - 1
MAX_SIGNATURE_LINE = 1024
"""Longest cosignature line accepted: an Ed25519 cosignature line with a long key name is a few
hundred characters."""


class CosignatureCreate(RequestModel):
    tree_size: Annotated[int, Field(ge=0, le=MAX_INT64, strict=True)]
    signature: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_SIGNATURE_LINE,
            description="The witness's cosignature line: `— <key name> <base64>` (C2SP "
            "tlog-cosignature, signature type 0x04), over the checkpoint of `tree_size`",
            examples=["— witness.example.org/jcm AAAAAAAAAAAAAAAA..."],
        ),
    ]


class CosignaturePublic(ResponseModel):
    tree_size: int
    root_hash: str = Field(description="Base64 Merkle root of the cosigned checkpoint")
    key_name: str
    key_id: str = Field(description="Witness key ID, 8 hex digits")
    timestamp: int = Field(description="Cosignature time, Unix seconds, as signed by the witness")
    signature: str = Field(description="The cosignature line, without its final newline")
    seq: int = Field(description="Seq of the checkpoint.cosigned ledger entry that records it")
    recorded_at: datetime


def get_witnesses(settings: SettingsDep) -> tuple[note.Verifier, ...]:
    """The configured witness keys (validated at start-up by :class:`Settings`)."""
    return witness.parse_witness_keys(settings.cosigner_keys)


WitnessesDep = Annotated[tuple[note.Verifier, ...], Depends(get_witnesses)]


def _public(recorded: RecordedCosignature) -> CosignaturePublic:
    cosignature = recorded.cosignature
    return CosignaturePublic(
        tree_size=cosignature.tree_size,
        root_hash=base64.b64encode(cosignature.root_hash).decode("ascii"),
        key_name=cosignature.key_name,
        key_id=cosignature.key_id_hex,
        timestamp=cosignature.timestamp,
        signature=cosignature.signature_line,
        seq=recorded.seq,
        recorded_at=recorded.recorded_at,
    )


@router.post(
    "/cosignatures",
    status_code=201,
    response_model=CosignaturePublic,
    responses=write_responses(201, 409),
)
async def create_cosignature(
    body: CosignatureCreate,
    principal: AdminOrRegistryDep,
    settings: SettingsDep,
    witnesses: WitnessesDep,
    write: IdempotentWriteDep,
) -> Response:
    """Record a partner registry's cosignature of the checkpoint of ``tree_size`` (any size the
    log has reached): a C2SP ``cosignature/v1`` line by a configured witness key.

    The line is verified against the checkpoint recomputed from storage; an accepted
    cosignature is stored and recorded as a ``checkpoint.cosigned`` ledger entry. Sending the
    same line again returns the stored record and appends nothing (no ``A6-Ledger-Seq``); a
    different line by the same key for the same tree size is a 409. Unknown witness keys,
    signatures that do not verify and tree sizes beyond the log are 422."""
    return await write.run_async(
        lambda uow: record_cosignature(
            uow, settings.log_origin, witnesses, body.tree_size, body.signature, principal.actor
        ),
        _public,
    )


@router.get(
    "/checkpoint/cosigned",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {}},
            "description": "C2SP signed checkpoint with the log's signature and the witnesses' "
            "cosignatures",
        },
        **problem_responses(404, 500),
    },
)
def read_cosigned_checkpoint(
    uow: PublicReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    witnesses: WitnessesDep,
    state: CheckpointStateDep,
) -> Response:
    """The latest checkpoint that a witness has cosigned, as one C2SP signed note: the log's
    signature line, then one ``cosignature/v1`` line per witness that cosigned that tree size.
    Verify it with the log's key and the witness keys; 404 while no checkpoint is cosigned."""
    text = latest_cosigned_checkpoint(uow, signer, settings.log_origin, witnesses, state)
    return Response(
        text, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


def get_witnessed_logs(settings: SettingsDep) -> witnessing.KnownLogs:
    """The partner logs this instance witnesses (validated at start-up by :class:`Settings`)."""
    return witnessing.parse_log_keys(settings.witnessed_logs)


async def get_cosigner(request: Request) -> Cosigner:
    cosigner: Cosigner | None = request.app.state.cosigner
    if cosigner is None:
        raise witnessing.NotAWitness(
            "this instance witnesses no log (A6LEDGER_WITNESSED_LOGS is empty)"
        )
    return cosigner


async def read_body(request: Request) -> bytes:
    """The raw request body (the middleware has bounded its size)."""
    return await request.body()


WitnessedLogsDep = Annotated[witnessing.KnownLogs, Depends(get_witnessed_logs)]
CosignerDep = Annotated[Cosigner, Depends(get_cosigner)]
RawBodyDep = Annotated[bytes, Depends(read_body)]

ADD_CHECKPOINT_EXAMPLE = (
    "old 0\n\nregistry.example.th/log\n5\n"
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— registry.example.th/log AAAA...\n"
)


@witness_router.post(
    "/add-checkpoint",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": ADD_CHECKPOINT_EXAMPLE,
                }
            },
        }
    },
    responses={
        200: {
            "content": {"text/plain": {}},
            "description": "This witness's cosignature line(s) of the checkpoint "
            "(C2SP tlog-cosignature), to append to the checkpoint note",
        },
        409: {
            "content": {
                SIZE_MEDIA_TYPE: {"schema": {"type": "string"}},
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
            },
            "description": "`text/x.tlog.size`: the old size is not the size this witness "
            "cosigned last, which the body names; a problem: the checkpoint has that size but "
            "another root (a fork, kept as evidence)",
        },
        **problem_responses(400, 403, 404, 422, 500),
    },
)
def add_checkpoint(
    body: RawBodyDep,
    storage: StorageDep,
    logs: WitnessedLogsDep,
    cosigner: CosignerDep,
) -> Response:
    """C2SP tlog-witness ``add-checkpoint``: a partner log's signed checkpoint, with ``old
    <size>`` (the size this witness cosigned last for that origin, 0 at first) and a
    consistency proof from it. No bearer token: the log's signature is the authentication.

    Cosigned (200, the cosignature line) when a key configured for the origin
    (``A6LEDGER_WITNESSED_LOGS``) signed it and it extends the checkpoint cosigned last, which
    it then replaces, atomically with the old-size check. Unknown origin 404, no trusted
    signature 403, old size beyond the checkpoint or a malformed body 400, old size not the
    latest 409 with ``text/x.tlog.size`` body ``<latest size>\\n``. A checkpoint that does not
    extend the one cosigned last (a proof that fails: 422; same size, another root: 409) is
    refused and kept as evidence of a fork."""
    request = parse_add_checkpoint(body)
    with storage.unit_of_work(write=True) as uow:
        try:
            line = witnessing.add_checkpoint(uow, logs, cosigner, request)
        except witnessing.OldSizeMismatch as exc:
            # Exactly the spec's content type: no charset parameter (Starlette would add one).
            return Response(
                format_size(exc.latest_size),
                status_code=409,
                headers={"Content-Type": SIZE_MEDIA_TYPE, "Cache-Control": "no-store"},
            )
        except witnessing.EVIDENCE_KEPT:
            uow.commit()
            raise
        uow.commit()
    return Response(
        line, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


@witness_router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {}},
            "description": "The log's signed checkpoint this witness cosigned last",
        },
        **problem_responses(404, 422, 500),
    },
)
def read_witnessed_checkpoint(
    origin: Annotated[
        str,
        Query(
            min_length=1,
            max_length=255,
            description="The origin of a log this instance witnesses",
            examples=["registry.example.th/log"],
        ),
    ],
    uow: PublicReadUowDep,
    logs: WitnessedLogsDep,
) -> Response:
    """The checkpoint of the log ``origin`` this witness cosigned last, exactly as the log
    signed it (its signature lines; not this witness's cosignature). No bearer token: the log
    published it. A log asks its witnesses this before it signs, so that a database restored
    behind a witnessed tree is refused (docs/architecture.md). 404 ``witness-nothing-cosigned``
    before the first, ``witness-unknown-log`` for a log this instance does not witness."""
    text = witnessing.latest_witnessed(uow, logs, origin)
    return Response(
        text, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


@witness_router.get(
    "/key",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The witness's verifier key"},
        **problem_responses(404, 500),
    },
)
def read_witness_key(cosigner: CosignerDep) -> Response:
    """This instance's witness key as a C2SP verifier key (``cosignature/v1``, type 0x04): the
    key partner logs configure to accept its cosignatures. 404 while it witnesses no log."""
    return Response(cosigner.vkey + "\n", media_type="text/plain; charset=utf-8")
