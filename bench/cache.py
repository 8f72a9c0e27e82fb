"""What the benchmarks build once and keep: ledgers of a large history, keyed by the code that
builds them.

A cached ledger is a SQLite file in :func:`cache_dir` (``A6LEDGER_BENCH_CACHE``, default
``~/.cache/a6ledger-bench``) whose name holds :func:`source_key`: a digest of the source of the
functions that build it and of everything they run (``ledger/``, ``app/``, the migrations), so
any change to that code builds it again (``app/``'s server and routes build no history and are
left out). PostgreSQL gets the same rows by :func:`copy_to_postgresql`, kept as a template
database (:func:`postgresql_copy`); each run measures on a fresh copy of it.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, select, text

from bench.runner import Bench
from ledger.adapters.sql.db import begin_write, create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.orm import metadata


def cache_dir() -> Path:
    return Path(os.environ.get("A6LEDGER_BENCH_CACHE", Path.home() / ".cache" / "a6ledger-bench"))


IMPORT_PATH = ("__init__.py", "imports.py", "problems.py", "schemas_reports.py")
"""The modules of ``app/`` an import file is read by (with ``app/schemas/``), and all that
they import of ``app/``: the HTTP server and routes build no history."""


def source_key(*functions: Callable[..., Any]) -> str:
    """A digest of the source of ``functions``, of ``ledger/`` (the use cases, the import
    path, the adapters), of the modules of ``app/`` that read an import file and of the
    migrations."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for function in functions:
        digest.update(inspect.getsource(function).encode())
    for path in [
        *sorted((root / "ledger").rglob("*.py")),
        *(root / "app" / name for name in IMPORT_PATH),
        *sorted((root / "app" / "schemas").glob("*.py")),
        *sorted((root / "migrations" / "versions").glob("*.py")),
    ]:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def copy_to_postgresql(source: Path, url: str) -> None:
    """Migrate the empty PostgreSQL database ``url`` and copy into it every row of the SQLite
    ledger ``source``, table by table in the order of their foreign keys, with ``COPY``, in
    one service write transaction (the triggers fire per row, as for any insert)."""
    upgrade_to_head(url)
    reader = create_engine(f"sqlite:///{source}")
    writer = create_ledger_engine(url)
    try:
        with reader.connect() as rows, begin_write(writer) as conn:
            conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
            for table_ in metadata.sorted_tables:
                if table_.name == "alembic_version":
                    continue
                ordered = select(table_).order_by(*table_.primary_key.columns)
                present = conn.execute(select(table_.primary_key.columns[0]).limit(1)).first()
                if present is not None:  # rows the migrations wrote (projection_count)
                    keys = list(table_.primary_key.columns)
                    for stored in rows.execute(ordered).mappings():
                        where = [column == stored[column.name] for column in keys]
                        conn.execute(table_.update().where(*where).values(**stored))
                    continue
                names = ", ".join(f'"{column.name}"' for column in table_.columns)
                driver = conn.connection.driver_connection
                assert driver is not None
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f'COPY "{table_.name}" ({names}) FROM STDIN') as copy,
                ):
                    for row in rows.execute(ordered):
                        copy.write_row(tuple(row))
            conn.commit()
        with writer.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        reader.dispose()
        writer.dispose()


@contextmanager
def postgresql_copy(bench: Bench, template: str, source: Path) -> Iterator[tuple[str, float]]:
    """A PostgreSQL database of its own holding the rows of the SQLite ledger ``source``,
    dropped afterwards, made from the template database ``template`` (built from ``source``
    if missing); and the seconds this run spent building the template (0 if it existed)."""
    if bench.postgres_admin is None:
        raise RuntimeError("no PostgreSQL server")
    name = f"a6bench_{bench.module}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(bench.postgres_admin, isolation_level="AUTOCOMMIT")
    built = 0.0
    try:
        with admin.connect() as conn:
            known = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": template}
            ).first()
        if known is None:
            started = time.perf_counter()
            building = f"{template}_building"
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{building}"'))
            copy_to_postgresql(
                source,
                make_url(bench.postgres_admin).set(database=building).render_as_string(False),
            )
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))
            built = time.perf_counter() - started
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        try:
            yield make_url(bench.postgres_admin).set(database=name).render_as_string(False), built
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
