"""Reconciliation between two a6ledger instances: this Party's ledger against a counterpart
Party's, with the counterpart's entries verified against its signed (and cosigned) checkpoint.

:func:`reconcile` trusts nothing the counterpart serves until it is proven:

1. the counterpart's checkpoint (its cosigned one when it has one) must verify with the
   counterpart log's key; the cosignatures of known witnesses on it are verified and named,
   and ``required_cosignatures`` of them may be required;
2. if this instance witnesses the counterpart's log (``ledger.log.witnessing``), the checkpoint
   must be consistent with the one this witness cosigned last (a consistency proof the
   counterpart serves, checked against the root recorded here);
3. only the entries the counterpart Party's reports read are fetched (the reference entries and
   those its entry index lists under that Party, its accounts and its authorizations:
   ``GET /v1/log/entries/party``), not its whole log, and each must carry an inclusion proof in
   the checkpoint's tree, so each one is exactly what the counterpart signed.

The counterpart could still leave out an entry about itself (no proof shows absence); an
omitted transfer or acquisition shows as an inconsistency on one side, and the complete log is
what an export or a mirror of its tiles verifies. Counterparty and year are not filtered on:
the AEF needs the Party's whole history (holdings at year end, its authorizations).

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
from ledger.log.chain import Entry, MalformedEntry
from ledger.log.encoding import b64encode
from ledger.log.merkle import ConsistencyProofInvalid, InclusionProofInvalid
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from ledger.log.witness import require_cosignatures
from ledger.ports import UnitOfWork

MAX_PAGES = 1_000_000
"""Bound on the entry pages fetched for one reconciliation (each page holds at least one)."""


@dataclass(frozen=True, slots=True)
class ProvenEntry:
    """An entry as a counterpart serves it: its seq, its canonical bytes (the Merkle leaf) and
    its inclusion proof in the tree of the size asked for."""

    index: int
    body: bytes
    audit_path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class EntriesPage:
    """A page of proven entries, and the seq to ask from next (``None``: no more)."""

    entries: tuple[ProvenEntry, ...]
    next_start: int | None


class CounterpartLog(Protocol):
    """Another instance's log, as it serves it (``ledger.adapters.counterpart`` over HTTP)."""

    def checkpoint(self) -> str:
        """Its latest cosigned checkpoint note, or its latest signed one if none is cosigned."""
        ...

    def party_entries(self, party: str, tree_size: int, start: int) -> EntriesPage:
        """The entries ``party``'s reports read below ``tree_size``, from seq ``start``, each
        with its inclusion proof in the tree of ``tree_size``."""
        ...

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The RFC 9162 consistency proof from tree size ``first`` to ``second``."""
        ...


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


def _verified(entry: ProvenEntry, checkpoint: Checkpoint, after: int) -> Entry:
    if not after < entry.index < checkpoint.size:
        raise CounterpartLogInvalid(
            f"the counterpart served entry {entry.index} after entry {after}, in a tree of size "
            f"{checkpoint.size}: entries come once each, in seq order, within the tree"
        )
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(entry.body),
            entry.index,
            checkpoint.size,
            entry.audit_path,
            checkpoint.root_hash,
        )
        parsed = Entry.from_canonical(entry.body)
    except (InclusionProofInvalid, MalformedEntry) as exc:
        raise CounterpartLogInvalid(
            f"entry {entry.index} the counterpart served is not proven in its checkpoint of "
            f"tree size {checkpoint.size}: {exc.message}"
        ) from exc
    if parsed.seq != entry.index:
        raise CounterpartLogInvalid(
            f"entry {entry.index} the counterpart served says it is entry {parsed.seq}"
        )
    return parsed


def _fetch_party_entries(source: CounterpartLog, checkpoint: Checkpoint, party: str) -> list[Entry]:
    """The entries of ``party``'s reports, each proven in ``checkpoint``'s tree."""
    verified: list[Entry] = []
    start: int | None = 0
    for _ in range(MAX_PAGES):
        if start is None:
            return verified
        page = source.party_entries(party, checkpoint.size, start)
        for entry in page.entries:
            verified.append(_verified(entry, checkpoint, verified[-1].seq if verified else -1))
        if page.next_start is not None and (
            not page.entries or page.next_start <= verified[-1].seq
        ):
            raise CounterpartLogInvalid(
                f"the counterpart's page from {start} does not advance (next {page.next_start})"
            )
        start = page.next_start
    raise CounterpartLogInvalid(f"the counterpart served more than {MAX_PAGES} pages")


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
        verified = _fetch_party_entries(source, checkpoint, counterpart_party)
    except ProofError as exc:
        return replace(outcome, failure=exc.message)
    outcome = replace(outcome, entries_verified=len(verified))
    own = reporting.aef_report_for(uow, party, reported_year)
    counterpart = reporting.draft_aef_report_of(
        verified, checkpoint.size, counterpart_party, reported_year, uow.now().date()
    )
    result = consistency.check_against_counterpart(own, counterpart, date_tolerance=date_tolerance)
    return replace(outcome, result=result)
