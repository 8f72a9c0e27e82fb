"""The largest signed tree, where every replica sees it: after the stored log loses a tree the
log signed, no replica signs, ``/readyz`` says why, and writes get a 503 problem naming the rule
instead of 201s on a history no checkpoint can cover; entries deleted behind the service's back
give the same, never a 500 from a clash of Merkle node keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.main import create_app
from app.settings import Settings
from tests.api.conftest import TokenFactory
from tests.integration.adapters.test_log import _disable_triggers_and_run

NDC = {
    "ndc_type": "single-year",
    "metric": "GHG",
    "period_start": 2021,
    "period_end": 2030,
    "method": "averaging",
    "target_year": 2030,
}


def add_party(client: TestClient, tokens: TokenFactory, code: str) -> int:
    response = client.post(
        "/v1/parties",
        json={"code": code, "name": f"Party {code}", "ndc": NDC},
        headers=tokens("admin"),
    )
    assert response.status_code == 201, response.text
    return int(response.headers["a6-tree-size"])


def signed_size(client: TestClient) -> int:
    response = client.get("/v1/log/checkpoint")
    assert response.status_code == 200, response.text
    return int(response.text.splitlines()[1])


def assert_refused(client: TestClient, admin: dict[str, str], rule: str) -> None:
    """Not ready with the reason; no signature; a write refused with a 503 problem."""
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not-ready"
    assert "refusing to" in ready.json()["detail"]
    checkpoint = client.get("/v1/log/checkpoint")
    assert checkpoint.status_code == 503
    assert checkpoint.headers["content-type"] == "application/problem+json"
    assert checkpoint.json()["rule"] == rule
    write = client.post(
        "/v1/parties",
        json={"code": "ZZZ", "name": "Refused", "ndc": NDC},
        headers=admin,
    )
    assert write.status_code == 503, write.text
    assert write.headers["content-type"] == "application/problem+json"
    assert write.json()["rule"] == rule
    assert write.headers["x-request-id"]


def signed_rows(engine: Engine) -> list[tuple[int, bytes]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tree_size, root_hash FROM signed_checkpoint ORDER BY tree_size")
        )
        return [(size, bytes(root)) for size, root in rows]


def test_every_larger_signed_tree_is_recorded_once_in_the_shared_table(
    client: TestClient, tokens: TokenFactory, engine: Engine
) -> None:
    first = add_party(client, tokens, "AAA")
    assert signed_size(client) == first
    assert signed_size(client) == first
    second = add_party(client, tokens, "BBB")
    assert signed_size(client) == second
    sizes = [size for size, _root in signed_rows(engine)]
    assert sizes == [first, second]


def test_the_shared_table_accepts_no_change_from_outside_the_service(
    client: TestClient, tokens: TokenFactory, engine: Engine
) -> None:
    add_party(client, tokens, "AAA")
    signed_size(client)
    for statement in (
        "UPDATE signed_checkpoint SET tree_size = tree_size + 1",
        "DELETE FROM signed_checkpoint",
        "INSERT INTO signed_checkpoint (tree_size, root_hash, signed_at) "
        "SELECT tree_size + 100, root_hash, signed_at FROM signed_checkpoint",
    ):
        with pytest.raises(DBAPIError, match="signed_checkpoint"), engine.begin() as conn:
            conn.execute(text(statement))
    assert len(signed_rows(engine)) == 1


def test_a_replica_that_never_signed_refuses_once_a_tree_another_signed_is_gone(
    client: TestClient,
    tokens: TokenFactory,
    app_settings: Settings,
    tmp_path: Path,
    engine: Engine,
    backend: str,
) -> None:
    admin = tokens("admin")
    add_party(client, tokens, "AAA")
    add_party(client, tokens, "BBB")
    size = signed_size(client)
    # The last entry and every Merkle node over it disappear behind the service's back
    # (triggers bypassed): the stored log is a clean, smaller log, except for the table.
    last = size - 1
    _disable_triggers_and_run(engine, backend, f"DELETE FROM ledger_entry WHERE seq = {last}")
    _disable_triggers_and_run(
        engine, backend, f"DELETE FROM merkle_node WHERE ((idx + 1) << level) > {last}"
    )
    # A second replica: its own (empty) state file, a fresh process memory; only the database's
    # table tells it what the first one signed.
    replica = create_app(
        app_settings.model_copy(update={"checkpoint_state_path": tmp_path / "replica-state"})
    )
    with TestClient(replica) as other:
        assert_refused(other, admin, "never-sign-inconsistent-checkpoints")
    assert_refused(client, admin, "never-sign-inconsistent-checkpoints")


def test_entries_deleted_before_any_signature_give_a_problem_not_a_merkle_key_clash(
    client: TestClient, tokens: TokenFactory, engine: Engine, backend: str
) -> None:
    admin = tokens("admin")
    size = add_party(client, tokens, "AAA")
    _disable_triggers_and_run(engine, backend, f"DELETE FROM ledger_entry WHERE seq = {size - 1}")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "Merkle tree has a leaf" in ready.json()["detail"]
    write = client.post(
        "/v1/parties",
        json={"code": "ZZZ", "name": "Refused", "ndc": NDC},
        headers=admin,
    )
    assert write.status_code == 503, write.text
    assert write.json()["type"] == "urn:a6ledger:problem:merkle-tree-ahead-of-log"
    assert write.json()["rule"] == "merkle-tree-matches-log"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one() == size - 1


def test_a_restored_old_backup_cannot_hide_a_signed_tree_from_the_signer(
    client: TestClient, tokens: TokenFactory, app_settings: Settings, backend: str, tmp_path: Path
) -> None:
    """The whole database goes back, the shared table with it: the signer's own file still
    knows the larger tree, and the service on the restored database refuses to sign or write."""
    if backend != "sqlite":
        pytest.skip("a whole-database backup is taken with SQLite's online backup API")
    admin = tokens("admin")
    add_party(client, tokens, "AAA")
    signed_size(client)
    backup = tmp_path / "backup.db"
    source = sqlite3.connect(make_url(app_settings.database_url).database or "")
    target = sqlite3.connect(backup)
    with source, target:
        source.backup(target)
    source.close()
    target.close()
    add_party(client, tokens, "BBB")
    signed_size(client)
    restored = app_settings.model_copy(update={"database_url": f"sqlite:///{backup}"})
    with TestClient(create_app(restored)) as restarted:
        assert_refused(restarted, admin, "never-sign-inconsistent-checkpoints")
