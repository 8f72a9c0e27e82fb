"""Witness cosignatures over HTTP, on both databases: a partner registry cosigns the log's
checkpoint, the cosignature is recorded in the log, and the cosigned note verifies with the log
key and the witness key alone."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app import cli
from app.main import create_app
from app.settings import Settings
from ledger.adapters.export_files import verify_export
from ledger.demo import load_demo
from ledger.log import keys, note
from ledger.log.tlog_checkpoint import Checkpoint, open_checkpoint
from ledger.log.tlog_cosignature import Cosigner, verify_cosignature
from tests.api.conftest import TokenFactory

THAILAND = Cosigner(keys.generate_signer("registry.example.th/witness")[0])
MONGOLIA = Cosigner(keys.generate_signer("registry.example.mn/witness")[0])
STRANGER = Cosigner(keys.generate_signer("registry.example.zz/witness")[0])
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
PROBLEM = "urn:a6ledger:problem:"


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    return app_settings.model_copy(update={"witness_keys": [THAILAND.vkey, MONGOLIA.vkey]})


@pytest.fixture
def registry(tokens: TokenFactory) -> dict[str, str]:
    return tokens("registry", "JPN01")


def log_verifier(client: TestClient) -> note.Verifier:
    return note.Verifier(client.get("/v1/log/key").text.strip())


def current_checkpoint(client: TestClient) -> Checkpoint:
    checkpoint, _ = open_checkpoint(client.get("/v1/log/checkpoint").text, [log_verifier(client)])
    return checkpoint


def checkpoint_at(client: TestClient, size: int, headers: dict[str, str]) -> Checkpoint:
    """The checkpoint of an earlier size, built from the root a consistency proof reports."""
    current = current_checkpoint(client)
    if size == current.size:
        return current
    proof = client.get(
        "/v1/log/proofs/consistency",
        params={"first": size, "second": current.size},
        headers=headers,
    ).json()
    return Checkpoint(current.origin, size, base64.b64decode(proof["first_root_hash"]))


def post_cosignature(
    client: TestClient, headers: dict[str, str], tree_size: int, line: str
) -> tuple[int, dict[str, str], dict[str, object]]:
    response = client.post(
        "/v1/log/cosignatures",
        json={"tree_size": tree_size, "signature": line},
        headers=headers,
    )
    return response.status_code, dict(response.headers), response.json()


def record(
    client: TestClient,
    headers: dict[str, str],
    checkpoint: Checkpoint,
    cosigner: Cosigner,
    timestamp: int,
) -> dict[str, object]:
    """Cosign ``checkpoint`` and post it; the cosignature must be accepted."""
    status, _, body = post_cosignature(
        client, headers, checkpoint.size, cosigner.cosign(checkpoint, timestamp)
    )
    assert status == 201, body
    return body


def log_size(client: TestClient) -> int:
    return current_checkpoint(client).size


def test_a_partner_cosignature_is_recorded_in_the_log_and_served(
    client: TestClient, registry: dict[str, str], tokens: TokenFactory
) -> None:
    missing = client.get("/v1/log/checkpoint/cosigned")
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEM + "no-cosigned-checkpoint"

    checkpoint = current_checkpoint(client)
    line = THAILAND.cosign(checkpoint, T0)
    status, headers, body = post_cosignature(client, registry, checkpoint.size, line)
    assert status == 201, body
    seq = checkpoint.size  # the acknowledgement is the next entry of the log
    assert headers["a6-ledger-seq"] == str(seq)
    assert headers["a6-tree-size"] == str(seq + 1)
    assert body == {
        "tree_size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "key_name": THAILAND.name,
        "key_id": f"{THAILAND.key_id:08x}",
        "timestamp": T0,
        "signature": line.removesuffix("\n"),
        "seq": seq,
        "recorded_at": body["recorded_at"],
    }

    # Public, like the checkpoint: the note verifies with the log key and the witness key.
    cosigned = client.get("/v1/log/checkpoint/cosigned")
    assert cosigned.status_code == 200
    assert cosigned.headers["content-type"].startswith("text/plain")
    by_log, log_signatures = open_checkpoint(cosigned.text, [log_verifier(client)])
    assert by_log == checkpoint
    assert [s.name for s in log_signatures] == [checkpoint.origin]
    witness_verifier = note.Verifier(THAILAND.vkey)
    by_witness, witness_signatures = open_checkpoint(cosigned.text, [witness_verifier])
    assert by_witness == checkpoint
    assert [(s.name, s.timestamp) for s in witness_signatures] == [(THAILAND.name, T0)]
    served_line = cosigned.text.split("\n\n")[1].splitlines()[1]
    assert verify_cosignature(checkpoint, served_line, witness_verifier) == T0

    # The acknowledgement is itself in the log.
    entry = client.get(
        "/v1/log/entries", params={"start": seq, "end": seq + 1}, headers=tokens("auditor")
    ).content
    recorded = json.loads(entry)
    assert recorded["kind"] == "checkpoint.cosigned"
    assert recorded["actor"].startswith("token:")
    assert recorded["payload"] == {
        "tree_size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "key_name": THAILAND.name,
        "key_id": f"{THAILAND.key_id:08x}",
        "timestamp": T0,
        "signature": line.removesuffix("\n"),
    }


def test_every_witness_of_the_size_signs_the_served_note(
    client: TestClient, registry: dict[str, str], tokens: TokenFactory
) -> None:
    checkpoint = current_checkpoint(client)
    admin = tokens("admin")
    record(client, admin, checkpoint, MONGOLIA, T0 + 9)
    record(client, registry, checkpoint, THAILAND, T0)
    text_note = client.get("/v1/log/checkpoint/cosigned").text
    verifiers = [log_verifier(client), note.Verifier(THAILAND.vkey), note.Verifier(MONGOLIA.vkey)]
    opened, signatures = open_checkpoint(text_note, verifiers)
    assert opened == checkpoint
    assert [(s.name, s.timestamp) for s in signatures] == [
        (checkpoint.origin, None),
        (THAILAND.name, T0),
        (MONGOLIA.name, T0 + 9),
    ]


def test_an_earlier_size_may_be_cosigned_and_the_latest_cosigned_size_is_served(
    client: TestClient, registry: dict[str, str], tokens: TokenFactory
) -> None:
    auditor = tokens("auditor")
    tokens("admin")
    latest = current_checkpoint(client)
    assert latest.size >= 3
    record(client, registry, latest, THAILAND, T0)
    for size in (1, latest.size - 1):
        stale = checkpoint_at(client, size, auditor)
        body = record(client, registry, stale, THAILAND, T0 + 1)
        assert body["root_hash"] == base64.b64encode(stale.root_hash).decode()
    served, _ = open_checkpoint(
        client.get("/v1/log/checkpoint/cosigned").text, [note.Verifier(THAILAND.vkey)]
    )
    assert served == latest


def test_a_repeat_records_nothing_and_a_different_cosignature_conflicts(
    client: TestClient, registry: dict[str, str]
) -> None:
    checkpoint = current_checkpoint(client)
    line = THAILAND.cosign(checkpoint, T0)
    status, _, first = post_cosignature(client, registry, checkpoint.size, line)
    assert status == 201
    size = log_size(client)

    status, headers, again = post_cosignature(client, registry, checkpoint.size, line[:-1])
    assert status == 201
    assert again == first
    assert "a6-ledger-seq" not in headers
    assert headers["a6-tree-size"] == str(size)
    assert log_size(client) == size

    later = THAILAND.cosign(checkpoint, T0 + 60)
    status, headers, problem = post_cosignature(client, registry, checkpoint.size, later)
    assert status == 409
    assert headers["content-type"] == "application/problem+json"
    assert problem["type"] == PROBLEM + "cosignature-conflict"
    assert problem["recorded_signature"] == line[:-1]
    assert log_size(client) == size
    assert client.get("/v1/log/checkpoint/cosigned").text.count(line) == 1


def test_bad_cosignatures_are_refused_and_record_nothing(
    client: TestClient, registry: dict[str, str]
) -> None:
    checkpoint = current_checkpoint(client)
    good = THAILAND.cosign(checkpoint, T0)
    prefix, encoded = good[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 0x01
    tampered = f"{prefix} {base64.b64encode(bytes(raw)).decode()}"
    cases = [
        (checkpoint.size, STRANGER.cosign(checkpoint, T0), "unknown-witness"),
        (checkpoint.size, tampered, "signature-invalid"),
        (checkpoint.size - 1, good, "signature-invalid"),
        (checkpoint.size + 1, good, "tree-size-out-of-range"),
        (checkpoint.size, "— registry.example.th/witness AAAA", "malformed-note"),
        (checkpoint.size, good + good, "malformed-note"),
    ]
    for tree_size, line, kind in cases:
        status, headers, problem = post_cosignature(client, registry, tree_size, line)
        assert (status, problem["type"]) == (422, PROBLEM + kind), (tree_size, line, problem)
        assert headers["content-type"] == "application/problem+json"
    assert log_size(client) == checkpoint.size
    assert client.get("/v1/log/checkpoint/cosigned").status_code == 404


def test_only_admin_and_registry_tokens_may_record_cosignatures(
    client: TestClient, tokens: TokenFactory
) -> None:
    checkpoint = current_checkpoint(client)
    line = THAILAND.cosign(checkpoint, T0)
    status, headers, _ = post_cosignature(client, {}, checkpoint.size, line)
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    for role in ("auditor", "reconciler"):
        assert post_cosignature(client, tokens(role), checkpoint.size, line)[0] == 403
    assert client.get("/v1/log/checkpoint/cosigned").status_code == 404


def test_no_witness_keys_configured_means_no_cosignature_is_accepted(
    app_settings: Settings, tokens: TokenFactory
) -> None:
    bare = create_app(app_settings.model_copy(update={"witness_keys": []}))
    with TestClient(bare) as client:
        checkpoint = current_checkpoint(client)
        status, _, problem = post_cosignature(
            client, tokens("registry", "JPN01"), checkpoint.size, THAILAND.cosign(checkpoint, T0)
        )
    assert (status, problem["type"]) == (422, PROBLEM + "unknown-witness")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE checkpoint_cosignature SET timestamp = timestamp + 1",
        "UPDATE checkpoint_cosignature SET signature_line = 'forged'",
        "DELETE FROM checkpoint_cosignature",
    ],
)
def test_the_database_keeps_cosignatures_append_only(
    client: TestClient, app: FastAPI, registry: dict[str, str], statement: str
) -> None:
    record(client, registry, current_checkpoint(client), THAILAND, T0)
    engine: Engine = app.state.storage.engine
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert client.get("/v1/log/checkpoint/cosigned").status_code == 200


def test_postgresql_rejects_truncating_cosignatures(
    client: TestClient, app: FastAPI, registry: dict[str, str], backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    record(client, registry, current_checkpoint(client), THAILAND, T0)
    engine: Engine = app.state.storage.engine
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE checkpoint_cosignature"))


def test_an_export_of_the_cosigned_checkpoint_carries_its_cosignatures(
    client: TestClient,
    app: FastAPI,
    registry: dict[str, str],
    tokens: TokenFactory,
    tmp_path: Path,
) -> None:
    """Issue 12: ``GET /v1/exports?cosigned=true`` proves the entries against the latest
    cosigned checkpoint, and its checkpoint.txt carries the cosignatures, so
    ``verify-export --witness ... --require K`` needs no separate file."""
    auditor = tokens("auditor")
    missing = client.get("/v1/exports", params={"cosigned": "true"}, headers=auditor)
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEM + "no-cosigned-checkpoint"

    with app.state.storage.unit_of_work(write=True) as uow:
        load_demo(uow)  # a Party's entries, for a filtered export of the cosigned tree
        uow.commit()
    checkpoint = current_checkpoint(client)
    record(client, registry, checkpoint, THAILAND, T0)
    record(client, registry, checkpoint, MONGOLIA, T0 + 1)
    assert log_size(client) > checkpoint.size  # each cosignature is recorded as an entry

    response = client.get("/v1/exports", params={"cosigned": "true"}, headers=auditor)
    assert response.status_code == 200
    assert response.headers["a6-tree-size"] == str(checkpoint.size)
    vkey = client.get("/v1/log/key").text.strip()
    report = verify_export(response.content, vkey)
    assert (report.tree_size, report.end) == (checkpoint.size, checkpoint.size)
    cosigned = tmp_path / "cosigned.zip"
    cosigned.write_bytes(response.content)
    plain = tmp_path / "plain.zip"
    plain.write_bytes(client.get("/v1/exports", headers=auditor).content)

    def verify(path: Path, *witnesses: Cosigner, require: int) -> int:
        argv = ["verify-export", str(path), "--vkey", vkey, "--require", str(require)]
        for witness in witnesses:
            argv += ["--witness", witness.vkey]
        return cli.main(argv)

    assert verify(cosigned, THAILAND, MONGOLIA, require=2) == 0
    assert verify(cosigned, THAILAND, STRANGER, require=1) == 0
    assert verify(cosigned, THAILAND, STRANGER, require=2) == 1
    assert verify(plain, THAILAND, MONGOLIA, require=1) == 1  # the current tree is not cosigned

    year = datetime.now(UTC).year  # the demo's actions are dated when they are recorded
    filtered = tmp_path / "jpn.zip"
    params = {"cosigned": "true", "party": "JPN", "year": year}
    filtered.write_bytes(client.get("/v1/exports", params=params, headers=auditor).content)
    assert verify(filtered, THAILAND, MONGOLIA, require=2) == 0
