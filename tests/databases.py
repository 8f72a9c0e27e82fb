"""Fresh, migrated databases for tests, on SQLite and PostgreSQL.

Every storage test gets its own database built by the Alembic migrations: a migrated template is
made once per session (SQLite: a file; PostgreSQL: a template database) and copied per test, so
tests commit for real, take the real locks and run the real triggers, yet stay isolated.

``A6LEDGER_TEST_DATABASES`` picks the backends; ``A6LEDGER_TEST_POSTGRES_URL`` names the
PostgreSQL server's maintenance database. Unset, the backends are SQLite and, when its server
answers within two seconds, PostgreSQL: on a machine without PostgreSQL the suite runs on SQLite
and says so in one line (:data:`SKIPPED_POSTGRES`) instead of failing every PostgreSQL test.
Named explicitly (as CI does), a backend that is down fails its tests.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ledger.adapters.sql.db import normalize_database_url
from ledger.adapters.sql.migrations import upgrade_to_head

POSTGRES_ADMIN_URL = normalize_database_url(
    os.environ.get(
        "A6LEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
)
POSTGRES_PROBE_SECONDS = 2


def postgres_answers(url: str | None = None) -> bool:
    """Whether the PostgreSQL server at ``url`` (default: the tests' server) accepts a
    connection within two seconds."""
    engine = create_engine(
        url or POSTGRES_ADMIN_URL, connect_args={"connect_timeout": POSTGRES_PROBE_SECONDS}
    )
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _backends(named: str | None) -> tuple[tuple[str, ...], str | None]:
    """The backends to test, and the line that says why PostgreSQL is left out (if it is)."""
    if named is not None:
        return tuple(name.strip() for name in named.split(",") if name.strip()), None
    if postgres_answers():
        return ("sqlite", "postgresql"), None
    where = make_url(POSTGRES_ADMIN_URL).render_as_string(hide_password=True)
    return ("sqlite",), (
        f"PostgreSQL at {where} did not answer: ran the SQLite tests only. To test on "
        "PostgreSQL too, start it (README, Quick start) or set A6LEDGER_TEST_POSTGRES_URL, "
        "and A6LEDGER_TEST_DATABASES=sqlite,postgresql to require it."
    )


BACKENDS, SKIPPED_POSTGRES = _backends(os.environ.get("A6LEDGER_TEST_DATABASES"))


@dataclass
class SqliteFactory:
    root: Path
    _template: Path | None = None
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def template(self) -> Path:
        if self._template is None:
            path = self.root / "template.db"
            upgrade_to_head(f"sqlite:///{path}")
            self._template = path
        return self._template

    def empty_url(self) -> str:
        return f"sqlite:///{self.root / f'empty-{next(self._counter)}.db'}"

    def create(self) -> str:
        path = self.root / f"test-{next(self._counter)}.db"
        shutil.copyfile(self.template(), path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class PostgresFactory:
    prefix: str = field(default_factory=lambda: f"a6t_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    _template: str | None = None
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self._admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def _url(self, name: str) -> str:
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def _create_database(self, name: str, template: str | None = None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))

    def template(self) -> str:
        if self._template is None:
            name = f"{self.prefix}_tmpl"
            self._create_database(name)
            upgrade_to_head(self._url(name))
            self._template = name
        return self._template

    def empty_url(self) -> str:
        name = f"{self.prefix}_e{next(self._counter)}"
        self._create_database(name)
        return self._url(name)

    def create(self) -> str:
        name = f"{self.prefix}_{next(self._counter)}"
        self._create_database(name, template=self.template())
        return self._url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._template is not None:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)'))
        self._admin.dispose()
