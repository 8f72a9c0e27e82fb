"""The log read API, checked with verifiers written here from the specs (RFC 9162 §2.1.3.2 and
C2SP signed-note), independent of ``ledger.log.merkle`` and ``ledger.log.note``."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledger.demo import load_demo
from ledger.log import note
from ledger.log.tlog_checkpoint import open_checkpoint
from ledger.log.tlog_proof import verify_tlog_proof
from tests.api.conftest import TokenFactory


@pytest.fixture
def loaded(client: TestClient, app: FastAPI, tokens: TokenFactory) -> TestClient:
    """The demo scenario loaded; the client reads as an auditor (entries and proofs need a
    token; the checkpoint and the key are public)."""
    client.headers.update(tokens("auditor"))
    with app.state.storage.unit_of_work(write=True) as uow:
        load_demo(uow)
        uow.commit()
    return client


def independent_open_note(text: str, vkey: str) -> tuple[str, int, bytes]:
    """Verify a C2SP signed note with only ``cryptography``; return the checkpoint fields."""
    name, key_hex, key_b64 = vkey.strip().split("+", 2)
    key_bytes = base64.b64decode(key_b64)
    assert key_bytes[0] == 0x01
    key_id = hashlib.sha256(name.encode() + b"\n" + key_bytes).digest()[:4]
    assert key_id.hex() == key_hex
    body, signatures = text.split("\n\n", 1)
    body += "\n"
    verified = False
    for line in signatures.splitlines():
        dash, signer, blob = line.split(" ")
        assert dash == "\u2014"
        raw = base64.b64decode(blob)
        if signer == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key_bytes[1:]).verify(raw[4:], body.encode())
            verified = True
    assert verified
    origin, size, root = body.splitlines()
    assert origin == name
    return origin, int(size), base64.b64decode(root)


def independent_root_from_inclusion(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, transcribed."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        assert sn != 0
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0
    return r


def test_checkpoint_verifies_with_the_published_key(loaded: TestClient) -> None:
    vkey = loaded.get("/v1/log/key").text
    response = loaded.get("/v1/log/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    origin, size, root = independent_open_note(response.text, vkey)
    assert origin == "a6ledger.test/log"
    assert size > 30
    checkpoint, _ = open_checkpoint(response.text, [note.Verifier(vkey.strip())])
    assert checkpoint.root_hash == root
    again = loaded.get("/v1/log/checkpoint", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_every_entry_is_included_in_the_signed_root(loaded: TestClient) -> None:
    vkey = loaded.get("/v1/log/key").text
    _, size, root = independent_open_note(loaded.get("/v1/log/checkpoint").text, vkey)
    lines = loaded.get("/v1/log/entries", params={"start": 0, "end": size}).content.splitlines()
    assert len(lines) == size
    for index, line in enumerate(lines):
        assert json.loads(line)["seq"] == index
        proof = loaded.get(
            "/v1/log/proofs/inclusion", params={"index": index, "tree_size": size}
        ).json()
        path = [base64.b64decode(h) for h in proof["audit_path"]]
        leaf = hashlib.sha256(b"\x00" + line).digest()
        assert base64.b64decode(proof["leaf_hash"]) == leaf
        assert independent_root_from_inclusion(leaf, index, size, path) == root


def test_consistency_proofs_link_every_earlier_size(loaded: TestClient) -> None:
    size = int(loaded.get("/v1/log/checkpoint").text.splitlines()[1])
    from ledger.log import merkle

    for first in range(1, size + 1):
        body = loaded.get(
            "/v1/log/proofs/consistency", params={"first": first, "second": size}
        ).json()
        merkle.verify_consistency(
            first,
            size,
            [base64.b64decode(h) for h in body["consistency"]],
            base64.b64decode(body["first_root_hash"]),
            base64.b64decode(body["second_root_hash"]),
        )


def test_proof_bundle_verifies_offline(loaded: TestClient) -> None:
    vkey = loaded.get("/v1/log/key").text.strip()
    bundle = loaded.get("/v1/log/proofs/bundle", params={"index": 7}).text
    entry = loaded.get("/v1/log/entries", params={"start": 7, "end": 8}).content.rstrip(b"\n")
    checkpoint = verify_tlog_proof(bundle, entry, [note.Verifier(vkey)])
    assert checkpoint.origin == "a6ledger.test/log"
    with pytest.raises(Exception, match=r"(?i)inclusion|proof"):
        verify_tlog_proof(bundle, entry.replace(b'"seq":7', b'"seq":8'), [note.Verifier(vkey)])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/log/entries", {"start": 10_000}),
        ("/v1/log/entries", {"start": 5, "end": 2}),
        ("/v1/log/entries", {"start": -1}),
        ("/v1/log/entries", {"start": 2**63}),
        ("/v1/log/proofs/inclusion", {"index": 5, "tree_size": 5}),
        ("/v1/log/proofs/inclusion", {"index": 0, "tree_size": 10_000}),
        ("/v1/log/proofs/consistency", {"first": 0, "second": 3}),
        ("/v1/log/proofs/consistency", {"first": 4, "second": 3}),
        ("/v1/log/proofs/consistency", {"first": "x", "second": 3}),
    ],
)
def test_bad_ranges_are_problems(loaded: TestClient, path: str, params: dict[str, object]) -> None:
    response = loaded.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].startswith("urn:a6ledger:problem:")
    assert body["status"] == 422
    assert body["detail"]


def test_entries_page_is_bounded(loaded: TestClient, app: FastAPI) -> None:
    app.state.settings.max_page_size = 5
    response = loaded.get("/v1/log/entries", params={"start": 3})
    assert len(response.content.splitlines()) == 5
    assert response.headers["a6-next-start"] == "8"


def test_health_and_readiness(loaded: TestClient) -> None:
    assert loaded.get("/healthz").json() == {"status": "ok"}
    ready = loaded.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_the_log_refuses_to_sign_when_storage_lost_a_signed_tree(
    loaded: TestClient, app: FastAPI
) -> None:
    """After a checkpoint was published, storage that no longer contains that tree (history
    rewritten, or another database behind the same key) gets no new signature."""
    published = loaded.get("/v1/log/checkpoint")
    assert published.status_code == 200
    state_path = app.state.settings.checkpoint_state_path
    size_text, root_text = state_path.read_text().split()
    assert int(size_text) == int(published.text.splitlines()[1])
    forged_root = base64.b64encode(bytes([7]) * 32).decode()
    state_path.write_text(f"{size_text} {forged_root}\n")
    refused = loaded.get("/v1/log/checkpoint")
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["rule"] == "never-sign-inconsistent-checkpoints"
    assert loaded.get("/v1/exports", params={"start": 0}).status_code == 503
    state_path.write_text(f"{int(size_text) + 5} {root_text}\n")
    assert loaded.get("/v1/log/checkpoint").status_code == 503
