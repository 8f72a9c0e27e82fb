"""The witness protocol on in-memory storage (ledger/log/tlog_witness.py, witnessing.py): the
add-checkpoint body, every refusal of the witness in the spec's order, the evidence it keeps, and
the log side's push, against a witness reached through a fake transport."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from app.problems import status_for as status_of_error
from ledger.errors import LedgerError
from ledger.log import keys, note, witness, witnessing
from ledger.log.checkpoints import checkpoint_of
from ledger.log.merkle import ConsistencyProofInvalid
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.log.tlog_cosignature import Cosigner
from ledger.log.tlog_witness import (
    AddCheckpoint,
    MalformedWitnessRequest,
    MalformedWitnessResponse,
    parse_add_checkpoint,
    parse_cosignature_lines,
    parse_size,
)
from ledger.log.witnessing import WitnessReply
from tests.fakes import FakeUnitOfWork

ORIGIN = "registry.example.jp/log"
LOG = note.Signer(keys.generate_signer(ORIGIN)[0])
IMPOSTOR = note.Signer(keys.generate_signer(ORIGIN)[0])
WITNESS = Cosigner(keys.generate_signer("registry.example.th/witness")[0])
OTHER_WITNESS = Cosigner(keys.generate_signer("registry.example.mn/witness")[0])
LOGS = witnessing.parse_log_keys([LOG.vkey])


class FakeStorage:
    """Storage whose units of work are one ``FakeUnitOfWork`` (its own database)."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()

    def unit_of_work(self, *, write: bool) -> FakeUnitOfWork:
        del write
        return self.uow

    def grow(self, entries: int) -> None:
        with self.uow as uow:
            for number in range(entries):
                uow.log.append("test.note", {"n": number}, "test")
            uow.commit()


def signed(log: FakeUnitOfWork, size: int | None = None, signer: note.Signer = LOG) -> str:
    return sign_checkpoint(checkpoint_of(log.log, ORIGIN, size), [signer])


def request(storage: FakeStorage, old: int, size: int | None = None) -> AddCheckpoint:
    log = storage.uow.log
    new = log.size() if size is None else size
    proof = tuple(log.consistency_proof(old, new)) if 0 < old < new else ()
    return AddCheckpoint(old, proof, signed(storage.uow, new))


def witness_it(witness_uow: FakeUnitOfWork, body: AddCheckpoint) -> str:
    with witness_uow as uow:
        try:
            line = witnessing.add_checkpoint(uow, LOGS, WITNESS, body)
        except witnessing.EVIDENCE_KEPT:
            uow.commit()
            raise
        uow.commit()
    return line


# --- the request body -------------------------------------------------------------------------


def test_a_request_body_round_trips() -> None:
    proof = (hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest())
    body = AddCheckpoint(20852014, proof, "origin\n1\nAAAA\n\n— x y\n")
    text = body.body()
    assert text.startswith("old 20852014\n")
    assert text.split("\n")[3] == ""
    assert parse_add_checkpoint(text.encode()) == body
    assert parse_add_checkpoint(b"old 0\n\nnote\n") == AddCheckpoint(0, (), "note\n")


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (b"\xff\xfe", "UTF-8"),
        (b"old 0\nnote\n", "no empty line"),
        (b"old 0\n\n", "no checkpoint"),
        (b"new 0\n\nnote\n", "'old <size>'"),
        (b"old 01\n\nnote\n", "leading zeros"),
        (b"old 1\nAAAA\n\nnote\n", "line 2"),
        (b"old 1\n" + b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" * 64 + b"\nn\n", "63"),
    ],
)
def test_malformed_request_bodies_are_refused(body: bytes, fault: str) -> None:
    with pytest.raises(MalformedWitnessRequest, match=fault):
        parse_add_checkpoint(body)


def test_the_answers_of_a_witness_parse_strictly() -> None:
    assert parse_size("42\n") == 42
    for bad in ("42", "042\n", "x\n"):
        with pytest.raises(MalformedWitnessResponse):
            parse_size(bad)
    assert parse_cosignature_lines("— a b\n— c d\n") == ("— a b", "— c d")
    for bad in ("— a b", "— a b\nnot a signature\n"):
        with pytest.raises(MalformedWitnessResponse):
            parse_cosignature_lines(bad)


def test_log_keys_are_ed25519_keys_named_by_origin() -> None:
    logs = witnessing.parse_log_keys([LOG.vkey, IMPOSTOR.vkey])
    assert [v.key_id for v in logs[ORIGIN]] == [LOG.key_id, IMPOSTOR.key_id]
    with pytest.raises(keys.InvalidKey, match="listed twice"):
        witnessing.parse_log_keys([LOG.vkey, LOG.vkey])
    with pytest.raises(keys.InvalidKey, match="type 0x01"):
        witnessing.parse_log_keys([WITNESS.vkey])


# --- the witness ------------------------------------------------------------------------------


def test_the_witness_cosigns_a_log_that_grows_and_keeps_the_latest_checkpoint() -> None:
    log, witness_uow = FakeStorage(), FakeUnitOfWork()
    log.grow(3)
    witness_uow.clock = lambda: datetime(2026, 12, 7, tzinfo=UTC)
    line = witness_it(witness_uow, request(log, 0))
    assert line.endswith("\n")
    checkpoint = checkpoint_of(log.uow.log, ORIGIN)
    verified = witness.verify_cosignature_line(checkpoint, line, [note.Verifier(WITNESS.vkey)])
    assert verified.timestamp == int(datetime(2026, 12, 7, tzinfo=UTC).timestamp())
    log.grow(5)
    witness_it(witness_uow, request(log, 3))
    # The same checkpoint again is cosigned again, and recorded once.
    witness_it(witness_uow, request(log, 8))
    latest = witness_uow.witnessed.latest(ORIGIN)
    assert latest is not None
    assert (latest.tree_size, latest.root_hash) == (8, log.uow.log.root(8))
    assert sorted(witness_uow._records.witnessed.checkpoints) == [(ORIGIN, 3), (ORIGIN, 8)]
    assert witness_uow.witnessed.evidence(ORIGIN) == []


def test_the_witness_refuses_in_the_order_and_with_the_statuses_of_the_spec() -> None:
    log, witness_uow = FakeStorage(), FakeUnitOfWork()
    log.grow(4)
    witness_it(witness_uow, request(log, 0))
    log.grow(2)

    def refusal(body: AddCheckpoint) -> LedgerError:
        with pytest.raises(LedgerError) as caught:
            witness_it(witness_uow, body)
        return caught.value

    unknown = sign_checkpoint(Checkpoint("registry.example.zz/log", 1, bytes(32)), [LOG])
    assert isinstance(refusal(AddCheckpoint(0, (), unknown)), witnessing.UnknownLog)
    impostor = AddCheckpoint(4, (), signed(log.uow, signer=IMPOSTOR))
    assert isinstance(refusal(impostor), witnessing.LogSignatureRejected)
    bad_note = AddCheckpoint(0, (), "no signature\n")
    assert isinstance(refusal(bad_note), MalformedWitnessRequest)
    beyond = AddCheckpoint(7, (), signed(log.uow))
    assert isinstance(refusal(beyond), witnessing.OldSizeBeyondCheckpoint)
    stale = refusal(request(log, 2))
    assert isinstance(stale, witnessing.OldSizeMismatch)
    assert stale.latest_size == 4
    assert status_of_error(stale) == 409
    # Nothing of these was kept.
    assert witness_uow.witnessed.evidence(ORIGIN) == []
    latest = witness_uow.witnessed.latest(ORIGIN)
    assert latest is not None
    assert latest.tree_size == 4


def test_a_first_checkpoint_comes_without_proof() -> None:
    log, witness_uow = FakeStorage(), FakeUnitOfWork()
    log.grow(4)
    body = AddCheckpoint(0, (hashlib.sha256(b"x").digest(),), signed(log.uow))
    with pytest.raises(ConsistencyProofInvalid, match="from size 0"):
        witness_it(witness_uow, body)
    assert witness_uow.witnessed.latest(ORIGIN) is None


def test_a_fork_is_refused_and_the_evidence_kept_and_the_record_unchanged() -> None:
    log, forked, witness_uow = FakeStorage(), FakeStorage(), FakeUnitOfWork()
    log.grow(4)
    witness_it(witness_uow, request(log, 0))
    forked.grow(9)  # other entries under the same key: a rewritten history
    forked_proof = tuple(forked.uow.log.consistency_proof(4, 9))
    body = AddCheckpoint(4, forked_proof, signed(forked.uow))
    with pytest.raises(witnessing.InconsistentCheckpoint) as caught:
        witness_it(witness_uow, body)
    assert status_of_error(caught.value) == 422
    same_size = AddCheckpoint(4, (), signed(forked.uow, 4))
    with pytest.raises(witnessing.ForkedCheckpoint) as forked_error:
        witness_it(witness_uow, same_size)
    assert status_of_error(forked_error.value) == 409
    # An empty proof is no proof: same size and root, but a proof line, is refused.
    with pytest.raises(witnessing.InconsistentCheckpoint):
        witness_it(witness_uow, AddCheckpoint(4, forked_proof[:1], signed(log.uow, 4)))

    first, second, third = witness_uow.witnessed.evidence(ORIGIN)
    assert (first.reason, first.old_size, first.proof) == ("witness-consistency", 4, forked_proof)
    assert first.submitted_note == body.checkpoint_note
    assert first.cosigned_note == signed(log.uow, 4)
    assert second.reason == "witness-same-size-same-root"
    assert third.reason == "witness-consistency"
    latest = witness_uow.witnessed.latest(ORIGIN)
    assert latest is not None
    assert (latest.tree_size, latest.root_hash) == (4, log.uow.log.root(4))


def test_a_size_beyond_what_the_witness_stores_is_refused() -> None:
    huge = sign_checkpoint(Checkpoint(ORIGIN, 2**63, bytes(32)), [LOG])
    with pytest.raises(MalformedWitnessRequest, match="2\\*\\*63-1"):
        witness_it(FakeUnitOfWork(), AddCheckpoint(0, (), huge))


# --- the log side -----------------------------------------------------------------------------


class InMemoryWitness:
    """A witness reached through the transport port: the use case on its own fake storage, its
    errors answered with the spec's statuses, or canned answers."""

    def __init__(self, cosigner: Cosigner = WITNESS) -> None:
        self.uow = FakeUnitOfWork()
        self.cosigner = cosigner
        self.canned: list[WitnessReply] = []
        self.bodies: list[AddCheckpoint] = []

    def add_checkpoint(self, url: str, body: str) -> WitnessReply:
        assert url == "https://witness.example.th/v1/witness"
        self.bodies.append(parse_add_checkpoint(body.encode()))
        if self.canned:
            return self.canned.pop(0)
        with self.uow as uow:
            try:
                line = witnessing.add_checkpoint(uow, LOGS, self.cosigner, self.bodies[-1])
            except witnessing.OldSizeMismatch as exc:
                return WitnessReply(409, "text/x.tlog.size", f"{exc.latest_size}\n")
            except LedgerError as exc:
                return WitnessReply(status_of_error(exc), "application/problem+json", exc.message)
            uow.commit()
        return WitnessReply(200, "text/plain; charset=utf-8", line)


PARTNER = witnessing.PartnerWitness(
    "https://witness.example.th/v1/witness", note.Verifier(WITNESS.vkey)
)
WITNESSES = witness.parse_witness_keys([WITNESS.vkey, OTHER_WITNESS.vkey])


def push(log: FakeStorage, partner: InMemoryWitness) -> witnessing.PushResult:
    return witnessing.push_checkpoint(
        log, LOG, ORIGIN, None, WITNESSES, PARTNER, partner, "test:push"
    )


def test_push_records_the_cosignature_and_proves_from_the_last_cosigned_size() -> None:
    log, partner = FakeStorage(), InMemoryWitness()
    log.grow(3)
    first = push(log, partner)
    assert first.cosigned
    assert (first.old_size, first.tree_size, first.seq) == (0, 3, 3)
    assert first.as_json()["witness"] == PARTNER.label
    assert log.uow.cosignatures.latest_tree_size_of(f"{WITNESS.key_id:08x}") == 3
    log.grow(2)
    second = push(log, partner)
    assert second.cosigned
    assert (second.old_size, second.tree_size) == (3, 6)
    assert len(partner.bodies[-1].proof) > 0


def test_push_starts_again_from_the_size_the_witness_names() -> None:
    log, partner = FakeStorage(), InMemoryWitness()
    log.grow(3)
    assert push(log, partner).cosigned
    # This log's record of that cosignature is lost (say, a restored backup): it sends old 0.
    log.uow._records.cosignatures.by_key.clear()
    log.uow.commit()
    again = push(log, partner)
    assert again.cosigned
    assert [b.old_size for b in partner.bodies] == [0, 0, 3]


def test_push_reports_every_refusal() -> None:
    log, partner = FakeStorage(), InMemoryWitness()
    log.grow(3)
    partner.canned = [WitnessReply(409, "text/x.tlog.size", "99\n")]
    lost = push(log, partner)
    assert not lost.cosigned
    assert "lost entries" in lost.detail
    partner.canned = [WitnessReply(403, "application/problem+json", "nope")]
    assert "answered 403" in push(log, partner).detail
    partner.canned = [WitnessReply(200, "text/plain", "— someone.else AAAA\n")]
    assert "no cosignature by" in push(log, partner).detail
    partner.canned = [WitnessReply(200, "text/plain", "cosigned!\n")]
    assert "no signature line" in push(log, partner).detail
    partner.canned = [WitnessReply(409, "text/x.tlog.size", "many\n")]
    assert "not a decimal" in push(log, partner).detail
    # A line by the partner's key that does not verify over this checkpoint is not recorded.
    other = Checkpoint(ORIGIN, 3, hashlib.sha256(b"other").digest())
    partner.canned = [WitnessReply(200, "text/plain", WITNESS.cosign(other, 1))]
    refused = push(log, partner)
    assert "not accepted" in refused.detail
    assert log.uow.cosignatures.latest_tree_size() is None
    # A witness that is not configured as one of this log's witness keys is not recorded.
    stranger = InMemoryWitness(Cosigner(keys.generate_signer(WITNESS.name)[0]))
    assert not push(log, stranger).cosigned


def test_a_witness_that_cosigned_the_empty_tree_cosigns_any_tree_from_size_0() -> None:
    # The signing guard asks other witnesses with the empty tree; every tree extends it.
    log, witness_uow = FakeStorage(), FakeUnitOfWork()
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest()), [LOG])
    witness_it(witness_uow, AddCheckpoint(0, (), empty))
    witness_it(witness_uow, AddCheckpoint(0, (), empty))  # the same again: cosigned again
    other = sign_checkpoint(Checkpoint(ORIGIN, 0, hashlib.sha256(b"x").digest()), [LOG])
    with pytest.raises(witnessing.ForkedCheckpoint):
        witness_it(witness_uow, AddCheckpoint(0, (), other))
    log.grow(3)
    witness_it(witness_uow, request(log, 0))
    with witness_uow as uow:
        latest = uow.witnessed.latest(ORIGIN)
        assert latest is not None
        assert latest.tree_size == 3
        assert witnessing.latest_witnessed(uow, LOGS, ORIGIN) == latest.signed_note
        with pytest.raises(witnessing.UnknownLog):
            witnessing.latest_witnessed(uow, LOGS, "other.example/log")
    with FakeUnitOfWork() as uow, pytest.raises(witnessing.NothingCosigned):
        witnessing.latest_witnessed(uow, LOGS, ORIGIN)
