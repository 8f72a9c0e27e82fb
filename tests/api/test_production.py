"""In production the service publishes no interactive docs: anonymous callers reach only the
health probes, the checkpoint and the key (the API description is openapi/openapi.json). It
refuses to start with an unsafe configuration, one line each; readiness names pending
migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.cli import main
from app.keys import write_signer_key
from app.main import create_app, startup_refusals
from app.settings import DEVELOPMENT_LOG_ORIGIN, Environment, Settings, get_settings
from ledger.adapters.sql.migrations import alembic_config, pending_revisions


def test_production_serves_no_docs_to_anonymous_callers(tmp_path: Path, database_url: str) -> None:
    key = tmp_path / "signer.key"
    write_signer_key(key, "prod.example/log")
    settings = Settings(
        environment=Environment.production,
        database_url=database_url,
        signer_key_path=key,
        checkpoint_state_path=tmp_path / "state",
        log_origin="prod.example/log",
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/log/checkpoint").status_code == 200


# --- Refused production configurations: one line each on stderr, exit 1, no traceback ---------

ORIGIN = "prod.example/log"


@pytest.fixture
def production_env(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A production configuration that starts (key written, database at head), in the
    environment; returns the data directory. Each test spoils one thing."""
    for name in list(os.environ):
        if name.startswith("A6LEDGER_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    write_signer_key(data_dir / "log-signer.key", ORIGIN)
    monkeypatch.setenv("A6LEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("A6LEDGER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("A6LEDGER_LOG_ORIGIN", ORIGIN)
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


def refused(capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``a6ledger serve``, expect a refusal, return its one line."""
    get_settings.cache_clear()
    assert main(["serve", "--port", "9"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("a6ledger: refusing to start: ")
    return lines[0]


@pytest.mark.usefixtures("production_env")
def test_the_configuration_fixture_is_one_that_starts() -> None:
    assert startup_refusals(get_settings()) == []


@pytest.mark.usefixtures("production_env")
def test_production_refuses_the_development_log_origin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("A6LEDGER_LOG_ORIGIN")
    write_signer_key(get_settings().signer_key_path.with_name("dev.key"), DEVELOPMENT_LOG_ORIGIN)
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", "dev.key")  # a key of that name: one line
    line = refused(capsys)
    assert f"the log origin is the development one ({DEVELOPMENT_LOG_ORIGIN})" in line
    assert "A6LEDGER_LOG_ORIGIN" in line


@pytest.mark.usefixtures("production_env")
def test_production_refuses_a_relative_sqlite_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("A6LEDGER_DATABASE_URL", "sqlite:///var/a6ledger.db")
    line = refused(capsys)
    assert "the SQLite database path var/a6ledger.db is relative" in line


@pytest.mark.usefixtures("production_env")
def test_production_refuses_a_relative_data_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = get_settings().signer_key_path
    monkeypatch.setenv("A6LEDGER_DATA_DIR", "var")
    monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(key))
    line = refused(capsys)
    assert "the data directory var is a relative path" in line


def test_production_refuses_a_missing_signer_key(
    production_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (production_env / "log-signer.key").unlink()
    line = refused(capsys)
    assert f"key {production_env / 'log-signer.key'} does not exist" in line
    assert "a6ledger keys generate" in line


def test_production_refuses_an_unreadable_signer_key(
    production_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tests run as root, who reads any file: a directory in the key's place is unreadable.
    key = production_env / "log-signer.key"
    key.unlink()
    key.mkdir()
    line = refused(capsys)
    assert f"key {key} cannot be read by uid {os.geteuid()}" in line
    assert "chown 65532" in line


def test_production_refuses_a_malformed_signer_key(
    production_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (production_env / "log-signer.key").write_text("PUBLIC+KEY+not-a-signer-key\n")
    line = refused(capsys)
    assert "is not a signer key (signer key must start with PRIVATE+KEY+)" in line


@pytest.mark.usefixtures("production_env")
def test_production_refuses_a_key_named_other_than_the_origin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("A6LEDGER_LOG_ORIGIN", "other.example/log")
    line = refused(capsys)
    assert f"is named {ORIGIN!r} but the log origin is 'other.example/log'" in line
    assert f"or set A6LEDGER_LOG_ORIGIN={ORIGIN}" in line


@pytest.mark.usefixtures("production_env")
def test_production_refuses_a_database_that_does_not_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "A6LEDGER_DATABASE_URL",
        "postgresql+psycopg://postgres@127.0.0.1:9/nothing?connect_timeout=2",
    )
    line = refused(capsys)
    assert "the database postgresql+psycopg://postgres@127.0.0.1:9/nothing" in line
    assert "does not answer" in line


@pytest.mark.usefixtures("production_env")
def test_invalid_settings_are_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("A6LEDGER_MAX_PAGE_SIZE", "0")
    get_settings.cache_clear()
    assert main(["serve"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("a6ledger: invalid configuration: A6LEDGER_MAX_PAGE_SIZE: ")


# --- Readiness names pending migrations ---------------------------------------------------------


def _set_revision(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_readiness_names_pending_migrations_and_unknown_revisions(
    client: TestClient, engine: Engine
) -> None:
    assert client.get("/readyz").json()["status"] == "ready"
    (head,) = pending_revisions(str(engine.url.render_as_string(hide_password=False)))[0]
    previous = ScriptDirectory.from_config(alembic_config("")).get_revision(head).down_revision
    assert isinstance(previous, str)
    _set_revision(engine, previous)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not-ready",
        "database": "migrations-pending",
        "detail": f"migrations pending: {head}",
    }
    _set_revision(engine, "9999future")
    body = client.get("/readyz").json()
    assert body["database"] == "migrations-unknown"
    assert "revision 9999future, which this release does not know" in body["detail"]
    _set_revision(engine, head)
    assert client.get("/readyz").json()["status"] == "ready"
