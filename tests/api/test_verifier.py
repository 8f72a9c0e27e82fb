"""The offline verifier: ``a6ledger verify-proof`` in process, and ``verify-export`` and
``verify-proof`` in a fresh virtual environment holding only the package (installed without its
dependencies), ``cryptography`` and ``rfc8785``: no FastAPI, SQLAlchemy, pydantic or uvicorn
(README, "For auditors")."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import cli
from ledger.demo import load_demo
from ledger.log.keys import generate_signer
from tests.api.conftest import TokenFactory
from tests.databases import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
SERVER_STACK = ("fastapi", "starlette", "pydantic", "sqlalchemy", "uvicorn", "alembic", "httpx")


@pytest.fixture
def evidence(
    client: TestClient, app: FastAPI, tokens: TokenFactory, tmp_path: Path
) -> dict[str, Path]:
    """What an auditor downloads: the key, an export, one entry and its tlog-proof."""
    auditor = tokens("auditor")
    with app.state.storage.unit_of_work(write=True) as uow:
        load_demo(uow)
        uow.commit()
    files = {
        "vkey": tmp_path / "log.vkey",
        "export": tmp_path / "export.zip",
        "filtered": tmp_path / "filtered.zip",
        "proof": tmp_path / "entry-5.proof",
        "entry": tmp_path / "entry-5.json",
    }
    files["vkey"].write_text(client.get("/v1/log/key").text)
    files["export"].write_bytes(
        client.get("/v1/exports", params={"start": 0}, headers=auditor).content
    )
    year = datetime.now(UTC).year  # the demo's actions are dated when they are recorded
    files["filtered"].write_bytes(
        client.get("/v1/exports", params={"party": "JPN", "year": year}, headers=auditor).content
    )
    files["proof"].write_text(client.get("/v1/log/proofs/bundle", params={"index": 5}).text)
    entry = client.get("/v1/log/entries", params={"start": 5, "end": 6}, headers=auditor)
    files["entry"].write_bytes(entry.content)  # one JSON line, newline included
    return files


def test_verify_proof_command(
    evidence: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def verify(entry: Path, vkey: str | Path) -> int:
        return cli.main(
            ["verify-proof", str(evidence["proof"]), "--entry", str(entry), "--vkey", str(vkey)]
        )

    assert verify(evidence["entry"], evidence["vkey"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: entry seq 5 ")
    assert "is leaf 5 of the checkpoint of tree size" in out

    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(evidence["entry"].read_bytes().replace(b'"seq":5', b'"seq":6'))
    assert verify(tampered, evidence["vkey"]) == 1
    assert capsys.readouterr().out.startswith("FAIL: ")

    _skey, other_vkey = generate_signer("a6ledger.test/log")  # the log's name, another key
    assert verify(evidence["entry"], other_vkey) == 1
    assert capsys.readouterr().out.startswith("FAIL: ")

    assert verify(tmp_path / "nope", evidence["vkey"]) == 2
    assert "cannot read" in capsys.readouterr().err


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    "sqlite" not in BACKENDS, reason="needs no database: runs once, in the SQLite pass"
)
def test_verifier_installs_and_runs_without_the_server_stack(
    evidence: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("app", "ledger"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    venv = tmp_path / "verifier"
    run(sys.executable, "-m", "venv", venv)
    python, a6ledger = venv / "bin" / "python", venv / "bin" / "a6ledger"
    # The minimal install of README's "For auditors".
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", source)
    lock = ROOT / "requirements-verifier.txt"
    run(python, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", lock)

    present = run(
        python,
        "-c",
        "import importlib.util as u, sys; "
        f"print(','.join(m for m in {SERVER_STACK!r} if u.find_spec(m)))",
    )
    assert present.strip() == ""

    out = run(a6ledger, "verify-export", evidence["export"], "--vkey", evidence["vkey"])
    assert out.startswith("OK: ")
    # A filtered export: its AEF tables are re-derived by the verifier's own pure code.
    out = run(a6ledger, "verify-export", evidence["filtered"], "--vkey", evidence["vkey"])
    assert out.startswith("OK: ")
    assert "of JPN's AEF for " in out
    out = run(
        a6ledger,
        "verify-proof",
        evidence["proof"],
        "--entry",
        evidence["entry"],
        "--vkey",
        evidence["vkey"],
    )
    assert out.startswith("OK: entry seq 5 ")
