"""``a6ledger witness push`` from the command line, in-process, on both databases: without
partners it cannot run (2); a partner that does not answer is reported as one JSON line (1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.keys import write_signer_key
from app.settings import get_settings
from ledger.log import keys
from ledger.log.tlog_cosignature import Cosigner

# Nothing listens on the discard port of the loopback address: the connection is refused at once.
UNREACHABLE = "http://127.0.0.1:9/v1/witness"


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("A6LEDGER_LOG_ORIGIN", "registry.example.jp/log")
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(tmp_path / "signer.key"))
    monkeypatch.setenv("A6LEDGER_CHECKPOINT_STATE_PATH", str(tmp_path / "state"))
    write_signer_key(tmp_path / "signer.key", "registry.example.jp/log")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_push_without_partners_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["witness", "push"]) == 2
    assert "A6LEDGER_WITNESS_PARTNERS" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
def test_push_reports_a_partner_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    partner = Cosigner(keys.generate_signer("registry.example.th/witness")[0])
    monkeypatch.setenv(
        "A6LEDGER_WITNESS_PARTNERS", json.dumps([{"url": UNREACHABLE, "vkey": partner.vkey}])
    )
    get_settings.cache_clear()
    assert main(["witness", "push", "--timeout", "5"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    result = json.loads(line)
    assert result["cosigned"] is False
    assert result["url"] == UNREACHABLE
    assert "cannot reach" in result["detail"]
    assert main(["witness", "push", "--url", "http://elsewhere.example/w"]) == 2
    assert "no configured partner witness" in capsys.readouterr().err


def test_push_without_the_log_key_cannot_run(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    partner = Cosigner(keys.generate_signer("registry.example.th/witness")[0])
    monkeypatch.setenv(
        "A6LEDGER_WITNESS_PARTNERS", json.dumps([{"url": UNREACHABLE, "vkey": partner.vkey}])
    )
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(cli_env / "missing.key"))
    get_settings.cache_clear()
    assert main(["witness", "push"]) == 2
    assert "missing.key does not exist" in capsys.readouterr().err
