"""Recording partner registries' cosignatures of this log's checkpoints, and serving them.

:func:`record_cosignature` verifies a witness's cosignature line (C2SP tlog-cosignature) against
the checkpoint of a tree size the log has reached, recomputing that checkpoint's root from the
log, then stores it and appends a ``checkpoint.cosigned`` entry in the same unit of work, so the
acknowledgement is itself in the log. A witness cosigns a tree size once: sending the same line
again returns the stored record and appends nothing; a different line by the same key is a
:class:`~ledger.log.witness.CosignatureConflict`.

:func:`latest_cosigned_checkpoint` is the latest cosigned checkpoint as one signed note: the
log's signature and every recorded cosignature of that tree size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.errors import NotFound
from ledger.log import note, witness
from ledger.log.checkpoints import (
    CheckpointState,
    checkpoint_of,
    guard_consistency,
    signed_checkpoint,
)
from ledger.log.tlog_checkpoint import Checkpoint
from ledger.ports import StoredCosignature, UnitOfWork
from ledger.recording import record_entry


class NoCosignedCheckpoint(NotFound):
    """No checkpoint of this log has been cosigned by a witness yet."""

    problem_type = "no-cosigned-checkpoint"
    title = "No checkpoint of this log has been cosigned by a witness yet"
    rule = "cosigned-checkpoint-exists"


@dataclass(frozen=True, slots=True)
class RecordedCosignature:
    """A verified cosignature, the seq of the entry that records it and when it was recorded."""

    cosignature: witness.Cosignature
    seq: int
    recorded_at: datetime


def _as_cosignature(stored: StoredCosignature, checkpoint: Checkpoint) -> witness.Cosignature:
    return witness.Cosignature(
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        key_name=stored.key_name,
        key_id=int(stored.key_id, 16),
        timestamp=stored.timestamp,
        signature_line=stored.signature_line,
    )


def record_cosignature(
    uow: UnitOfWork,
    origin: str,
    witnesses: Sequence[note.Verifier],
    tree_size: int,
    signature_line: str,
    actor: str,
) -> RecordedCosignature:
    """Verify ``signature_line`` over the checkpoint of ``tree_size`` recomputed from the log,
    then store it and record ``checkpoint.cosigned`` (or return the identical one already
    stored), in ``uow`` (a writing unit of work; the caller commits)."""
    checkpoint = checkpoint_of(uow.log, origin, tree_size)
    cosignature = witness.verify_cosignature_line(checkpoint, signature_line, witnesses)
    stored = uow.cosignatures.get(checkpoint.size, cosignature.key_id_hex)
    if stored is not None:
        if stored.signature_line != cosignature.signature_line:
            raise witness.CosignatureConflict(
                f"{cosignature.key_name}+{cosignature.key_id_hex} already cosigned tree size "
                f"{checkpoint.size} with another signature (timestamp {stored.timestamp})",
                tree_size=checkpoint.size,
                key_name=cosignature.key_name,
                key_id=cosignature.key_id_hex,
                recorded_signature=stored.signature_line,
            )
        return RecordedCosignature(cosignature, stored.seq, stored.recorded_at)
    appended = record_entry(uow, witness.KIND_CHECKPOINT_COSIGNED, cosignature.payload(), actor)
    recorded_at = uow.now()
    uow.cosignatures.add(
        StoredCosignature(
            tree_size=cosignature.tree_size,
            key_id=cosignature.key_id_hex,
            key_name=cosignature.key_name,
            timestamp=cosignature.timestamp,
            signature_line=cosignature.signature_line,
            seq=appended.seq,
            recorded_at=recorded_at,
        )
    )
    return RecordedCosignature(cosignature, appended.seq, recorded_at)


def latest_cosigned_checkpoint(
    uow: UnitOfWork,
    signer: note.Signer,
    origin: str,
    witnesses: Sequence[note.Verifier],
    state: CheckpointState | None = None,
) -> str:
    """The latest checkpoint a witness cosigned, signed by the log, with one ``cosignature/v1``
    line per witness that cosigned that tree size. :class:`NoCosignedCheckpoint` before the
    first cosignature.

    Call it first in a reading unit of work: ``state`` is checked before the read snapshot
    starts, so a tree signed meanwhile by another request is never "missing" from it."""
    guard_consistency(uow.log, state)
    size = uow.cosignatures.latest_tree_size()
    if size is None:
        raise NoCosignedCheckpoint("no checkpoint has been cosigned by a witness yet")
    checkpoint, signed = signed_checkpoint(uow.log, signer, origin, size, state=state)
    cosignatures = [_as_cosignature(s, checkpoint) for s in uow.cosignatures.of_tree_size(size)]
    return witness.cosigned_note(signed, cosignatures, witnesses)


def cosignatures_of(uow: UnitOfWork, checkpoint: Checkpoint) -> list[witness.Cosignature]:
    """The recorded cosignatures of ``checkpoint`` (its tree size, with the root the log gives
    it), for :func:`ledger.log.witness.cosigned_note` or a signed export's checkpoint."""
    return [_as_cosignature(s, checkpoint) for s in uow.cosignatures.of_tree_size(checkpoint.size)]
