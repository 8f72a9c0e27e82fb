"""The ``a6ledger`` administration commands run in-process on both databases: ``migrate``,
``demo``, ``verify-db`` (a clean ledger passes, a tampered one fails naming what differs),
``keys show`` and ``openapi --check``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.settings import get_settings
from ledger.adapters.sql.db import create_ledger_engine
from tests.conftest import DatabaseFactory
from tests.integration.adapters.test_log import _disable_triggers_and_run


@pytest.fixture
def cli_database(
    database_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database (no migrations yet) that the commands find through the environment."""
    url = database_factory.empty_url()
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", url)
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(tmp_path / "signer.key"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    database_factory.drop(url)


@pytest.mark.usefixtures("cli_database")
def test_migrate_demo_and_verify_db(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert "database is at the latest migration" in capsys.readouterr().out
    assert main(["migrate"]) == 0  # nothing pending the second time
    assert "applied" not in capsys.readouterr().out

    assert main(["demo"]) == 0
    loaded = capsys.readouterr().out
    assert loaded.startswith("loaded the JCM demo scenario: ")
    assert main(["demo"]) == 1  # never twice into one database
    assert "needs a fresh database" in capsys.readouterr().out

    assert main(["verify-db"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_verify_db_names_a_forged_entry(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["demo"]) == 0
    capsys.readouterr()
    engine = create_ledger_engine(cli_database)
    try:
        zero32 = (
            "decode(repeat('00', 32), 'hex')"
            if engine.dialect.name == "postgresql"
            else "zeroblob(32)"
        )
        _disable_triggers_and_run(
            engine,
            engine.dialect.name,
            f"UPDATE ledger_entry SET entry_hash = {zero32} WHERE seq = 3",
        )
    finally:
        engine.dispose()
    assert main(["verify-db"]) == 1
    assert capsys.readouterr().out.startswith("FAIL at seq 3")


@pytest.mark.usefixtures("cli_database")
def test_keys_show_prints_the_verifier_key_of_the_configured_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "generate"]) == 0
    generated = capsys.readouterr().out.strip()
    assert main(["keys", "show"]) == 0
    assert capsys.readouterr().out.strip() == generated


def test_openapi_check_passes_on_the_committed_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["openapi", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
