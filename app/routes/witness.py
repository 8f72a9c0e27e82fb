"""Witness cosignatures: partner registries cosign this log's checkpoints (C2SP tlog-cosignature).

``POST /v1/log/cosignatures`` accepts a cosignature line by a configured witness key
(``A6LEDGER_WITNESS_KEYS``) over the checkpoint of a tree size the log has reached, recomputing
that checkpoint's root from storage. The cosignature is stored (``checkpoint_cosignature``,
append-only) and recorded as a ``checkpoint.cosigned`` ledger entry in the same transaction, so
the acknowledgement is itself in the log. A witness cosigns a tree size once: the same line again
returns the stored record and appends nothing; a different line by the same key is a 409.

``GET /v1/log/checkpoint/cosigned`` serves the latest cosigned checkpoint as one signed note: the
log's signature and every recorded cosignature of that tree size.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import Field
from sqlalchemy import Connection, RowMapping, func, insert, select

from app.auth import AdminOrRegistryDep
from app.deps import CheckpointStateDep, ReadUowDep, SettingsDep, SignerDep
from app.idempotency import IdempotentWriteDep, write_responses
from app.problems import problem_responses
from app.schemas import RequestModel, ResponseModel
from app.settings import Settings
from ledger.adapters.sql.orm_witness import checkpoint_cosignature
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.errors import NotFound
from ledger.log import note, witness
from ledger.log.checkpoints import checkpoint_of, guard_consistency, signed_checkpoint
from ledger.log.tlog_checkpoint import Checkpoint

router = APIRouter(prefix="/v1/log", tags=["log"])

MAX_INT64 = 2**63 - 1
MAX_SIGNATURE_LINE = 1024
"""Longest cosignature line accepted: an Ed25519 cosignature line with a long key name is a few
hundred characters."""


class NoCosignedCheckpoint(NotFound):
    """No checkpoint of this log has been cosigned by a witness yet."""

    rule = "cosigned-checkpoint-exists"


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


def _public(cosignature: witness.Cosignature, seq: int, recorded_at: datetime) -> CosignaturePublic:
    return CosignaturePublic(
        tree_size=cosignature.tree_size,
        root_hash=base64.b64encode(cosignature.root_hash).decode("ascii"),
        key_name=cosignature.key_name,
        key_id=cosignature.key_id_hex,
        timestamp=cosignature.timestamp,
        signature=cosignature.signature_line,
        seq=seq,
        # SQLite hands back naive datetimes; every stored time is UTC.
        recorded_at=recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=UTC),
    )


def _stored(conn: Connection, tree_size: int, key_id: str | None = None) -> list[RowMapping]:
    query = select(checkpoint_cosignature).where(checkpoint_cosignature.c.tree_size == tree_size)
    if key_id is not None:
        query = query.where(checkpoint_cosignature.c.key_id == key_id)
    return list(conn.execute(query.order_by(checkpoint_cosignature.c.key_id)).mappings().all())


def _as_cosignature(row: RowMapping, checkpoint: Checkpoint) -> witness.Cosignature:
    return witness.Cosignature(
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        key_name=row["key_name"],
        key_id=int(row["key_id"], 16),
        timestamp=int(row["timestamp"]),
        signature_line=row["signature_line"],
    )


def record_cosignature(
    uow: SqlAlchemyUnitOfWork,
    settings: Settings,
    witnesses: tuple[note.Verifier, ...],
    body: CosignatureCreate,
    actor: str,
) -> CosignaturePublic:
    """Verify the cosignature over the checkpoint recomputed from storage, then store it and
    append ``checkpoint.cosigned`` (or return the identical one already stored)."""
    checkpoint = checkpoint_of(uow.log, settings.log_origin, body.tree_size)
    cosignature = witness.verify_cosignature_line(checkpoint, body.signature, witnesses)
    for row in _stored(uow.connection, checkpoint.size, cosignature.key_id_hex):
        if row["signature_line"] != cosignature.signature_line:
            raise witness.CosignatureConflict(
                f"{cosignature.key_name}+{cosignature.key_id_hex} already cosigned tree size "
                f"{checkpoint.size} with another signature (timestamp {row['timestamp']})",
                tree_size=checkpoint.size,
                key_name=cosignature.key_name,
                key_id=cosignature.key_id_hex,
                recorded_signature=row["signature_line"],
            )
        return _public(cosignature, int(row["seq"]), row["recorded_at"])
    appended = uow.log.append(witness.KIND_CHECKPOINT_COSIGNED, cosignature.payload(), actor=actor)
    recorded_at = uow.now()
    uow.connection.execute(
        insert(checkpoint_cosignature).values(
            tree_size=cosignature.tree_size,
            key_id=cosignature.key_id_hex,
            key_name=cosignature.key_name,
            timestamp=cosignature.timestamp,
            signature_line=cosignature.signature_line,
            seq=appended.seq,
            recorded_at=recorded_at,
        )
    )
    return _public(cosignature, appended.seq, recorded_at)


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
        lambda uow: record_cosignature(uow, settings, witnesses, body, principal.actor)
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
    uow: ReadUowDep,
    signer: SignerDep,
    settings: SettingsDep,
    witnesses: WitnessesDep,
    state: CheckpointStateDep,
) -> Response:
    """The latest checkpoint that a witness has cosigned, as one C2SP signed note: the log's
    signature line, then one ``cosignature/v1`` line per witness that cosigned that tree size.
    Verify it with the log's key and the witness keys; 404 while no checkpoint is cosigned."""
    guard_consistency(uow.log, state)  # before the read snapshot starts (see exports)
    size = uow.connection.execute(select(func.max(checkpoint_cosignature.c.tree_size))).scalar()
    if size is None:
        raise NoCosignedCheckpoint("no checkpoint has been cosigned by a witness yet")
    checkpoint, signed = signed_checkpoint(
        uow.log, signer, settings.log_origin, int(size), state=state
    )
    cosignatures = [_as_cosignature(row, checkpoint) for row in _stored(uow.connection, size)]
    text = witness.cosigned_note(signed, cosignatures, witnesses)
    return Response(
        text, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )
