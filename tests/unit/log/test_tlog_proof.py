"""C2SP tlog-proof@v1 offline proof bundles (ledger/log/tlog_proof.py, verifiable-log.md §3)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from ledger.errors import InvalidInput, ProofError
from ledger.log.keys import generate_signer
from ledger.log.merkle import InclusionProofInvalid, leaf_hash
from ledger.log.merkle_store import MemoryNodeStore, MerkleAppender, inclusion_proof, tree_root
from ledger.log.note import MalformedNote, NoKnownSignature, SignatureInvalid, Signer, Verifier
from ledger.log.tlog_checkpoint import Checkpoint, sign_checkpoint
from ledger.log.tlog_proof import (
    MalformedProofBundle,
    TlogProof,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)
from tests.unit.log.known_keys import GO_VKEY, ORIGIN, ROOT


def ledger_entries(count: int) -> list[bytes]:
    return [f'{{"kind":"transfer","seq":{i}}}'.encode() for i in range(count)]


@pytest.fixture(scope="module")
def bundle_setup(log_keys: tuple[str, str]) -> tuple[list[bytes], str, MemoryNodeStore]:
    entries = ledger_entries(11)
    store = MemoryNodeStore()
    appender = MerkleAppender(store, 0)
    for entry in entries:
        store.put_many(appender.append(leaf_hash(entry)))
    checkpoint = Checkpoint(ORIGIN, len(entries), appender.root())
    signed = sign_checkpoint(checkpoint, [Signer(log_keys[0])])
    return entries, signed, store


def test_tlog_proof_round_trip(
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore], log_keys: tuple[str, str]
) -> None:
    entries, signed, store = bundle_setup
    proof = inclusion_proof(store, 7, 11)
    bundle = format_tlog_proof(7, proof, signed)
    expected_head = "c2sp.org/tlog-proof@v1\nindex 7\n" + "".join(
        base64.b64encode(value).decode() + "\n" for value in proof
    )
    assert bundle == expected_head + "\n" + signed
    assert parse_tlog_proof(bundle) == TlogProof(7, tuple(proof), signed, None)
    checkpoint = verify_tlog_proof(bundle, entries[7], [Verifier(log_keys[1])])
    assert checkpoint.size == 11
    assert checkpoint.root_hash == tree_root(store, 11)

    with_extra = format_tlog_proof(7, proof, signed, extra=b"context")
    assert with_extra.startswith("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 7\n")
    assert parse_tlog_proof(with_extra).extra == b"context"
    assert verify_tlog_proof(with_extra, entries[7], [Verifier(log_keys[1])]) == checkpoint


def test_tlog_proof_with_no_hashes(log_keys: tuple[str, str]) -> None:
    entry = b'{"kind":"genesis"}'
    signed = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(entry)), [Signer(log_keys[0])])
    bundle = format_tlog_proof(0, [], signed)
    assert bundle.startswith("c2sp.org/tlog-proof@v1\nindex 0\n\n")
    assert verify_tlog_proof(bundle, entry, [Verifier(log_keys[1])]).size == 1


def test_tlog_proof_tampering_is_detected(
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore], log_keys: tuple[str, str]
) -> None:
    entries, signed, store = bundle_setup
    verifiers = [Verifier(log_keys[1])]
    proof = inclusion_proof(store, 7, 11)
    bundle = format_tlog_proof(7, proof, signed)

    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(bundle, entries[6], verifiers)
    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(bundle.replace("index 7\n", "index 6\n"), entries[7], verifiers)
    altered = [proof[0], bytes([proof[1][0] ^ 1]) + proof[1][1:], *proof[2:]]
    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(format_tlog_proof(7, altered, signed), entries[7], verifiers)
    with pytest.raises(InclusionProofInvalid):
        verify_tlog_proof(format_tlog_proof(7, proof[:-1], signed), entries[7], verifiers)
    forged_root = signed.replace(
        base64.b64encode(tree_root(store, 11)).decode(), base64.b64encode(ROOT).decode()
    )
    with pytest.raises(SignatureInvalid):
        verify_tlog_proof(format_tlog_proof(7, proof, forged_root), entries[7], verifiers)
    with pytest.raises(NoKnownSignature):
        verify_tlog_proof(bundle, entries[7], [Verifier(GO_VKEY)])
    # Re-signing a forged checkpoint with another key does not help.
    resigned = sign_checkpoint(
        Checkpoint(ORIGIN, 11, tree_root(store, 10)), [Signer(generate_signer(ORIGIN)[0])]
    )
    with pytest.raises(NoKnownSignature):
        verify_tlog_proof(format_tlog_proof(7, proof, resigned), entries[7], verifiers)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda b: b.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), id="version"
        ),
        pytest.param(lambda b: b.replace("index 7\n", "index 07\n"), id="leading zero"),
        pytest.param(lambda b: b.replace("index 7\n", "index  7\n"), id="double space"),
        pytest.param(lambda b: b.replace("index 7\n", "idx 7\n"), id="no index line"),
        pytest.param(lambda b: b.replace("index 7\n", "extra \nindex 7\n"), id="empty extra"),
        pytest.param(
            lambda b: b.replace("index 7\n", "index 7\nnot-base64!\n"), id="bad hash line"
        ),
        pytest.param(lambda b: b.replace("index 7\n", "index 7\nAAAA\n"), id="short hash line"),
        pytest.param(lambda b: b.split("\n\n", 1)[0] + "\n", id="no checkpoint"),
        pytest.param(lambda b: b.rstrip("\n"), id="checkpoint without final newline"),
        pytest.param(lambda b: b.replace("\u2014 ", "-- "), id="checkpoint signature line"),
    ],
)
def test_malformed_tlog_proofs_are_rejected(
    mutate: Callable[[str], str],
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore],
    log_keys: tuple[str, str],
) -> None:
    entries, signed, store = bundle_setup
    bundle = format_tlog_proof(7, inclusion_proof(store, 7, 11), signed)
    broken = mutate(bundle)
    assert broken != bundle
    with pytest.raises(MalformedProofBundle):
        parse_tlog_proof(broken)
    with pytest.raises(ProofError):
        verify_tlog_proof(broken, entries[7], [Verifier(log_keys[1])])


def test_format_tlog_proof_checks_its_inputs(
    bundle_setup: tuple[list[bytes], str, MemoryNodeStore],
) -> None:
    _entries, signed, store = bundle_setup
    proof = inclusion_proof(store, 7, 11)
    with pytest.raises(InvalidInput):
        format_tlog_proof(-1, proof, signed)
    with pytest.raises(InvalidInput):
        format_tlog_proof(7, [*proof, b"short"], signed)
    with pytest.raises(InvalidInput):
        format_tlog_proof(7, proof, signed, extra=b"")
    with pytest.raises(MalformedNote):
        format_tlog_proof(7, proof, "not a signed note\n")
