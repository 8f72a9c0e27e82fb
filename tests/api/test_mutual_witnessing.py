"""Mutual witnessing between two a6ledger instances (C2SP tlog-witness), on both databases:
Japan's and Thailand's registries each witness the other's log through ``witness push`` and
``POST /v1/witness/add-checkpoint``; a forked (rewritten) log is refused and the evidence kept."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.cli import main
from app.cli_witness import push_to_partners
from app.keys import load_signer
from ledger.access import create_token
from ledger.adapters.sql.uow import SqlStorage
from ledger.adapters.witness_http import HttpWitnessTransport
from ledger.log import keys, note
from ledger.log.merkle import ConsistencyProofInvalid, verify_consistency
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.log.tlog_cosignature import Cosigner
from ledger.log.tlog_witness import AddCheckpoint
from ledger.log.witness import parse_witness_keys, verify_cosignature_line
from ledger.log.witnessed_trees import WitnessedTreeMissing
from ledger.log.witnessing import PartnerWitness, PushResult, push_checkpoint
from tests.api.two_instances import Instance
from tests.conftest import DatabaseFactory

PROBLEM = "urn:a6ledger:problem:"


def push(source: Instance, witness: Instance) -> PushResult:
    (result,) = push_to_partners(source.settings, witness.client)
    return result


def push_unguarded(source: Instance, witness: Instance) -> PushResult:
    """A push by a signer that does not ask the partner witnesses before it signs (not
    a6ledger's: ``push_to_partners`` asks them), as a forked log's operator may run."""
    settings = source.settings
    (partner,) = settings.witness_partners
    signer = load_signer(settings.signer_key_path, settings.log_origin, create=False)
    return push_checkpoint(
        source.storage,
        signer,
        settings.log_origin,
        None,
        parse_witness_keys(settings.cosigner_keys),
        PartnerWitness(partner.url, note.Verifier(partner.vkey)),
        HttpWitnessTransport(witness.client),
        "test:unguarded-push",
    )


def cosigned_note(instance: Instance) -> tuple[Checkpoint, str]:
    response = instance.client.get("/v1/log/checkpoint/cosigned")
    assert response.status_code == 200, response.text
    checkpoint, _ = open_checkpoint(response.text, [note.Verifier(instance.log_vkey)])
    return checkpoint, response.text


def witnessed_size(witness: Instance, origin: str) -> int | None:
    with witness.storage.unit_of_work(write=False) as uow:
        latest = uow.witnessed.latest(origin)
    return None if latest is None else latest.tree_size


def test_each_instance_witnesses_the_other(pair: tuple[Instance, Instance]) -> None:
    jpn, tha = pair
    assert jpn.client.get("/v1/witness/key").text == jpn.witness_vkey + "\n"

    jpn_size = jpn.grow(3)
    first = push(jpn, tha)
    assert first.cosigned, first.detail
    assert (first.old_size, first.tree_size, first.seq) == (0, jpn_size, jpn_size)
    assert witnessed_size(tha, jpn.origin) == jpn_size

    # Japan's cosigned checkpoint verifies with Japan's log key and Thailand's witness key alone.
    checkpoint, text = cosigned_note(jpn)
    assert checkpoint.size == jpn_size
    witness_line = next(line for line in text.splitlines() if line.startswith("— tha.test/"))
    tha_witness = note.Verifier(tha.witness_vkey)
    cosignature = verify_cosignature_line(checkpoint, witness_line, [tha_witness])
    assert cosignature.key_name == "tha.test/witness"

    tha_size = tha.grow(2)
    back = push(tha, jpn)
    assert back.cosigned, back.detail
    assert witnessed_size(jpn, tha.origin) == tha_size
    assert cosigned_note(tha)[0].size == tha_size

    # Japan grows: the next push proves consistency from the size Thailand cosigned last.
    grown = jpn.grow(5)
    second = push(jpn, tha)
    assert second.cosigned, second.detail
    assert (second.old_size, second.tree_size) == (jpn_size, grown)
    assert witnessed_size(tha, jpn.origin) == grown
    with tha.storage.unit_of_work(write=False) as uow:
        assert uow.witnessed.evidence(jpn.origin) == []


def test_a_forked_log_is_refused_and_the_evidence_kept(
    pair: tuple[Instance, Instance], database_factory: DatabaseFactory
) -> None:
    jpn, tha = pair
    size = jpn.grow(4)
    assert push(jpn, tha).cosigned

    # A second database signed with Japan's key rewrites history: other entries, more of them.
    forked_url = database_factory.create()
    forked_dir = jpn.settings.checkpoint_state_path.parent / "forked"
    forked_settings = jpn.settings.model_copy(
        update={
            "database_url": forked_url,
            "checkpoint_state_path": forked_dir / "last-signed-checkpoint",
        }
    )
    forked = Instance(
        "forked", forked_settings, jpn.client, SqlStorage.open(forked_url), jpn.log_vkey, ""
    )
    try:
        forked_size = forked.grow(size + 3)
        # a6ledger's signers ask the witnesses first and refuse to sign the forked log ...
        with pytest.raises(WitnessedTreeMissing, match="the history was rewritten"):
            push(forked, tha)
        # ... but a forked log need not run a6ledger's signer: one that asks nothing pushes.
        refused = push_unguarded(forked, tha)
        # The forked log knew no cosignature: it sent old 0, got 409 with Thailand's size, and
        # then the proof from that size, which fails against the root Thailand cosigned.
        assert not refused.cosigned
        assert refused.old_size == size
        assert refused.tree_size == forked_size
        assert "answered 422" in refused.detail
        assert "witness-inconsistent-checkpoint" in refused.detail
    finally:
        forked.storage.dispose()

    with tha.storage.unit_of_work(write=False) as uow:
        latest = uow.witnessed.latest(jpn.origin)
        (evidence,) = uow.witnessed.evidence(jpn.origin)
    assert latest is not None
    assert latest.tree_size == size  # not rolled forward
    assert evidence.reason == "witness-consistency"
    assert evidence.old_size == size
    assert evidence.cosigned_note == latest.signed_note
    # The evidence convicts the log on its own: both notes verify with Japan's key, and the
    # kept proof does not link them.
    log_key = note.Verifier(jpn.log_vkey)
    old, _ = open_checkpoint(evidence.cosigned_note, [log_key])
    new, _ = open_checkpoint(evidence.submitted_note, [log_key])
    assert (old.size, new.size) == (size, forked_size)
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(old.size, new.size, evidence.proof, old.root_hash, new.root_hash)

    # The same size with another root: 409 problem (not a size answer), evidence kept too.
    signer = load_signer(jpn.settings.signer_key_path, jpn.origin, create=False)
    other_root = hashlib.sha256(b"rewritten").digest()
    fork = sign_checkpoint(Checkpoint(jpn.origin, size, other_root), [signer])
    response = tha.client.post(
        "/v1/witness/add-checkpoint", content=AddCheckpoint(size, (), fork).body()
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEM + "witness-forked-checkpoint"
    with tha.storage.unit_of_work(write=False) as uow:
        kept = uow.witnessed.evidence(jpn.origin)
    assert [e.reason for e in kept] == ["witness-consistency", "witness-same-size-same-root"]
    assert kept[1].submitted_note == fork
    assert base64.b64encode(other_root).decode() in kept[1].submitted_note


def test_the_witness_answers_with_the_statuses_of_the_spec(pair: tuple[Instance, Instance]) -> None:
    jpn, tha = pair
    size = jpn.grow(2)
    assert push(jpn, tha).cosigned
    signer = load_signer(jpn.settings.signer_key_path, jpn.origin, create=False)

    def add(body: str | bytes) -> tuple[int, str, str]:
        response = tha.client.post("/v1/witness/add-checkpoint", content=body)
        return response.status_code, response.headers["content-type"], response.text

    root = hashlib.sha256(b"any").digest()
    current = sign_checkpoint(Checkpoint(jpn.origin, size + 1, root), [signer])
    # The old size is not the one Thailand cosigned last: 409 with that size, as text/x.tlog.size.
    assert add(AddCheckpoint(1, (), current).body()) == (409, "text/x.tlog.size", f"{size}\n")
    status, media, text = add(AddCheckpoint(size + 2, (), current).body())
    assert (status, media) == (400, "application/problem+json")
    assert "witness-old-size-beyond-checkpoint" in text
    stranger = sign_checkpoint(Checkpoint("registry.example.zz/log", 1, root), [signer])
    assert add(AddCheckpoint(0, (), stranger).body())[0] == 404
    impostor = note.Signer(keys.generate_signer(jpn.origin)[0])
    forged = sign_checkpoint(Checkpoint(jpn.origin, size + 1, root), [impostor])
    status, _, text = add(AddCheckpoint(size, (), forged).body())
    assert status == 403
    assert "witness-log-signature-rejected" in text
    assert add(b"old 0\n")[0] == 400
    assert add(b"\xff")[0] == 400
    # Nothing of these moved Thailand's record of Japan's log, nor was kept as evidence.
    assert witnessed_size(tha, jpn.origin) == size
    with tha.storage.unit_of_work(write=False) as uow:
        assert uow.witnessed.evidence(jpn.origin) == []


def test_an_instance_that_witnesses_no_log_says_so(client: TestClient) -> None:
    for response in (
        client.get("/v1/witness/key"),
        client.post("/v1/witness/add-checkpoint", content=b"old 0\n\nx\n"),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == PROBLEM + "not-a-witness"


def test_the_database_keeps_what_the_witness_saw_append_only(
    pair: tuple[Instance, Instance], backend: str
) -> None:
    jpn, tha = pair
    size = jpn.grow(2)
    assert push(jpn, tha).cosigned
    signer = load_signer(jpn.settings.signer_key_path, jpn.origin, create=False)
    fork = sign_checkpoint(Checkpoint(jpn.origin, size, hashlib.sha256(b"x").digest()), [signer])
    body = AddCheckpoint(size, (), fork).body()
    response = tha.client.post("/v1/witness/add-checkpoint", content=body)
    assert response.status_code == 409
    assert response.json()["type"] == PROBLEM + "witness-forked-checkpoint"
    statements = [
        "UPDATE witnessed_checkpoint SET tree_size = tree_size + 1",
        "DELETE FROM witnessed_checkpoint",
        "UPDATE witness_evidence SET reason = 'none'",
        "DELETE FROM witness_evidence",
    ]
    if backend == "postgresql":
        statements += ["TRUNCATE witnessed_checkpoint", "TRUNCATE witness_evidence"]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), tha.storage.engine.begin() as conn:
            conn.execute(text(statement))
    assert witnessed_size(tha, jpn.origin) == size


def test_the_verifiers_require_k_of_n_cosignatures(
    pair: tuple[Instance, Instance], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jpn, tha = pair
    assert jpn.client.get("/v1/log/proofs/bundle?index=0&cosigned=true").status_code == 404
    size = jpn.grow(3)
    assert push(jpn, tha).cosigned
    _, token = create_token(jpn.storage, "auditor", "auditor", actor="test")
    auditor = {"Authorization": f"Bearer {token}"}
    files = {
        "cosigned.proof": jpn.client.get("/v1/log/proofs/bundle?index=1&cosigned=true").text,
        "latest.proof": jpn.client.get("/v1/log/proofs/bundle?index=1").text,
        "entry.json": jpn.client.get("/v1/log/entries?start=1&end=2", headers=auditor).text,
        "cosigned.note": jpn.client.get("/v1/log/checkpoint/cosigned").text,
    }
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert (
        jpn.client.get(f"/v1/log/proofs/bundle?index={size + 1}&cosigned=true").status_code == 422
    )
    stranger = Cosigner(keys.generate_signer("registry.example.mn/witness")[0]).vkey

    def verify_proof(bundle: str, *options: str) -> int:
        entry = str(tmp_path / "entry.json")
        proof = str(tmp_path / bundle)
        return main(["verify-proof", proof, "--entry", entry, "--vkey", jpn.log_vkey, *options])

    assert verify_proof("cosigned.proof", "--witness", tha.witness_vkey) == 0
    assert "cosigned by 1 of 1 known witnesses (tha.test/witness+" in capsys.readouterr().out
    two = ["--witness", tha.witness_vkey, "--witness", stranger]
    assert verify_proof("cosigned.proof", *two, "--require", "1") == 0
    assert verify_proof("cosigned.proof", *two) == 1  # default: all of them
    assert "FAIL: 1 of the 2 known witnesses cosigned" in capsys.readouterr().out
    assert verify_proof("latest.proof", "--witness", tha.witness_vkey) == 1
    assert verify_proof("cosigned.proof", "--witness", tha.witness_vkey, "--require", "2") == 2
    assert verify_proof("cosigned.proof", "--witness", jpn.log_vkey) == 2  # not a cosigner key
    capsys.readouterr()

    # An export of the log now proves it extends the cosigned checkpoint: that one carries
    # the cosignatures.
    export = jpn.client.get(f"/v1/exports?previous_size={size}", headers=auditor)
    assert export.status_code == 200, export.text
    (tmp_path / "export.zip").write_bytes(export.content)
    base = ["verify-export", str(tmp_path / "export.zip"), "--vkey", jpn.log_vkey]
    trusted = ["--trusted-checkpoint", str(tmp_path / "cosigned.note")]
    assert main([*base, *trusted, "--witness", tha.witness_vkey]) == 0
    assert f"on the trusted checkpoint of tree size {size}" in capsys.readouterr().out
    assert main([*base, "--witness", tha.witness_vkey]) == 1
    assert "FAIL: 0 of the 1 known witnesses" in capsys.readouterr().out
    assert main([*base, *trusted, *two]) == 1
    assert main([*base, "--witness", "not a key"]) == 2
