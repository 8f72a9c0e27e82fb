"""Smoke run of bench/imports.py at a tiny size on this run's database: the history imports
whole, the bulk load of the same bytes runs, and the report has its ratio and flatness lines
(timings are not checked here; see docs/benchmarks.md)."""

from __future__ import annotations

from bench import imports
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
