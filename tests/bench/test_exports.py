"""Smoke run of bench/exports.py at a small size, in process: every step still runs and sees
every entry, and the report is written (timings are not checked here; see docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

from bench import exports


def test_every_step_of_the_exports_benchmark_runs(tmp_path: Path) -> None:
    database, archive = tmp_path / "log.db", tmp_path / "export.zip"
    exports.build_log(database, 300)
    results = {step: exports.child(step, database, archive) for step in exports.STEPS}
    assert {step: result["result"] for step, result in results.items()} == {
        "export": archive.stat().st_size,
        "hash-export": 300,
        "verify-export": 300,
        "hash-db": 300,
        "verify-db": 300,
    }
    assert all(float(str(result["peak_mb"])) > 0 for result in results.values())
    table = exports.report([300, 300], {300: results})
    assert "| 300 |" in table
    assert "Peak memory growth from 300 to 300 entries" in table
