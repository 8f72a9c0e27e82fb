"""The ``a6ledger`` administration commands run in-process on both databases: ``migrate``,
``demo``, ``verify-db`` (a clean ledger passes, a tampered one fails naming what differs),
``keys show`` and ``openapi --check``; run from any folder, they open the database of the data
directory and say which."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.settings import get_settings
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.uow import SqlStorage
from ledger.adapters.sql.verify import verify_database
from tests.conftest import DatabaseFactory
from tests.databases import BACKENDS
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
    verified = capsys.readouterr()
    size, root = re.fullmatch(
        r"OK: (\d+) entries verified, root (\S+) \(base64, as in the checkpoints\); .*\n",
        verified.out,
    ).groups()  # type: ignore[union-attr]
    engine = create_ledger_engine(get_settings().database_url)
    try:
        with SqlStorage(engine).unit_of_work(write=False) as uow:
            assert int(size) == uow.log.size()
            assert base64.b64decode(root, validate=True) == uow.log.root(int(size))
        entries: list[int] = []
        assert verify_database(engine, entries.append).ok
        assert entries == [1] * int(size)  # the progress callback, once per entry
    finally:
        engine.dispose()
    assert "\r" not in verified.err  # not a terminal: no progress bar


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


@pytest.mark.skipif("sqlite" not in BACKENDS, reason="the default database is SQLite")
def test_commands_from_any_folder_open_the_database_of_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("A6LEDGER_"):
            monkeypatch.delenv(name)
    data_dir, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("A6LEDGER_DATA_DIR", str(data_dir))
    opened = f"a6ledger: database sqlite:///{data_dir / 'a6ledger.db'}"
    get_settings.cache_clear()
    try:
        monkeypatch.chdir(elsewhere)
        assert main(["migrate"]) == 0
        assert capsys.readouterr().err.splitlines() == [opened]
        assert main(["tokens", "create", "--role", "admin", "--name", "ops"]) == 0
        assert capsys.readouterr().err.splitlines()[0] == opened
        monkeypatch.chdir(tmp_path)
        assert main(["tokens", "list"]) == 0
        listed = capsys.readouterr()
        assert listed.err.splitlines() == [opened]
        assert "\tadmin\t" in listed.out
    finally:
        get_settings.cache_clear()
    assert sorted(p.name for p in elsewhere.iterdir()) == []
    assert (data_dir / "a6ledger.db").is_file()
