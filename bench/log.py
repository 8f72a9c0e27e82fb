"""Log benchmarks, reported as ratios against baselines measured in the same run.

- append: appending N entries through the SQL log (hash chain + Merkle nodes, one transaction
  per batch) against a baseline of inserting the same canonical bytes into a plain table;
- proofs: inclusion and consistency proofs at size N (O(log n) stored reads) against a baseline
  of a single-row primary-key read, and against rebuilding the root from all leaves; and the
  proof at size N against the proof at size N/16 (logarithmic cost keeps this ratio near 1);
- registry: partial transfers between Parties (rules, block splits, first transfer and
  acquisition entries, projection) against the same number of bare log appends.

Parameters: ``entries`` (log size), ``batch`` (entries per transaction), ``transfers``.
On SQLite.
"""

from __future__ import annotations

import time

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, select

from bench.runner import Bench, table, timed
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log import merkle
from ledger.log.canonical import JsonValue, canonical_bytes

TITLE = "Log: appends, proofs, registry transfers (library API, SQLite)"
DEFAULTS = {"entries": "20000", "batch": "500", "transfers": "200"}
SMOKE = {"entries": "64", "batch": "16", "transfers": "8"}


def section(bench: Bench) -> str:
    if "sqlite" not in bench.backends():
        return "Not run: this module measures on SQLite, which this run left out."
    with bench.database("sqlite") as url, bench.database("sqlite") as registry_url:
        return _run(
            url,
            registry_url,
            int(bench.param("entries")),
            int(bench.param("batch")),
            int(bench.param("transfers")),
        )


def _run(url: str, registry_url: str, entries: int, batch: int, transfers: int) -> str:
    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    baseline_table = Table(
        "bench_plain",
        MetaData(),
        Column("n", Integer, primary_key=True),
        Column("body", LargeBinary),
    )
    baseline_table.create(engine, checkfirst=True)

    payloads: list[dict[str, JsonValue]] = [{"n": i, "note": "benchmark"} for i in range(entries)]
    start = time.perf_counter()
    for low in range(0, entries, batch):
        with engine.begin() as conn:
            conn.execute(
                insert(baseline_table),
                [
                    {"n": i, "body": canonical_bytes(payloads[i])}
                    for i in range(low, min(low + batch, entries))
                ],
            )
    plain = time.perf_counter() - start

    start = time.perf_counter()
    for low in range(0, entries, batch):
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            for i in range(low, min(low + batch, entries)):
                uow.log.append("bench.note", payloads[i], actor="bench")
            uow.commit()
    ledger = time.perf_counter() - start

    size = entries
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
    transfer_ratio, use_ratio = registry_bench(registry_url, transfers)
    rows = [
        (
            "append (hash chain + Merkle nodes), per entry",
            "plain insert of the same bytes",
            f"{ledger / plain:.2f}",
            f"{size / ledger:,.0f} entries/s",
        ),
        ("inclusion proof at N", "one primary-key read", f"{inclusion / pk_read:.2f}", ""),
        ("consistency proof at N", "one primary-key read", f"{consistency / pk_read:.2f}", ""),
        ("root from stored nodes", "one primary-key read", f"{root / pk_read:.2f}", ""),
        (
            "root rebuilt from all leaves in memory",
            "root from stored nodes",
            f"{rebuild / root:.0f}",
            "",
        ),
        (
            f"inclusion proof at N={size}",
            f"inclusion proof at N/16={small}",
            f"{inclusion / inclusion_small:.2f}",
            "logarithmic: near 1",
        ),
        (
            "registry transfer (2 entries + projection)",
            "2 bare appends",
            f"{transfer_ratio:.2f}",
            "",
        ),
        (
            "use from an account of many blocks",
            "transfer from a one-block account",
            f"{use_ratio:.2f}",
            "the blocks an action touches, not those the account holds",
        ),
    ]
    return table(("measure", "baseline", "ratio", "note"), rows)


def registry_bench(url: str, actions: int) -> tuple[float, float]:
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
    for _ in range(max(1, actions // 4)):
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            services.use_for_ndc(uow, use, "bench")
            uow.commit()
    uses = (time.perf_counter() - start) / max(1, actions // 4)
    engine.dispose()
    return transfers / appends, uses / (transfers / actions)
