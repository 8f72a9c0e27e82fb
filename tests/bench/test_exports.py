"""Smoke run of bench/exports.py at a small size, in process: every step still runs and sees
every entry, and the report is written (timings are not checked here; see docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

from bench import bulk_log, exports


def test_every_step_of_the_exports_benchmark_runs(tmp_path: Path) -> None:
    database, archive = tmp_path / "log.db", tmp_path / "export.zip"
    exports.build_log(database, 300)
    results = {step: exports.child(step, database, archive) for step in exports.STEPS}
    assert {step: result["result"] for step, result in results.items()} == {
        "export": archive.stat().st_size,
        "hash-export": 300,
        "verify-export": 300,
        "hash-db": 300,
        "verify-db-chain": 300,
        "verify-db": 300,
    }
    assert all(float(str(result["peak_mb"])) > 0 for result in results.values())
    table = exports.report([300, 300], {300: results})
    assert "| 300 |" in table
    assert "Peak memory growth from 300 to 300 entries" in table


def test_the_bulk_built_log_is_one_verify_db_accepts(tmp_path: Path) -> None:
    """``bench.bulk_log`` (the 200,000-entry export test's log) writes the rows the adapter
    writes: the chain, every stored Merkle node and the (empty) index and projection check."""
    from ledger.adapters.sql.db import create_ledger_engine
    from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
    from ledger.adapters.sql.verify import verify_database

    database = tmp_path / "bulk.db"
    root = bulk_log.bulk_log(database, 1_100)
    engine = create_ledger_engine(f"sqlite:///{database}")
    try:
        report = verify_database(engine)
        assert (report.ok, report.tree_size) == (True, 1_100), report
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            assert uow.log.root(1_100) == root
            uow.log.append("log.note", {"n": 1_100}, actor="test")  # the adapter extends it
            uow.commit()
        assert verify_database(engine).ok
    finally:
        engine.dispose()
