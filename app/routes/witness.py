"""Witness cosignatures: partner registries cosign this log's checkpoints (C2SP tlog-cosignature).

``POST /v1/log/cosignatures`` accepts a cosignature line by a configured witness key
(``A6LEDGER_WITNESS_KEYS``) over the checkpoint of a tree size the log has reached;
``GET /v1/log/checkpoint/cosigned`` serves the latest cosigned checkpoint as one signed note.
The use cases are in :mod:`ledger.log.cosignatures`; these routes translate HTTP.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from app.auth import AdminOrRegistryDep
from app.deps import CheckpointStateDep, PublicReadUowDep, SettingsDep, SignerDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.problems import problem_responses
from app.schemas import RequestModel, ResponseModel
from ledger.log import note, witness
from ledger.log.cosignatures import (
    RecordedCosignature,
    latest_cosigned_checkpoint,
    record_cosignature,
)

router = APIRouter(prefix="/v1/log", tags=["log"])

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
    return witness.parse_witness_keys(settings.witness_keys)


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
def create_cosignature(
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
    return write.run(
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
