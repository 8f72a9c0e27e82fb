"""The benchmark runner: modules, their parameters, the databases they measure on, the document.

A module listed in ``MODULES`` defines ``TITLE`` (its section's heading), ``DEFAULTS`` (its
parameters and their default values, as strings), ``SMOKE`` (the same at tiny sizes) and
``section(bench: Bench) -> str``, which returns the section's Markdown. ``Bench`` gives it
its parameters (``bench.param("name")``), whether this is a smoke run, and fresh databases
(``bench.database(backend)`` for each of ``bench.backends()``: a temporary SQLite file, a
PostgreSQL database when a server is reachable; each dropped after use).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.adapters.sql.db import normalize_database_url

# Each module is one section of docs/benchmarks.md, in this order.
MODULES = (
    "bench.log",
    "bench.actions",
    "bench.decisions",
    "bench.writes",
    "bench.exports",
    "bench.imports",
    "bench.reports",
)
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DOCUMENT = Path("docs/benchmarks.md")


@dataclass
class Bench:
    """What a module's ``run`` gets: its parameters and databases."""

    module: str
    params: dict[str, str]
    smoke: bool
    postgres_admin: str | None
    workdir: Path
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    notes: list[str] = field(default_factory=list)

    def param(self, name: str) -> str:
        return self.params[name]

    def ints(self, name: str) -> list[int]:
        return [int(part) for part in self.params[name].split(",") if part.strip()]

    @contextmanager
    def database(self, backend: str) -> Iterator[str]:
        """A fresh empty database (``sqlite`` or ``postgresql``), dropped afterwards."""
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(dir=self.workdir))
            try:
                yield f"sqlite:///{folder / 'bench.db'}"
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            return
        if self.postgres_admin is None:
            raise RuntimeError("no PostgreSQL server")
        name = f"a6bench_{self.module}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(self.postgres_admin, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield (
                    make_url(self.postgres_admin)
                    .set(database=name)
                    .render_as_string(hide_password=False)
                )
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def backends(self) -> list[str]:
        """The databases to measure on: those asked for (``--databases``), PostgreSQL only
        when a server is reachable."""
        reachable = ("sqlite",) if self.postgres_admin is None else ("sqlite", "postgresql")
        return [name for name in self.databases if name in reachable]


def reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception:
        return False
    return True


# --- figures -------------------------------------------------------------------------------


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def p99(samples: Sequence[float]) -> float:
    """The 99th percentile (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 99 // 100) - 1)]


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """The median of ``repeat`` timings of ``fn`` (seconds)."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return median(samples)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the document --------------------------------------------------------------------------


def parse_sets(values: Sequence[str]) -> dict[str, dict[str, str]]:
    sets: dict[str, dict[str, str]] = {}
    for value in values:
        name, _, setting = value.partition("=")
        module, _, param = name.partition(".")
        if not param or not _:
            raise SystemExit(f"--set takes module.param=value, not {value!r}")
        sets.setdefault(module, {})[param] = setting
    return sets


def run_module(module: ModuleType, bench: Bench) -> str:
    start = time.perf_counter()
    body = module.section(bench)
    elapsed = time.perf_counter() - start
    settings = ", ".join(f"`{k}={v}`" for k, v in bench.params.items())
    return (
        f"## {module.TITLE}\n\n_Module `{module.__name__}`; parameters {settings}; "
        f"{elapsed:.0f} s._\n\n{body.strip()}\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--set", action="append", default=[], metavar="MODULE.PARAM=VALUE")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the bench runs")
    parser.add_argument("--output", default=str(DOCUMENT))
    parser.add_argument("--postgresql", default=os.environ.get("A6LEDGER_BENCH_POSTGRES_URL"))
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    args = parser.parse_args(argv)
    names = [m for m in MODULES if not args.only or m.removeprefix("bench.") in args.only]
    sets = parse_sets(args.set)
    postgres = normalize_database_url(args.postgresql or DEFAULT_POSTGRES)
    databases = tuple(name.strip() for name in args.databases.split(",") if name.strip())
    admin = postgres if "postgresql" in databases and reachable(postgres) else None
    sections = []
    with tempfile.TemporaryDirectory(prefix="a6bench-") as workdir:
        for name in names:
            module = importlib.import_module(name)
            short = name.removeprefix("bench.")
            params = dict(module.SMOKE if args.smoke else module.DEFAULTS)
            unknown = set(sets.get(short, {})) - set(params)
            if unknown:
                raise SystemExit(f"{short} has no parameter {', '.join(sorted(unknown))}")
            params.update(sets.get(short, {}))
            bench = Bench(short, params, args.smoke, admin, Path(workdir), databases)
            print(f"bench: {short} ...", file=sys.stderr, flush=True)
            sections.append(run_module(module, bench))
    server = (
        "PostgreSQL and SQLite"
        if admin
        else "SQLite only (no PostgreSQL server asked for or reachable)"
    )
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python -m bench`); do not edit by hand. Every figure is a "
        "ratio against a baseline measured in the same run on the same machine, so load on the "
        "machine moves both sides.\n\n"
        f"_Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {server}"
        f"{'; smoke sizes' if args.smoke else ''}._\n"
    )
    document = "\n".join([header, *sections])
    if args.output == "-":
        print(document)
    else:
        Path(args.output).write_text(document, encoding="utf-8")
        print(f"bench: wrote {args.output}", file=sys.stderr)
