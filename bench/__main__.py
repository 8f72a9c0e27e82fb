"""Log benchmarks, reported as ratios against baselines measured in the same run.

- append: appending N entries through the SQL log (hash chain + Merkle nodes, one transaction
  per batch) against a baseline of inserting the same canonical bytes into a plain table;
- proofs: inclusion and consistency proofs at size N (O(log n) stored reads) against a baseline
  of a single-row primary-key read, and against rebuilding the root from all leaves; and the
  proof at size N against the proof at size N/16 (logarithmic cost keeps this ratio near 1);
- registry: partial transfers between Parties (rules, block splits, first transfer and
  acquisition entries, projection) against the same number of bare log appends.

Run: ``python -m bench [--entries N] [--database-url URL]`` (default: a temporary SQLite file).
``python -m bench exports [--sizes N ...]`` runs the export and offline-verification benchmark
(``bench/exports.py``); ``python -m bench reports [--small N] [--large N]`` a Party's reports in
a small and a large registry with the same activity of the Party, against the scan of every
entry (``bench/reports.py``); ``make bench`` runs them all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, select

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log import merkle
from ledger.log.canonical import JsonValue, canonical_bytes


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    if sys.argv[1:2] == ["exports"]:
        from bench import exports

        exports.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["reports"]:
        from bench import reports

        reports.main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    parser.add_argument("--registry-database-url", help="a second empty database")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    baseline_table = Table(
        "bench_plain",
        MetaData(),
        Column("n", Integer, primary_key=True),
        Column("body", LargeBinary),
    )
    baseline_table.create(engine, checkfirst=True)

    payloads: list[dict[str, JsonValue]] = [
        {"n": i, "note": "benchmark"} for i in range(args.entries)
    ]
    start = time.perf_counter()
    for low in range(0, args.entries, args.batch):
        with engine.begin() as conn:
            conn.execute(
                insert(baseline_table),
                [
                    {"n": i, "body": canonical_bytes(payloads[i])}
                    for i in range(low, min(low + args.batch, args.entries))
                ],
            )
    plain = time.perf_counter() - start

    start = time.perf_counter()
    for low in range(0, args.entries, args.batch):
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            for i in range(low, min(low + args.batch, args.entries)):
                uow.log.append("bench.note", payloads[i], actor="bench")
            uow.commit()
    ledger = time.perf_counter() - start

    size = args.entries
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        log = uow.log
        pk_read = timed(
            lambda: uow.connection.execute(
                select(baseline_table.c.body).where(baseline_table.c.n == size // 2)
            ).all(),
            50,
        )
        inclusion = timed(lambda: log.inclusion_proof(size // 3, size), 50)
        small = size // 16
        inclusion_small = timed(lambda: log.inclusion_proof(small // 3, small), 50)
        consistency = timed(lambda: log.consistency_proof(size // 3, size), 50)
        root = timed(lambda: log.root(size), 50)
        leaves = [merkle.leaf_hash(b) for b in log.read_entries(0, size)]
        rebuild = timed(lambda: merkle.root_from_leaf_hashes(leaves), 3)
    engine.dispose()
    registry_url = args.registry_database_url or url.replace("bench.db", "registry.db")
    registry_ratio = registry_bench(registry_url, 200)
    print(f"entries: {size} ({url.split(':')[0]})")
    print(
        f"append: {size / ledger:,.0f} entries/s; ratio ledger/plain insert = {ledger / plain:.2f}"
    )
    print(f"inclusion proof: ratio to one primary-key read = {inclusion / pk_read:.2f}")
    print(f"consistency proof: ratio to one primary-key read = {consistency / pk_read:.2f}")
    print(f"root from stored nodes: ratio to one primary-key read = {root / pk_read:.2f}")
    print(
        f"root rebuilt from all leaves (in memory) / root from stored nodes = {rebuild / root:.0f}"
    )
    print(
        f"inclusion proof at {size} / at {small} entries = {inclusion / inclusion_small:.2f} "
        f"(size ratio {size / small:.0f})"
    )
    print(f"registry transfer (2 entries + projection) / 2 bare appends = {registry_ratio:.2f}")


def registry_bench(url: str, actions: int) -> float:
    """Partial transfers Thailand -> Japan (each splits a block and appends a first transfer and
    an acquisition) against the same number of bare log appends, one transaction each. Needs a
    fresh database at ``url``."""
    from ledger.demo import load_demo, solar
    from ledger.registry import services
    from ledger.registry.model import UnitSelection

    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        attributes = solar("THA01", "THA", "CA0001", 2022)
        share = services.IssuanceShare("THA01-GOV", actions * 10, "THA-JCM-2025-001")
        services.issue(uow, services.Issuance("THA01", attributes, (share,)), "bench")
        uow.commit()
    order = services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=7))
    start = time.perf_counter()
    for _ in range(actions):
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            services.transfer(uow, order, "bench")
            uow.commit()
    transfers = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(actions):
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            uow.log.append("bench.note", {"n": i}, actor="bench")
            uow.log.append("bench.note", {"n": i, "b": 1}, actor="bench")
            uow.commit()
    appends = time.perf_counter() - start
    # Japan's account now holds one block per transfer: using a unit from it should cost about
    # what a transfer from Thailand's single-block account costs (the blocks an action touches,
    # not the blocks the account holds).
    use = services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=1), use_year=2026)
    start = time.perf_counter()
    for _ in range(actions // 4):
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            services.use_for_ndc(uow, use, "bench")
            uow.commit()
    uses = (time.perf_counter() - start) / (actions // 4)
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        held = len(uow.projection.held_blocks("JPN01-GOV"))
    engine.dispose()
    print(
        f"use from an account of {held} blocks / transfer from a one-block account = "
        f"{uses / (transfers / actions):.2f}"
    )
    return transfers / appends


if __name__ == "__main__":
    main()
