"""Cost of an issuance citing a Joint Committee decision against the issuances already made
under that decision and its authorization (issue 15), through the service layer.

History: one decision (one share of 10^9 units to THA01-GOV) and one authorization, then
``history`` issuances of one unit each citing the decision under the authorization. The measured
action is one more such issuance (one unit of work each). Two registries, one per history size,
are measured in alternation, so load on the machine falls on both.

Parameters: ``history`` (two sizes, in issuances under the one decision), ``samples``. Run alone
with ``python -m bench --only decisions``, or, to measure another checkout's code with this
module, ``python bench/decisions.py --history 500 2000`` with that checkout first on
``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import Engine

from bench.runner import Bench, median, p99, table
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, solar, thai_ndc_authorization
from ledger.registry import services

TITLE = "Issuance citing a Joint Committee decision against the issuances under it"
DEFAULTS = {"history": "500,2000", "samples": "30"}
SMOKE = {"history": "4,12", "samples": "2"}
TARGET = 1.2

AUTHORIZATION = "THA-JCM-2025-901"
DECISION = services.JcDecision(
    decision_id="JC-BENCH-1",
    ca_id="CA0001",
    registry_id="THA01",
    project_id="TH-BENCH",
    monitoring_from=date(2022, 1, 1),
    monitoring_to=date(2022, 12, 31),
    decided_on=date(2023, 1, 10),
    total=10**9,
    shares=(services.DecisionShare(services.Recipient.GOVERNMENT, "THA", "THA01-GOV", 10**9),),
)
ISSUANCE = services.Issuance(
    "THA01",
    solar("THA01", "THA", "CA0001", 2022),
    (services.IssuanceShare("THA01-GOV", 1, AUTHORIZATION),),
    decision_reference=DECISION.decision_id,
)
PER_TRANSACTION = 250


def build(url: str, issuances: int) -> Engine:
    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        authorization = replace(
            thai_ndc_authorization(), authorization_id=AUTHORIZATION, quantity=10**9
        )
        services.record_authorization(uow, authorization, "bench")
        services.record_decision(uow, DECISION, "bench")
        uow.commit()
    done = 0
    while done < issuances:
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            for _ in range(min(PER_TRANSACTION, issuances - done)):
                services.issue(uow, ISSUANCE, "bench")
                done += 1
            uow.commit()
    return engine


def one(engine: Engine) -> float:
    start = time.perf_counter()
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        services.issue(uow, ISSUANCE, "bench")
        uow.commit()
    return time.perf_counter() - start


def measure(small_url: str, large_url: str, small: int, large: int, samples: int) -> list[str]:
    """One row: medians (and p99) at each size, the ratio, and the building rate."""
    started = time.perf_counter()
    engines = {small: build(small_url, small), large: build(large_url, large)}
    built = time.perf_counter() - started
    times: dict[int, list[float]] = {small: [], large: []}
    for _ in range(samples):
        for size in (small, large):
            times[size].append(one(engines[size]))
    for engine in engines.values():
        engine.dispose()
    ratio = median(times[large]) / median(times[small])
    return [
        f"{median(times[small]) * 1000:.1f} ms (p99 {p99(times[small]) * 1000:.1f})",
        f"{median(times[large]) * 1000:.1f} ms (p99 {p99(times[large]) * 1000:.1f})",
        f"**{ratio:.2f}**",
        f"{(small + large) / built:,.0f} /s",
    ]


def section(bench: Bench) -> str:
    small, large = bench.ints("history")
    samples = int(bench.param("samples"))
    rows = []
    for backend in bench.backends():
        with bench.database(backend) as small_url, bench.database(backend) as large_url:
            rows.append((backend, *measure(small_url, large_url, small, large, samples)))
    return (
        table(
            (
                "database",
                f"after {small:,} issuances",
                f"after {large:,} issuances",
                "ratio",
                "history built at",
            ),
            rows,
        )
        + f"\n\nTarget: ratio ≤ {TARGET}. Medians of {samples} issuances at each size."
    )


def main(argv: Sequence[str] | None = None) -> None:
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python bench/decisions.py")
    parser.add_argument("--history", type=int, nargs=2, default=[500, 2000])
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)
    small, large = args.history
    with tempfile.TemporaryDirectory() as directory:
        urls = [f"sqlite:///{Path(directory) / name}.db" for name in ("small", "large")]
        print(" | ".join(measure(urls[0], urls[1], small, large, args.samples)))


if __name__ == "__main__":
    main()
