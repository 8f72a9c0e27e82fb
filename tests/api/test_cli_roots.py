"""Every command that prints a tree root prints it as the checkpoints do: standard base64 (the
third line of the checkpoint note), never hex (issue 11, CLI manners): ``verify-db``, ``export``,
``verify-export``, ``verify-proof`` (a failure names the root it computed and the signed one)
and ``reconcile`` (the counterpart's verified checkpoint in its JSON). ``witness push`` and
``consistency`` print no root."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.settings import Settings, get_settings
from ledger.accounting.reconciliation import Reconciliation
from tests.api.conftest import TokenFactory
from tests.api.test_signed_trees import add_party

ROOT_RE = re.compile(r'(?:\broots?|"root_hash":) "?([A-Za-z0-9+/=]+)"?(?: and ([A-Za-z0-9+/=]+))?')
HEX_DIGEST_RE = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture
def downloads(
    client: TestClient,
    tokens: TokenFactory,
    app_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, Path]]:
    """A small log, the commands' environment on its database, and what an auditor downloads."""
    for code in ("AAA", "BBB", "CCC"):
        add_party(client, tokens, code)
    auditor = tokens("auditor")
    files = {name: tmp_path / name for name in ("vkey", "zip", "proof", "entry", "tamper")}
    files["vkey"].write_text(client.get("/v1/log/key").text)
    files["zip"].write_bytes(
        client.get("/v1/exports", params={"start": 0}, headers=auditor).content
    )
    files["proof"].write_text(client.get("/v1/log/proofs/bundle", params={"index": 1}).text)
    entry = client.get("/v1/log/entries", params={"start": 1, "end": 2}, headers=auditor).content
    files["entry"].write_bytes(entry)
    assert b"Party AAA" in entry
    files["tamper"].write_bytes(entry.replace(b"Party AAA", b"Party AAX"))
    for name, value in (
        ("DATABASE_URL", app_settings.database_url),
        ("SIGNER_KEY_PATH", str(app_settings.signer_key_path)),
        ("LOG_ORIGIN", app_settings.log_origin),
        ("CHECKPOINT_STATE_PATH", str(app_settings.checkpoint_state_path)),
    ):
        monkeypatch.setenv(f"A6LEDGER_{name}", value)
    get_settings.cache_clear()
    yield files
    get_settings.cache_clear()


COMMANDS = {
    "verify-db": (["verify-db"], 0),
    "export": (["export", "--start", "0", "--out", "{tmp}/out.zip"], 0),
    "verify-export": (["verify-export", "{zip}", "--vkey", "{vkey}"], 0),
    "verify-proof": (["verify-proof", "{proof}", "--entry", "{entry}", "--vkey", "{vkey}"], 0),
    "verify-proof of an altered entry": (
        ["verify-proof", "{proof}", "--entry", "{tamper}", "--vkey", "{vkey}"],
        1,
    ),
    # The counterpart's checkpoint as verified (its fetching is tested in test_reconciliation).
    "reconcile": (
        ["reconcile", "--party", "JPN", "--counterpart-party", "THA", "--year", "2025"]
        + ["--counterpart", "http://127.0.0.1:9", "--counterpart-vkey", "{vkey}"],
        1,
    ),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_roots_are_printed_in_the_checkpoints_base64(
    name: str,
    downloads: dict[str, Path],
    client: TestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = client.get("/v1/log/checkpoint").text.splitlines()
    log_root = lines[2]
    if name == "reconcile":
        verified = Reconciliation(
            "JPN", "THA", 2025, lines[0], int(lines[1]), base64.b64decode(log_root)
        )
        monkeypatch.setattr("app.cli_reconcile.reconcile_with", lambda *_, **__: verified)
    argv, status = COMMANDS[name]
    paths = {key: str(path) for key, path in downloads.items()} | {"tmp": str(tmp_path)}
    capsys.readouterr()
    assert cli.main([arg.format(**paths) for arg in argv]) == status
    out = capsys.readouterr().out
    roots = [root for found in ROOT_RE.finditer(out) for root in found.groups() if root]
    assert roots, out
    for root in roots:
        assert len(base64.b64decode(root, validate=True)) == 32, out
        assert base64.b64encode(base64.b64decode(root)).decode("ascii") == root
    assert log_root in roots, out
    if status == 1 and name != "reconcile":
        assert len(set(roots)) == 2, out  # the root it computed and the signed one
    assert not HEX_DIGEST_RE.search(re.sub(r"SHA-256 [0-9a-f]{64}", "", out)), out
