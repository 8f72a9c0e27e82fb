"""SQL implementation of the ``WitnessRepository`` port (tables ``witnessed_checkpoint`` and
``witness_evidence``)."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, insert, select

from ledger.adapters.sql.orm_witness import witness_evidence, witnessed_checkpoint
from ledger.adapters.sql.times import as_utc
from ledger.log.encoding import b64decode, b64encode
from ledger.ports import WitnessedCheckpoint, WitnessEvidence

_w = witnessed_checkpoint.c
_e = witness_evidence.c


def _proof_hashes(text: str) -> tuple[bytes, ...]:
    hashes = [b64decode(line) for line in text.splitlines()]
    return tuple(h for h in hashes if h is not None)


def _evidence(row: RowMapping) -> WitnessEvidence:
    return WitnessEvidence(
        origin=row["origin"],
        reason=row["reason"],
        old_size=int(row["old_size"]),
        proof=_proof_hashes(row["proof"]),
        submitted_note=row["submitted_note"],
        cosigned_note=row["cosigned_note"],
        recorded_at=as_utc(row["recorded_at"]),
    )


class SqlWitnessRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def latest(self, origin: str) -> WitnessedCheckpoint | None:
        query = (
            select(witnessed_checkpoint)
            .where(_w.origin == origin)
            .order_by(_w.tree_size.desc())
            .limit(1)
        )
        row = self._conn.execute(query).mappings().first()
        if row is None:
            return None
        return WitnessedCheckpoint(
            origin=row["origin"],
            tree_size=int(row["tree_size"]),
            root_hash=bytes(row["root_hash"]),
            signed_note=row["signed_note"],
            recorded_at=as_utc(row["recorded_at"]),
        )

    def add(self, checkpoint: WitnessedCheckpoint) -> None:
        self._conn.execute(
            insert(witnessed_checkpoint).values(
                origin=checkpoint.origin,
                tree_size=checkpoint.tree_size,
                root_hash=checkpoint.root_hash,
                signed_note=checkpoint.signed_note,
                recorded_at=checkpoint.recorded_at,
            )
        )

    def add_evidence(self, evidence: WitnessEvidence) -> None:
        self._conn.execute(
            insert(witness_evidence).values(
                origin=evidence.origin,
                reason=evidence.reason,
                old_size=evidence.old_size,
                proof="".join(b64encode(h) + "\n" for h in evidence.proof),
                submitted_note=evidence.submitted_note,
                cosigned_note=evidence.cosigned_note,
                recorded_at=evidence.recorded_at,
            )
        )

    def evidence(self, origin: str) -> list[WitnessEvidence]:
        query = select(witness_evidence).where(_e.origin == origin).order_by(_e.id)
        return [_evidence(row) for row in self._conn.execute(query).mappings()]
