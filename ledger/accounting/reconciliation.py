"""Reconciliation between two a6ledger instances: this Party's ledger against a counterpart
Party's, with the counterpart's entries verified against its signed (and cosigned) checkpoint.

:func:`reconcile` trusts nothing the counterpart serves until it is proven:

1. the counterpart's checkpoint (its cosigned one when it has one) must verify with the
   counterpart log's key; the cosignatures of known witnesses on it are verified and named,
   and ``required_cosignatures`` of them may be required;
2. if this instance witnesses the counterpart's log (``ledger.log.witnessing``), the checkpoint
   must be consistent with the one this witness cosigned last (a consistency proof the
   counterpart serves, checked against the root recorded here);
3. every entry up to the checkpoint's size is fetched and the Merkle root of their leaf hashes
   must be the checkpoint's root, so each one is exactly what the counterpart signed.

Then the counterpart's AEF for the year is derived from those verified entries (not taken from
its AEF endpoint) and the secretariat's consistency checks run on both sides
(:func:`ledger.accounting.consistency.check_against_counterpart`): each transfer between the two
Parties must meet its acquisition. The result is machine-readable (:meth:`Reconciliation.as_json`)
and says whether the pair matches; fetching is the :class:`CounterpartLog` port's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from ledger.accounting import consistency, reporting
from ledger.errors import ProofError
from ledger.log import merkle, note
from ledger.log.canonical import JsonValue
from ledger.log.encoding import b64encode
from ledger.log.merkle import ConsistencyProofInvalid
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from ledger.log.witness import require_cosignatures
from ledger.ports import UnitOfWork

MAX_PAGES = 1_000_000
"""Bound on the entry pages fetched for one reconciliation (each page holds at least one)."""


class CounterpartLog(Protocol):
    """Another instance's log, as it serves it (``ledger.adapters.counterpart`` over HTTP)."""

    def checkpoint(self) -> str:
        """Its latest cosigned checkpoint note, or its latest signed one if none is cosigned."""
        ...

    def entries(self, start: int, end: int) -> list[bytes]:
        """Canonical bytes of entries from ``start``, at most up to ``end`` (at least one)."""
        ...

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The RFC 9162 consistency proof from tree size ``first`` to ``second``."""
        ...


@dataclass(frozen=True, slots=True)
class VerifiedEntries:
    """Entries proven by a checkpoint: the Merkle root of their leaf hashes is its root."""

    bodies: tuple[bytes, ...]

    def read_entries(self, start: int, end: int) -> list[bytes]:
        return list(self.bodies[start:end])


class CounterpartLogInvalid(ProofError):
    """What the counterpart served does not verify against its own signed checkpoint."""

    problem_type = "counterpart-log-invalid"
    title = "The counterpart's entries do not verify against its signed checkpoint"
    rule = "counterpart-verified"


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome: what was verified of the counterpart and what the checks found.

    ``failure`` names the verification that failed (then nothing was compared); otherwise
    ``result`` is the consistency check of this Party's AEF against the counterpart's."""

    party: str
    counterpart_party: str
    reported_year: int
    origin: str = ""
    tree_size: int = 0
    root_hash: bytes = b""
    cosigned_by: tuple[str, ...] = ()
    witnessed_size: int | None = None
    entries_verified: int = 0
    failure: str | None = None
    result: consistency.ConsistencyResult | None = None

    @property
    def matches(self) -> bool:
        """Everything verified and no inconsistency on either side."""
        return (
            self.failure is None
            and self.result is not None
            and self.result.notation is consistency.Notation.NO_INCONSISTENCIES
            and not self.result.findings
        )

    def matched_transfers(self) -> int:
        """This Party's transfers and acquisitions met by the counterpart's other side."""
        if self.result is None:
            return 0
        return sum(
            1
            for check in self.result.rows
            if check.ref.party == self.party
            and check.counterpart is not None
            and check.counterpart.party == self.counterpart_party
        )

    def as_json(self) -> dict[str, JsonValue]:
        result = self.result
        checks = () if result is None else (result.own, result.counterpart)
        findings = () if result is None else result.findings
        return {
            "matches": self.matches,
            "party": self.party,
            "counterpart_party": self.counterpart_party,
            "reported_year": self.reported_year,
            "counterpart_checkpoint": {
                "origin": self.origin,
                "tree_size": self.tree_size,
                "root_hash": b64encode(self.root_hash) if self.root_hash else None,
                "cosigned_by": list(self.cosigned_by),
                "witnessed_size": self.witnessed_size,
            },
            "entries_verified": self.entries_verified,
            "failure": self.failure,
            "matched_transfers": self.matched_transfers(),
            "notation": None if result is None else result.notation.value,
            "submissions": [consistency.submission_json(c) for c in checks if c is not None],
            "findings": [consistency.finding_json(f) for f in findings],
        }


def _verify_checkpoint(
    text: str,
    verifiers: Sequence[note.Verifier],
    witnesses: Sequence[note.Verifier],
    required: int,
) -> tuple[Checkpoint, tuple[str, ...]]:
    checkpoint, _ = open_checkpoint(text, verifiers)
    found = require_cosignatures(checkpoint, [text], witnesses, required)
    return checkpoint, tuple(f"{c.key_name}+{c.key_id_hex}" for c in found)


def _check_witnessed(
    source: CounterpartLog, checkpoint: Checkpoint, size: int, root: bytes
) -> None:
    """The checkpoint is consistent with the one this witness cosigned last (size, root)."""
    if size == checkpoint.size:
        if root != checkpoint.root_hash:
            raise CounterpartLogInvalid(
                f"the counterpart's checkpoint of tree size {size} has another root than the "
                "one this instance cosigned as its witness: its log forked"
            )
        return
    if size == 0:
        return
    first, second = sorted((size, checkpoint.size))
    first_root, second_root = (
        (root, checkpoint.root_hash) if size < checkpoint.size else (checkpoint.root_hash, root)
    )
    try:
        merkle.verify_consistency(
            first, second, source.consistency_proof(first, second), first_root, second_root
        )
    except ConsistencyProofInvalid as exc:
        raise CounterpartLogInvalid(
            f"the counterpart's checkpoint of tree size {checkpoint.size} is not proven "
            f"consistent with the one of size {size} this instance cosigned as its witness: "
            f"{exc.message}"
        ) from exc


def _fetch_verified(source: CounterpartLog, checkpoint: Checkpoint) -> VerifiedEntries:
    bodies: list[bytes] = []
    for _ in range(MAX_PAGES):
        if len(bodies) >= checkpoint.size:
            break
        page = source.entries(len(bodies), checkpoint.size)
        if not page:
            raise CounterpartLogInvalid(
                f"the counterpart served no entry at seq {len(bodies)} of {checkpoint.size}"
            )
        bodies.extend(page[: checkpoint.size - len(bodies)])
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(body) for body in bodies])
    if len(bodies) != checkpoint.size or root != checkpoint.root_hash:
        raise CounterpartLogInvalid(
            f"the {len(bodies)} entries the counterpart served do not hash to the root of its "
            f"checkpoint of tree size {checkpoint.size}"
        )
    return VerifiedEntries(tuple(bodies))


def reconcile(
    uow: UnitOfWork,
    party: str,
    counterpart_party: str,
    reported_year: int,
    source: CounterpartLog,
    verifiers: Sequence[note.Verifier],
    witnesses: Sequence[note.Verifier] = (),
    required_cosignatures: int = 0,
    date_tolerance: timedelta = consistency.DEFAULT_DATE_TOLERANCE,
) -> Reconciliation:
    """Reconcile ``party``'s ledger (``uow``) with ``counterpart_party``'s (``source``, signed
    by one of ``verifiers``) for ``reported_year``. A verification that fails is reported in
    the result (``failure``), not raised; errors of the fetch itself (an unreachable
    counterpart) and of this ledger's own report (an unknown Party) are raised."""
    outcome = Reconciliation(party, counterpart_party, reported_year)
    try:
        checkpoint, cosigned_by = _verify_checkpoint(
            source.checkpoint(), verifiers, witnesses, required_cosignatures
        )
        outcome = replace(
            outcome,
            origin=checkpoint.origin,
            tree_size=checkpoint.size,
            root_hash=checkpoint.root_hash,
            cosigned_by=cosigned_by,
        )
        witnessed = uow.witnessed.latest(checkpoint.origin)
        if witnessed is not None:
            outcome = replace(outcome, witnessed_size=witnessed.tree_size)
            _check_witnessed(source, checkpoint, witnessed.tree_size, witnessed.root_hash)
        verified = _fetch_verified(source, checkpoint)
    except ProofError as exc:
        return replace(outcome, failure=exc.message)
    own = reporting.aef_report_for(uow, party, reported_year)
    counterpart = reporting.draft_aef_report_of(
        verified, checkpoint.size, counterpart_party, reported_year, uow.now().date()
    )
    result = consistency.check_against_counterpart(own, counterpart, date_tolerance=date_tolerance)
    return replace(outcome, entries_verified=checkpoint.size, result=result)
