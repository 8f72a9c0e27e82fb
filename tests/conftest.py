from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ledger.adapters.sql.db import create_ledger_engine
from tests.databases import BACKENDS, SKIPPED_POSTGRES, PostgresFactory, SqliteFactory

DatabaseFactory = SqliteFactory | PostgresFactory


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SKIPPED_POSTGRES is not None:
        terminalreporter.write_line(SKIPPED_POSTGRES, yellow=True)


@pytest.fixture(scope="session")
def database_factories() -> Iterator[dict[str, DatabaseFactory]]:
    factories: dict[str, DatabaseFactory] = {}
    yield factories
    for factory in factories.values():
        factory.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_factory(
    backend: str, database_factories: dict[str, DatabaseFactory]
) -> DatabaseFactory:
    if backend not in database_factories:
        if backend == "sqlite":
            database_factories[backend] = SqliteFactory(Path(tempfile.mkdtemp(prefix="a6t-")))
        elif backend == "postgresql":
            database_factories[backend] = PostgresFactory()
        else:
            raise pytest.UsageError(f"unknown test database backend {backend!r}")
    return database_factories[backend]


@pytest.fixture
def database_url(database_factory: DatabaseFactory) -> Iterator[str]:
    """A fresh database, built by the Alembic migrations, dropped after the test."""
    url = database_factory.create()
    yield url
    database_factory.drop(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_ledger_engine(database_url)
    yield engine
    engine.dispose()
