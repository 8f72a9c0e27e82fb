"""The test command on any machine: without a reachable PostgreSQL (and no backend named), the
suite runs on SQLite and says in one line how to include PostgreSQL."""

from __future__ import annotations

import pytest

from tests import databases

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/test"  # the discard port: nothing listens


def test_an_unreachable_server_leaves_sqlite_and_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert databases.postgres_answers(UNREACHABLE) is False
    monkeypatch.setattr(databases, "POSTGRES_ADMIN_URL", UNREACHABLE)
    backends, line = databases._backends(None)
    assert backends == ("sqlite",)
    assert line is not None
    assert "\n" not in line
    assert "127.0.0.1:9/test" in line
    assert "A6LEDGER_TEST_DATABASES=sqlite,postgresql" in line


def test_named_backends_are_taken_as_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(databases, "POSTGRES_ADMIN_URL", UNREACHABLE)
    assert databases._backends("sqlite, postgresql") == (("sqlite", "postgresql"), None)
    assert databases._backends("postgresql") == (("postgresql",), None)
