from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from ledger.adapters.sql.db import create_ledger_engine
from tests.databases import BACKENDS, SKIPPED_POSTGRES, PostgresFactory, SqliteFactory

DatabaseFactory = SqliteFactory | PostgresFactory

# Hypothesis profiles, registered here rather than left to Hypothesis's built-in ones: no
# deadline and no too_slow health check anywhere (a loaded 2-core machine broke both on tests
# that are not slow by themselves), and in CI (CI is set) derandomized examples without the
# example database, so a run is reproducible and never fails at random.
_LOADED_MACHINE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("a6ledger", _LOADED_MACHINE)
settings.register_profile(
    "a6ledger-ci", _LOADED_MACHINE, derandomize=True, database=None, print_blob=True
)
settings.load_profile("a6ledger-ci" if os.environ.get("CI") else "a6ledger")


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
