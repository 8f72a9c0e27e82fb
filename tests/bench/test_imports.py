"""Smoke run of bench/imports.py at a tiny size on this run's database: the history imports
whole (by the bulk path and row by row, and into a log already built), the bulk load of the same
bytes runs, and the reports have their ratio and flatness lines (timings are not checked here;
see docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import imports
from bench.runner import Bench
from tests.conftest import DatabaseFactory


def test_the_import_benchmark_imports_the_history_and_loads_the_same_bytes(
    backend: str, database_factory: DatabaseFactory
) -> None:
    results = {}
    for size in (3, 5):
        url = database_factory.create()
        try:
            results[(backend, size)] = imports.measure(url, size, batch=2)
        finally:
            database_factory.drop(url)
    # Set-up, one authorization and the issuances, and an import.batch entry per 2 rows.
    rows = len(imports.SETUP) + 1 + 5
    assert results[(backend, 5)]["entries"] == rows + -(-rows // 2)
    assert all(r["import"] > 0 and r["baseline"] > 0 for r in results.values())
    table = imports.report(results)
    assert f"| {backend} | 5 | {rows + -(-rows // 2)} |" in table
    assert f"{backend}: import rate at 5 rows / at 3 rows" in table


def test_the_row_path_and_an_import_into_a_built_log_run(
    backend: str,
    database_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = database_factory.create()
    try:
        row_path = imports.measure(url, 3, batch=2, bulk=False)
    finally:
        database_factory.drop(url)
    rows = len(imports.SETUP) + 1 + 3
    assert row_path["entries"] == rows + -(-rows // 2)
    if backend != "sqlite":
        return  # a built log on PostgreSQL is a template database: left to the bench run
    monkeypatch.setenv("A6LEDGER_BENCH_CACHE", str(tmp_path / "cache"))
    bench = Bench("imports", {}, True, None, tmp_path, ("sqlite",))
    rates = {size: imports.measure_on_log(bench, "sqlite", size, 3, 2) for size in (5, 9)}
    assert all(rate > 0 for rate in rates.values())
    assert "into a log of 9 entries / into one of 5" in imports.log_report(
        {("sqlite", size): rate for size, rate in rates.items()}, 3
    )


def test_the_transfer_history_imports_whole_by_both_paths(
    backend: str, database_factory: DatabaseFactory
) -> None:
    transfers = {}
    for bulk in (False, True):
        url = database_factory.create()
        try:
            transfers[(backend, bulk)] = imports.measure_transfers(url, 8, batch=3, bulk=bulk)
        finally:
            database_factory.drop(url)
    # 8 transfers, a use after every fourth.
    assert [rows for rows, _seconds in transfers.values()] == [10, 10]
    assert f"| {backend} | 10 |" in imports.transfers_report(transfers)
