"""The restore drill of docs/operations.md ("Backup and restore"), run as written on PostgreSQL:
``pg_dump --format=custom`` of a small ledger, ``createdb`` + ``pg_restore --no-owner`` into a new
database, then ``a6ledger migrate`` and ``a6ledger verify-db`` on it. The guide's claims hold:
``verify-db`` prints OK with the tree size and root (base64) of the checkpoint kept with the dump;
a consistency proof served from the restored database proves it extends an older kept checkpoint;
and after more writes on the original, the signer on the restored (older) database refuses to
sign, since its signed-tree file knows a larger published tree."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.cli import main
from app.main import create_app
from app.settings import Settings, get_settings
from ledger.log import merkle
from tests.api.conftest import TokenFactory
from tests.api.test_signed_trees import add_party, assert_refused
from tests.conftest import DatabaseFactory

TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the drill restores a PostgreSQL dump with pg_dump/pg_restore")
    for tool in ("pg_dump", "createdb", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (package postgresql-client)")


def libpq(url: str) -> str:
    """The SQLAlchemy URL as the PostgreSQL client tools take it (no ``+psycopg`` driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{command[0]}: {done.stderr}"


def checkpoint(client: TestClient) -> tuple[int, bytes]:
    """The published checkpoint's tree size (second line) and root (third line, base64)."""
    response = client.get("/v1/log/checkpoint")
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()
    return int(lines[1]), base64.b64decode(lines[2], validate=True)


def test_a_restored_dump_verifies_matches_its_checkpoint_and_cannot_sign_over_a_newer_one(
    client: TestClient,
    tokens: TokenFactory,
    app_settings: Settings,
    database_url: str,
    database_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = tokens("admin")
    add_party(client, tokens, "AAA")
    older_size, older_root = checkpoint(client)  # a checkpoint kept with an earlier dump
    add_party(client, tokens, "BBB")
    kept_size, kept_root = checkpoint(client)  # the checkpoint kept with this dump

    dump = tmp_path / "a6ledger.dump"
    run("pg_dump", "--format=custom", f"--file={dump}", libpq(database_url))
    restored_url = make_url(database_url).set(database=f"{make_url(database_url).database}_r")
    restored = restored_url.render_as_string(hide_password=False)
    try:
        run("createdb", f"--maintenance-db={libpq(database_url)}", str(restored_url.database))
        run("pg_restore", "--no-owner", f"--dbname={libpq(restored)}", str(dump))

        monkeypatch.setenv("A6LEDGER_DATABASE_URL", restored)
        monkeypatch.setenv("A6LEDGER_SIGNER_KEY_PATH", str(app_settings.signer_key_path))
        monkeypatch.setenv("A6LEDGER_DATA_DIR", str(tmp_path / "restore-host"))
        get_settings.cache_clear()
        capsys.readouterr()
        assert main(["migrate"]) == 0
        assert "database is at the latest migration" in capsys.readouterr().out
        assert main(["verify-db"]) == 0
        verified = re.fullmatch(
            r"OK: (\d+) entries verified, root (\S+) \(base64, as in the checkpoints\); "
            r"the projection equals a replay of the log through the registry rules\n",
            capsys.readouterr().out,
        )
        assert verified is not None
        assert int(verified[1]) == kept_size
        assert base64.b64decode(verified[2], validate=True) == kept_root

        # This host's signed-tree file stays where it is (never restored with the dump).
        on_restored = app_settings.model_copy(update={"database_url": restored})
        with TestClient(create_app(on_restored)) as replica:
            proof = replica.get(
                "/v1/log/proofs/consistency",
                params={"first": older_size, "second": kept_size},
                headers=admin,
            )
            assert proof.status_code == 200, proof.text
            merkle.verify_consistency(
                older_size,
                kept_size,
                [base64.b64decode(h) for h in proof.json()["consistency"]],
                older_root,
                kept_root,
            )
            assert checkpoint(replica) == (kept_size, kept_root)

        # The original goes on and publishes a larger tree; the restored database is now older
        # than a published checkpoint: the signer on it refuses to sign or write.
        add_party(client, tokens, "CCC")
        assert checkpoint(client)[0] > kept_size
        with TestClient(create_app(on_restored)) as replica:
            assert_refused(replica, admin, "never-sign-inconsistent-checkpoints")
    finally:
        get_settings.cache_clear()
        database_factory.drop(restored)
