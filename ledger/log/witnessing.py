"""Mutual witnessing between registries (C2SP tlog-witness, verifiable-log.md §8).

Each a6ledger instance is a witness of its partners' logs and asks its partners to witness its
own:

- :func:`add_checkpoint` is the witness side: a partner log sends its new signed checkpoint with
  the size this witness cosigned last and a consistency proof from it. The witness checks the
  log's signature with the keys it trusts for that origin, checks that the checkpoint extends the
  one it cosigned last, records it, and returns its ``cosignature/v1`` line. A checkpoint that
  does not extend it (same size with another root, or a proof that fails) is refused, and the
  refused request is kept as :class:`~ledger.ports.WitnessEvidence`: a signed checkpoint that
  contradicts an earlier one is proof that the log forked.
- :func:`push_checkpoint` is the log side: it sends this log's current checkpoint to one partner
  witness, with the consistency proof from the size that witness last cosigned, and records the
  cosignature it gets back (``ledger.log.cosignatures``), so that the cosigned checkpoint
  (``GET /v1/log/checkpoint/cosigned``) carries it.

The old-size check and the record of the new checkpoint happen in one writing unit of work, which
holds the storage's write lock: two racing requests cannot roll the recorded size back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ledger.errors import Conflict, InvalidInput, LedgerError, NotFound, ProofError
from ledger.log import note
from ledger.log.checkpoints import CheckpointState, signed_checkpoint
from ledger.log.cosignatures import record_cosignature
from ledger.log.encoding import b64encode
from ledger.log.keys import SIGNATURE_TYPE_ED25519, InvalidKey
from ledger.log.merkle import ConsistencyProofInvalid, verify_consistency
from ledger.log.tlog_checkpoint import Checkpoint, MalformedCheckpoint, open_checkpoint
from ledger.log.tlog_cosignature import Cosigner
from ledger.log.tlog_witness import (
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    MalformedWitnessRequest,
    MalformedWitnessResponse,
    parse_cosignature_lines,
    parse_size,
)
from ledger.ports import Storage, UnitOfWork, WitnessedCheckpoint, WitnessEvidence

MAX_WITNESSED_SIZE = 2**63 - 1
"""Largest tree size the witness records (a signed 64-bit column)."""

KnownLogs = Mapping[str, tuple[note.Verifier, ...]]
"""The logs this instance witnesses: origin → the log's verifier keys (type 0x01)."""


class NotAWitness(NotFound):
    """This instance witnesses no partner log: it has no witness key to show or use."""

    problem_type = "not-a-witness"
    title = "This instance witnesses no log"
    rule = "witness-configured"


class UnknownLog(NotFound):
    """A witness cosigns only the logs it is configured for (A6LEDGER_WITNESSED_LOGS)."""

    problem_type = "witness-unknown-log"
    title = "This witness is not configured for the checkpoint's origin"
    rule = "witness-log-known"


class NothingCosigned(NotFound):
    """This witness has cosigned no checkpoint of the origin yet."""

    problem_type = "witness-nothing-cosigned"
    title = "This witness has cosigned no checkpoint of this log yet"
    rule = "witness-cosigned-checkpoint"


class LogSignatureRejected(ProofError):
    """A witness cosigns only a checkpoint that a key it trusts for the origin signed."""

    problem_type = "witness-log-signature-rejected"
    title = "No trusted key of the log verifies the checkpoint's signatures"
    rule = "witness-log-signature"


class OldSizeBeyondCheckpoint(InvalidInput):
    """The old size of an add-checkpoint request is at most the checkpoint's size."""

    problem_type = "witness-old-size-beyond-checkpoint"
    title = "The old size is larger than the checkpoint's size"
    rule = "witness-old-size"


class OldSizeMismatch(Conflict):
    """The old size of an add-checkpoint request is the size the witness cosigned last for the
    origin (0 before the first): the answer names that size."""

    problem_type = "witness-old-size-mismatch"
    title = "The old size is not the size this witness cosigned last"
    rule = "witness-old-size-latest"

    def __init__(self, message: str, *, latest_size: int) -> None:
        super().__init__(message, latest_size=latest_size)
        self.latest_size = latest_size


class ForkedCheckpoint(Conflict):
    """A log signs one root per tree size: a checkpoint of the size the witness cosigned last,
    with another root, is refused and kept as evidence of a fork."""

    problem_type = "witness-forked-checkpoint"
    title = "The checkpoint has the size this witness cosigned last but another root"
    rule = "witness-same-size-same-root"


class InconsistentCheckpoint(ProofError):
    """A witness cosigns a checkpoint only with a consistency proof from the one it cosigned last:
    a proof that fails is refused, and the signed checkpoint kept as evidence."""

    problem_type = "witness-inconsistent-checkpoint"
    title = "The consistency proof from the checkpoint this witness cosigned last fails"
    rule = "witness-consistency"


EVIDENCE_KEPT: tuple[type[LedgerError], ...] = (ForkedCheckpoint, InconsistentCheckpoint)
"""Refusals after which the unit of work holds the evidence: commit it, then answer the error."""


def parse_log_keys(vkeys: Sequence[str]) -> dict[str, tuple[note.Verifier, ...]]:
    """The logs to witness from their verifier keys (type 0x01): the key name is the origin.

    Raises :class:`~ledger.log.keys.InvalidKey` for a malformed key, a key of another type or a
    key listed twice."""
    logs: dict[str, tuple[note.Verifier, ...]] = {}
    for text in vkeys:
        verifier = note.Verifier(text)
        label = f"{verifier.name}+{verifier.key_id:08x}"
        if verifier.signature_type != SIGNATURE_TYPE_ED25519:
            raise InvalidKey(f"log key {label} is not an Ed25519 (type 0x01) key", key=label)
        known = logs.get(verifier.name, ())
        if any(v.key_id == verifier.key_id for v in known):
            raise InvalidKey(f"log key {label} is listed twice", key=label)
        logs[verifier.name] = (*known, verifier)
    return logs


def _checkpoint_of(request: AddCheckpoint, logs: KnownLogs) -> Checkpoint:
    """The request's checkpoint, signed by a key trusted for its origin."""
    try:
        unverified = Checkpoint.parse(note.parse_note(request.checkpoint_note).text)
    except (note.MalformedNote, MalformedCheckpoint) as exc:
        raise MalformedWitnessRequest(f"the checkpoint: {exc.message}") from exc
    verifiers = logs.get(unverified.origin)
    if not verifiers:
        raise UnknownLog(
            f"this witness does not witness the log {unverified.origin!r}",
            origin=unverified.origin,
        )
    try:
        checkpoint, _ = open_checkpoint(request.checkpoint_note, verifiers)
    except (note.NoKnownSignature, note.SignatureInvalid) as exc:
        raise LogSignatureRejected(
            f"the checkpoint of {unverified.origin} is not signed by a key this witness trusts "
            f"for it: {exc.message}",
            origin=unverified.origin,
        ) from exc
    return checkpoint


def _keep_evidence(
    uow: UnitOfWork,
    request: AddCheckpoint,
    latest: WitnessedCheckpoint,
    error: ForkedCheckpoint | InconsistentCheckpoint,
) -> ForkedCheckpoint | InconsistentCheckpoint:
    uow.witnessed.add_evidence(
        WitnessEvidence(
            origin=latest.origin,
            reason=error.rule,
            old_size=request.old_size,
            proof=request.proof,
            submitted_note=request.checkpoint_note,
            cosigned_note=latest.signed_note,
            recorded_at=uow.now(),
        )
    )
    return error


def _require_extends(
    uow: UnitOfWork, request: AddCheckpoint, checkpoint: Checkpoint, latest: WitnessedCheckpoint
) -> None:
    if checkpoint.size == latest.tree_size:
        if checkpoint.root_hash != latest.root_hash:
            raise _keep_evidence(
                uow,
                request,
                latest,
                ForkedCheckpoint(
                    f"{checkpoint.origin} signed tree size {checkpoint.size} with root "
                    f"{b64encode(checkpoint.root_hash)}, but this witness cosigned root "
                    f"{b64encode(latest.root_hash)} for it: the log forked; the evidence is kept",
                    origin=checkpoint.origin,
                    tree_size=checkpoint.size,
                ),
            )
    try:
        verify_consistency(
            latest.tree_size,
            checkpoint.size,
            request.proof,
            latest.root_hash,
            checkpoint.root_hash,
        )
    except ConsistencyProofInvalid as exc:
        raise _keep_evidence(
            uow,
            request,
            latest,
            InconsistentCheckpoint(
                f"the checkpoint of {checkpoint.origin} at tree size {checkpoint.size} is not "
                f"proven to extend the one this witness cosigned at {latest.tree_size}: "
                f"{exc.message}; the evidence is kept",
                origin=checkpoint.origin,
                old_size=latest.tree_size,
                tree_size=checkpoint.size,
            ),
        ) from exc


def add_checkpoint(
    uow: UnitOfWork, logs: KnownLogs, cosigner: Cosigner, request: AddCheckpoint
) -> str:
    """Witness ``request`` (tlog-witness §add-checkpoint) in ``uow``, a writing unit of work;
    return the response body: this witness's cosignature line.

    Raises, in the spec's order: :class:`~ledger.log.tlog_witness.MalformedWitnessRequest`
    (400), :class:`UnknownLog` (404),
    :class:`LogSignatureRejected` (403), :class:`OldSizeBeyondCheckpoint` (400),
    :class:`OldSizeMismatch` (409 with the latest size), :class:`InconsistentCheckpoint` (422)
    and :class:`ForkedCheckpoint` (409). After the last two the unit of work holds the evidence:
    the caller commits it (:data:`EVIDENCE_KEPT`). Otherwise the caller commits the new record.
    """
    checkpoint = _checkpoint_of(request, logs)
    if request.old_size > checkpoint.size:
        raise OldSizeBeyondCheckpoint(
            f"old size {request.old_size} is larger than the checkpoint's size {checkpoint.size}",
            old_size=request.old_size,
            tree_size=checkpoint.size,
        )
    if checkpoint.size > MAX_WITNESSED_SIZE:
        raise MalformedWitnessRequest(
            f"tree size {checkpoint.size} is beyond what this witness records (2**63-1)"
        )
    latest = uow.witnessed.latest(checkpoint.origin)
    latest_size = 0 if latest is None else latest.tree_size
    if request.old_size != latest_size:
        raise OldSizeMismatch(
            f"this witness cosigned {checkpoint.origin} last at tree size {latest_size}, not "
            f"{request.old_size}",
            latest_size=latest_size,
        )
    if latest is None or (latest.tree_size == 0 and checkpoint.size > 0):
        # Every tree extends the empty one: from size 0 the proof is empty (tlog-witness).
        if request.proof:
            raise ConsistencyProofInvalid(
                "a consistency proof from size 0 must be empty",
                size1=0,
                size2=checkpoint.size,
            )
    else:
        _require_extends(uow, request, checkpoint, latest)
    if latest is None or checkpoint.size > latest.tree_size:
        uow.witnessed.add(
            WitnessedCheckpoint(
                origin=checkpoint.origin,
                tree_size=checkpoint.size,
                root_hash=checkpoint.root_hash,
                signed_note=request.checkpoint_note,
                recorded_at=uow.now(),
            )
        )
    timestamp = int(uow.now().timestamp())
    return cosigner.cosign(checkpoint, timestamp)


def latest_witnessed(uow: UnitOfWork, logs: KnownLogs, origin: str) -> str:
    """The signed checkpoint of ``origin`` this witness cosigned last, as the log signed it:
    what the log asks before it signs (``ledger.log.witnessed_trees``). :class:`UnknownLog`
    for a log this witness does not witness, :class:`NothingCosigned` before the first."""
    if origin not in logs:
        raise UnknownLog(f"this witness does not witness the log {origin!r}", origin=origin)
    latest = uow.witnessed.latest(origin)
    if latest is None:
        raise NothingCosigned(
            f"this witness has cosigned no checkpoint of {origin!r} yet", origin=origin
        )
    return latest.signed_note


# --------------------------------------------------------------------------------------------
# The log side: asking partner witnesses to cosign
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WitnessReply:
    """A witness's HTTP answer: status, content type and body text."""

    status: int
    content_type: str
    text: str


class WitnessTransport(Protocol):
    """Sends an add-checkpoint body to a witness (``ledger.adapters.witness_http`` over HTTP)."""

    def add_checkpoint(self, url: str, body: str) -> WitnessReply:
        """POST ``body`` to ``<url>/add-checkpoint``; raise a :class:`LedgerError` if the
        witness cannot be reached."""
        ...


@dataclass(frozen=True, slots=True)
class PartnerWitness:
    """A partner's witness: its submission prefix URL and its cosigner key (type 0x04)."""

    url: str
    verifier: note.Verifier

    @property
    def label(self) -> str:
        return f"{self.verifier.name}+{self.verifier.key_id:08x}"


@dataclass(frozen=True, slots=True)
class PushResult:
    """What one partner witness answered to this log's checkpoint; ``seq`` is the
    ``checkpoint.cosigned`` entry recording its cosignature, ``None`` if it did not cosign."""

    witness: str
    url: str
    tree_size: int
    old_size: int
    cosigned: bool
    detail: str
    seq: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "witness": self.witness,
            "url": self.url,
            "tree_size": self.tree_size,
            "old_size": self.old_size,
            "cosigned": self.cosigned,
            "detail": self.detail,
            "seq": self.seq,
        }


def _request(
    storage: Storage,
    signer: note.Signer,
    origin: str,
    state: CheckpointState | None,
    old_size: int | None,
    partner: PartnerWitness,
) -> AddCheckpoint:
    """The add-checkpoint request of this log's current checkpoint for ``partner``, from
    ``old_size`` (default: the size the partner cosigned last)."""
    with storage.unit_of_work(write=False) as uow:
        checkpoint, signed = signed_checkpoint(uow.log, signer, origin, state=state)
        if old_size is None:
            key_id = f"{partner.verifier.key_id:08x}"
            old_size = uow.cosignatures.latest_tree_size_of(key_id) or 0
        proof = (
            uow.log.consistency_proof(old_size, checkpoint.size)
            if 0 < old_size < checkpoint.size
            else []
        )
    return AddCheckpoint(old_size, tuple(proof), signed)


def _is_by(line: str, partner: PartnerWitness) -> bool:
    """Whether a signature line names the partner's key (name and key ID); not verified."""
    try:
        signatures = note.parse_note("-\n\n" + line + "\n").signatures
    except note.MalformedNote:
        return False
    key = (partner.verifier.name, partner.verifier.key_id)
    return any((s.name, s.key_id) == key for s in signatures)


def push_checkpoint(
    storage: Storage,
    signer: note.Signer,
    origin: str,
    state: CheckpointState | None,
    witnesses: Sequence[note.Verifier],
    partner: PartnerWitness,
    transport: WitnessTransport,
    actor: str,
) -> PushResult:
    """Ask ``partner`` to cosign this log's current checkpoint and record its cosignature.

    The consistency proof starts at the size the partner cosigned last, as recorded here; when
    the witness answers 409 with another size it knows (say, this log's records were restored
    from a backup), the request is sent once more from that size. ``witnesses`` are the
    cosigner keys this log accepts (the partner's must be among them)."""
    request = _request(storage, signer, origin, state, None, partner)

    def result(detail: str, seq: int | None = None) -> PushResult:
        checkpoint = Checkpoint.parse(note.parse_note(request.checkpoint_note).text)
        return PushResult(
            partner.label,
            partner.url,
            checkpoint.size,
            request.old_size,
            cosigned=seq is not None,
            detail=detail,
            seq=seq,
        )

    size = Checkpoint.parse(note.parse_note(request.checkpoint_note).text).size
    reply = transport.add_checkpoint(partner.url, request.body())
    if reply.status == 409 and reply.content_type.startswith(SIZE_MEDIA_TYPE):
        try:
            witness_size = parse_size(reply.text)
        except MalformedWitnessResponse as exc:
            return result(exc.message)
        if witness_size > size:
            return result(
                f"the witness cosigned tree size {witness_size} of this log, larger than its "
                f"current size {size}: this log lost entries it had published"
            )
        request = _request(storage, signer, origin, state, witness_size, partner)
        size = Checkpoint.parse(note.parse_note(request.checkpoint_note).text).size
        reply = transport.add_checkpoint(partner.url, request.body())
    if reply.status != 200:
        return result(f"the witness answered {reply.status}: {reply.text[:300]}")
    try:
        lines = parse_cosignature_lines(reply.text)
    except MalformedWitnessResponse as exc:
        return result(exc.message)
    seq: int | None = None
    for line in (line for line in lines if _is_by(line, partner)):
        try:
            with storage.unit_of_work(write=True) as uow:
                seq = record_cosignature(uow, origin, witnesses, size, line, actor).seq
                uow.commit()
        except LedgerError as exc:
            return result(f"the witness's cosignature was not accepted: {exc.message}")
    if seq is None:
        return result(f"the witness answered no cosignature by {partner.label}")
    return result(f"cosigned tree size {size}", seq)
